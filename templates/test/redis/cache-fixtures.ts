/**
 * Cache instances the way app instances have them: each with its own Redis
 * connections, store (the invalidation bus) and metrics registry.
 */
import { loadConfig } from '../../src/config.js';
import { createCaches, type Caches, type CacheSettings } from '../../src/scaling/cache/index.js';
import { createMetrics, type Metrics } from '../../src/scaling/metrics/index.js';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { RedisStore } from '../../src/scaling/store/redis-store.js';
import { startCluster, startStandalone, testUsers, type RedisCluster, type RedisServerOptions, type StandaloneRedis } from '../support/redis-servers.js';
import { makeTlsFiles } from '../support/tls-certificates.js';

export type ConnectedSettings = Exclude<RedisSettings, { mode: 'none' }>;
export type Kind = 'standalone' | 'cluster';

export interface RedisBackend {
  kind: Kind;
  settings: ConnectedSettings;
  standalone?: StandaloneRedis;
  cluster?: RedisCluster;
  close(): Promise<void>;
}

/**
 * A Redis to run the cache on. `secure`: the project's own setup over TLS
 * (redis-start.sh, its users), and the cache connects as the `app` user.
 */
export async function startBackend(kind: Kind, secure = false): Promise<RedisBackend> {
  const options: RedisServerOptions = secure ? { tls: await makeTlsFiles(), project: testUsers(), requireClientCert: kind === 'standalone' } : {};
  if (kind === 'standalone') {
    const standalone = await startStandalone(options);
    return {
      kind,
      standalone,
      settings: readRedisSettings(standalone.appEnv()) as ConnectedSettings,
      close: () => standalone.close(),
    };
  }
  const cluster = await startCluster(options);
  return {
    kind,
    cluster,
    settings: readRedisSettings(cluster.appEnv()) as ConnectedSettings,
    close: () => cluster.close(),
  };
}

export interface CacheInstance {
  name: string;
  connections: RedisConnections;
  store: RedisStore;
  caches: Caches;
  metrics: Metrics;
  close(): Promise<void>;
}

/** A cache instance whose Redis connection is up (as an app instance is once it reports ready). */
export async function connectedCacheInstance(backend: RedisBackend, name: string, settings: Partial<CacheSettings> = {}): Promise<CacheInstance> {
  const instance = cacheInstance(backend, name, settings);
  if (!(await instance.connections.ping(10_000))) throw new Error(`cache instance ${name}: Redis did not answer PING`);
  // A cluster client connects to each master on first use; on a loaded machine
  // that first connect can outlast the cache's L2 timeout, so do it up front.
  const command = instance.connections.command;
  if ('nodes' in command) await Promise.all(command.nodes('master').map((node) => node.ping()));
  return instance;
}

export function cacheInstance(backend: RedisBackend, name: string, settings: Partial<CacheSettings> = {}): CacheInstance {
  const metrics = createMetrics({ instanceId: name, defaultMetrics: false });
  const connections = createRedisConnections(backend.settings, { metrics });
  // As in app.ts: the bus uses sharded pub/sub on a cluster.
  const store = new RedisStore(connections, { shardedPubSub: true, subscriberName: 'cache-invalidation' });
  const caches = createCaches({ instanceId: name, redis: connections.command, pubsub: store, settings: { ...loadConfig({}).cache, ...settings }, metrics });
  return {
    name,
    connections,
    store,
    caches,
    metrics,
    async close() {
      await caches.close();
      await connections.quit();
    },
  };
}

export async function counterValue(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
