import type { RealtimeTransport } from './realtime-transport.js';
import type { PublishOptions, VoltRealtime } from './types.js';

/**
 * Channel conventions shared by the kernel and every transport:
 * - `realtime.publish(channel, data, { type })` -> event `{ channel, type (default 'message'), data }`;
 * - `realtime.broadcast(data)` -> channel `broadcast`, which every client receives;
 * - `realtime.revalidate(keys)` / `response.revalidate(keys)` -> channel `revalidate`,
 *   type `revalidate`, data `{ keys: string[] }`, where a key names a `stream: true`
 *   query as `<controller name>.<action name>` (e.g. `notes.list`). A client refetches
 *   the queries it shows whose key is listed.
 */
export const BROADCAST_CHANNEL = 'broadcast';
export const REVALIDATE_CHANNEL = 'revalidate';
export const REVALIDATE_EVENT = 'revalidate';
export const DEFAULT_EVENT = 'message';

export interface RevalidatePayload {
  keys: string[];
}

class TransportRealtime implements VoltRealtime {
  readonly enabled = true;
  constructor(private readonly transport: RealtimeTransport) {}

  /** Life of an event, step 2. */
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<string | null> {
    return this.transport.publish(channel, options?.type ?? DEFAULT_EVENT, data);
  }

  to(channel: string) {
    return { publish: (data: unknown, options?: PublishOptions) => this.publish(channel, data, options) };
  }

  broadcast(data: unknown, options?: PublishOptions): Promise<string | null> {
    return this.publish(BROADCAST_CHANNEL, data, options);
  }

  revalidate(keys: string | readonly string[]): Promise<string | null> {
    const payload: RevalidatePayload = { keys: typeof keys === 'string' ? [keys] : [...keys] };
    return this.transport.publish(REVALIDATE_CHANNEL, REVALIDATE_EVENT, payload);
  }
}

const resolvedNull = (): Promise<null> => Promise.resolve(null);

/** Without a transport every publish is a no-op, so features work unchanged in a bare setup. */
export const disabledRealtime: VoltRealtime = {
  enabled: false,
  publish: resolvedNull,
  to: () => ({ publish: resolvedNull }),
  broadcast: resolvedNull,
  revalidate: resolvedNull,
};

export function createRealtime(transport: RealtimeTransport | null | undefined): VoltRealtime {
  return transport ? new TransportRealtime(transport) : disabledRealtime;
}
