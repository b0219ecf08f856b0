import type { StoreAdapter, StoreMessageHandler } from '../../volt/store.js';

interface Entry {
  /** JSON text, so a stored value is a snapshot exactly like a Redis value. */
  json: string;
  /** Epoch ms; 0 = no expiry. */
  expiresAt: number;
}

/** Writes between two sweeps of expired keys (amortized; no timers to clean up). */
const SWEEP_EVERY_WRITES = 1024;

/**
 * In-process StoreAdapter with the same observable semantics as the Redis
 * store: values are JSON snapshots, `set` without `ttl` clears an expiry (SET),
 * `increment` keeps it (INCRBY) and fails on a non-integer, `expire` with
 * `ttl <= 0` deletes the key (EXPIRE), and pub/sub messages arrive as strings
 * (non-strings are JSON-encoded), asynchronously, in publish order.
 * It is the embedded default when no Redis is configured; it is not shared
 * between processes.
 */
export class MemoryStore implements StoreAdapter {
  private readonly entries = new Map<string, Entry>();
  private readonly channels = new Map<string, Set<StoreMessageHandler>>();
  private writesSinceSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async get<T = unknown>(key: string): Promise<T | null> {
    const entry = this.live(key);
    return entry ? (JSON.parse(entry.json) as T) : null;
  }

  async set(key: string, value: unknown, options?: { ttl?: number }): Promise<void> {
    if (value === undefined) throw new TypeError(`MemoryStore.set(${key}): value is undefined`);
    const ttl = options?.ttl;
    if (ttl !== undefined && !(ttl > 0)) throw new RangeError(`MemoryStore.set(${key}): ttl must be > 0 seconds`);
    this.entries.set(key, { json: JSON.stringify(value), expiresAt: ttl ? this.now() + ttl * 1000 : 0 });
    this.wrote();
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async has(key: string): Promise<boolean> {
    return this.live(key) !== undefined;
  }

  async increment(key: string, by = 1): Promise<number> {
    if (!Number.isInteger(by)) throw new TypeError(`MemoryStore.increment(${key}): step must be an integer`);
    const entry = this.live(key);
    let current = 0;
    if (entry) {
      const parsed: unknown = JSON.parse(entry.json);
      // Redis INCRBY accepts an integer or a string holding one.
      const asNumber = typeof parsed === 'string' && /^-?\d+$/.test(parsed) ? Number(parsed) : parsed;
      if (typeof asNumber !== 'number' || !Number.isInteger(asNumber)) {
        throw new TypeError(`MemoryStore.increment(${key}): value is not an integer`);
      }
      current = asNumber;
    }
    const next = current + by;
    if (entry) entry.json = String(next);
    else {
      this.entries.set(key, { json: String(next), expiresAt: 0 });
      this.wrote();
    }
    return next;
  }

  async expire(key: string, ttl: number): Promise<void> {
    const entry = this.live(key);
    if (!entry) return;
    if (!(ttl > 0)) this.entries.delete(key);
    else entry.expiresAt = this.now() + ttl * 1000;
  }

  async publish(channel: string, message: unknown): Promise<void> {
    const handlers = this.channels.get(channel);
    if (!handlers || handlers.size === 0) return;
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    // Snapshot: a handler that unsubscribes during delivery must not skip others.
    const targets = [...handlers];
    queueMicrotask(() => {
      for (const handler of targets) {
        try {
          handler(text, channel);
        } catch {
          // A failing subscriber must not stop delivery to the others (as with Redis).
        }
      }
    });
  }

  async subscribe(channel: string, handler: StoreMessageHandler): Promise<void> {
    let handlers = this.channels.get(channel);
    if (!handlers) this.channels.set(channel, (handlers = new Set()));
    handlers.add(handler);
  }

  async unsubscribe(channel: string, handler?: StoreMessageHandler): Promise<void> {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    if (handler) handlers.delete(handler);
    if (!handler || handlers.size === 0) this.channels.delete(channel);
  }

  /**
   * Parity with `RedisStore.onResubscribe`: an in-process channel never loses
   * messages, so the listener is never called.
   */
  onResubscribe(_listener: () => void): () => void {
    return () => undefined;
  }

  /** Number of live keys (expired ones are not counted). */
  size(): number {
    this.sweep();
    return this.entries.size;
  }

  /** Drops every key and subscription. */
  async close(): Promise<void> {
    this.entries.clear();
    this.channels.clear();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private wrote(): void {
    if (++this.writesSinceSweep >= SWEEP_EVERY_WRITES) this.sweep();
  }

  private sweep(): void {
    this.writesSinceSweep = 0;
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) this.entries.delete(key);
    }
  }
}

export function createMemoryStore(): MemoryStore {
  return new MemoryStore();
}
