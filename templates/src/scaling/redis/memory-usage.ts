import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './connections.js';

/** One Redis server's memory against its limit, as it counts it for eviction. */
export interface RedisMemoryUsage {
  /** `host:port` */
  node: string;
  usedBytes: number;
  /** 0 when no maxmemory is set. */
  maxBytes: number;
}

/**
 * `INFO memory` of the standalone server or of every cluster master (replicas
 * hold the same data). A node that does not answer within `timeoutMs` is
 * left out, so a scrape never waits on a sick Redis.
 */
export async function readRedisMemory(client: RedisClient, timeoutMs = 1_000): Promise<RedisMemoryUsage[]> {
  const servers: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const reports = await Promise.all(servers.map((server) => memoryOf(server, timeoutMs)));
  return reports.filter((report): report is RedisMemoryUsage => report !== undefined);
}

async function memoryOf(server: Redis, timeoutMs: number): Promise<RedisMemoryUsage | undefined> {
  if (server.status !== 'ready') return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, undefined);
  });
  try {
    const info = await Promise.race([server.info('memory'), timeout]);
    if (info === undefined) return undefined;
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    // Replication and AOF buffers do not count against maxmemory.
    const usedBytes = field('used_memory') - field('mem_not_counted_for_evict');
    return { node: `${server.options.host}:${server.options.port}`, usedBytes, maxBytes: field('maxmemory') };
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
