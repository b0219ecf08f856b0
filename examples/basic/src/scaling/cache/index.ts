import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis/connections.js';
import type { Logger } from '../logger.js';
import { DistributedCache, type CacheMetrics, type CacheTimings } from './distributed-cache.js';
import { InvalidationBus, type PubSub } from './invalidation-bus.js';
import { RedisL2 } from './l2.js';

export { DistributedCache, type EntryOptions, type CacheMetrics } from './distributed-cache.js';
export { InvalidationBus, type PubSub } from './invalidation-bus.js';

/** `config.ts` holds the values (`CACHE_*`); namespaces may override all but `l2TimeoutMs`. */
export interface CacheSettings extends CacheTimings {
  /** Per namespace: most entries in L1. */
  l1MaxEntries: number;
  /** Per namespace: most bytes of serialized values in L1. */
  l1MaxBytes: number;
  /** Longest wait on Redis for one cache call before going on without it. */
  l2TimeoutMs: number;
}

export interface CachesOptions {
  /** Part of the origin id on invalidation messages (a random suffix makes it unique per process). */
  instanceId: string;
  /** Redis command connection for L2; without it the caches are L1 only (memory mode). */
  redis?: RedisClient | undefined;
  /** Carries invalidations between instances: the app's store (Redis, or memory in one process). */
  pubsub?: PubSub | undefined;
  settings: CacheSettings;
  metrics?: CacheMetrics | undefined;
  logger?: Logger | undefined;
}

export interface Caches {
  readonly mode: 'redis' | 'memory';
  /** The cache of one namespace, created on first use; `overrides` apply only then. */
  namespace<T = unknown>(name: string, overrides?: Partial<Omit<CacheSettings, 'l2TimeoutMs'>>): DistributedCache<T>;
  /** Adds pending L1 hit counts to the metrics (runs every second on its own). */
  flushMetrics(): void;
  /** Leaves the invalidation channels; connections are closed by their owner. */
  close(): Promise<void>;
}

/**
 * The caches of one app instance. They share the L2 guard (one timeout, one
 * error counter) and the invalidation bus; each namespace has its own L1.
 */
export function createCaches(options: CachesOptions): Caches {
  const settings = options.settings;
  const errors = options.redis ? options.metrics?.redisCommandErrorsTotal.labels({ connection: 'cache' }) : undefined;
  errors?.inc(0);
  let lastLogged = 0;
  const l2 = options.redis
    ? new RedisL2({
        client: options.redis,
        timeoutMs: settings.l2TimeoutMs,
        onError: (error) => {
          errors?.inc();
          // At most one line a second: with Redis down, every request would log.
          const now = Date.now();
          if (now - lastLogged >= 1_000) {
            lastLogged = now;
            options.logger?.warn({ err: error }, 'cache redis call failed; serving without L2');
          }
        },
      })
    : undefined;
  const bus = options.pubsub ? new InvalidationBus(options.pubsub, `${options.instanceId}#${randomBytes(4).toString('hex')}`) : undefined;
  const namespaces = new Map<string, DistributedCache<unknown>>();
  const flushMetrics = () => {
    for (const cache of namespaces.values()) cache.flushMetrics();
  };
  // L1 hits reach the metric in batches; this bounds how late a scrape sees them.
  const flushTimer = options.metrics ? setInterval(flushMetrics, 1_000).unref() : undefined;

  return {
    mode: l2 ? 'redis' : 'memory',
    namespace<T>(name: string, overrides: Partial<Omit<CacheSettings, 'l2TimeoutMs'>> = {}) {
      let cache = namespaces.get(name);
      if (!cache) {
        const merged = { ...settings, ...overrides };
        const l1 = { maxEntries: merged.l1MaxEntries, maxBytes: merged.l1MaxBytes };
        cache = new DistributedCache<unknown>({ ...merged, namespace: name, l1, l2, bus, metrics: options.metrics, logger: options.logger });
        namespaces.set(name, cache);
      }
      return cache as DistributedCache<T>;
    },
    flushMetrics,
    async close() {
      clearInterval(flushTimer);
      await Promise.all([...namespaces.values()].map((cache) => cache.close()));
      namespaces.clear();
    },
  };
}
