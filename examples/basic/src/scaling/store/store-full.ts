import { VoltError } from '../../volt/errors.js';

/**
 * Redis is at `maxmemory` and has no cache entry (key with a TTL) left to
 * evict: it refuses the write whole (OOM), so nothing of it was applied.
 * Answered as 503 `STORE_FULL` by the kernel; reads keep working.
 */
export class StoreFullError extends VoltError {
  constructor(cause?: unknown) {
    super('STORE_FULL', 'The store is full: nothing was written. Try again later.', { status: 503, cause });
    this.name = 'StoreFullError';
  }
}

/** Redis' reply to a write at `maxmemory` with nothing left to evict. */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('OOM ');
}

/**
 * Runs a Redis write; an OOM refusal becomes a StoreFullError (and `onFull`
 * is told, for the metric), anything else is rethrown as it is.
 */
export async function writeOrFull<T>(write: () => Promise<T>, onFull?: () => void): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isOutOfMemory(error)) throw error;
    onFull?.();
    throw new StoreFullError(error);
  }
}
