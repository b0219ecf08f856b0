/**
 * The store adapter contract Volt.js gives `Volt.context().store(adapter)`.
 * Implementations: `scaling/store/memory-store.ts` (embedded default) and
 * `scaling/store/redis-store.ts` (standalone or Cluster).
 */
export type StoreMessageHandler = (message: string, channel: string) => void;

export interface StoreAdapter {
  get<T = unknown>(key: string): Promise<T | null>;
  /** `ttl` in seconds, as in Volt.js. */
  set(key: string, value: unknown, options?: { ttl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
  has(key: string): Promise<boolean>;
  increment(key: string, by?: number): Promise<number>;
  /** `ttl` in seconds. */
  expire(key: string, ttl: number): Promise<void>;
  publish(channel: string, message: unknown): Promise<void>;
  subscribe(channel: string, handler: StoreMessageHandler): Promise<void>;
  unsubscribe(channel: string, handler?: StoreMessageHandler): Promise<void>;
}
