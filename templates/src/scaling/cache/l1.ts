import { LRUCache } from 'lru-cache';

/** One value in the process-local layer, with the times it turns stale and dead. */
export interface L1Entry {
  value: unknown;
  /** Epoch ms: served as fresh before this. */
  freshUntil: number;
  /** Epoch ms: served stale (while a refresh runs) before this, then dropped. */
  staleUntil: number;
  /** Bytes of the serialized value: what `maxBytes` bounds. */
  size: number;
  /** The value as a settled promise, made on the first async hit and reused by the next ones. */
  resolved?: Promise<unknown>;
}

export interface L1Options {
  /** Most entries kept (least recently used go first). */
  maxEntries: number;
  /** Most bytes of serialized values kept; a bigger single value is not cached in L1. */
  maxBytes: number;
}

/**
 * The in-process layer: `lru-cache` bounded both by entry count and by the
 * serialized size of values (counting entries alone lets a few big values eat
 * the heap), each entry dropped at the end of its grace period.
 */
export class L1Cache {
  private readonly lru: LRUCache<string, L1Entry>;

  constructor(
    options: L1Options,
    private readonly now: () => number = Date.now,
  ) {
    if (!(Number.isInteger(options.maxEntries) && options.maxEntries > 0)) {
      throw new RangeError(`cache L1: maxEntries must be a positive integer, got ${options.maxEntries}`);
    }
    if (!(Number.isInteger(options.maxBytes) && options.maxBytes > 0)) {
      throw new RangeError(`cache L1: maxBytes must be a positive integer, got ${options.maxBytes}`);
    }
    this.lru = new LRUCache<string, L1Entry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      maxEntrySize: options.maxBytes,
      sizeCalculation: (entry) => Math.max(1, entry.size),
    });
  }

  /** The entry if it is still within its grace period (`now` saves a clock read on the hot path). */
  get(key: string, now: number = this.now()): L1Entry | undefined {
    const entry = this.lru.get(key);
    if (entry === undefined) return undefined;
    if (entry.staleUntil <= now) {
      this.lru.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, entry: L1Entry): void {
    const ttl = entry.staleUntil - this.now();
    if (ttl <= 0) {
      this.lru.delete(key);
      return;
    }
    this.lru.set(key, entry, { ttl });
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  get entries(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}
