import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMetrics } from '../../src/scaling/metrics/index.js';
import { createRedisConnections, onReconnect, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { parsePrometheusText } from '../support/prometheus-text.js';

type ClusterSettings = Extract<RedisSettings, { mode: 'cluster' }>;
import { startCluster, startStandalone, type RedisCluster, type StandaloneRedis } from '../support/redis-servers.js';

describe('redis connections: standalone', () => {
  let redis: StandaloneRedis;
  let connections: RedisConnections;

  beforeAll(async () => {
    redis = await startStandalone();
    connections = createRedisConnections({ mode: 'standalone', url: redis.url }, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await connections?.quit();
    await redis?.close();
  });

  it('runs commands and answers the health PING', async () => {
    await connections.command.set('greeting', 'hello');
    expect(await connections.command.get('greeting')).toBe('hello');
    expect(await connections.ping()).toBe(true);
  });

  it('reports down within the timeout while Redis is stopped, then recovers and signals the reconnect', async () => {
    let reconnects = 0;
    const stop = onReconnect(connections.command, () => reconnects++);
    await redis.node.stop();
    const started = Date.now();
    expect(await connections.ping(300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
    await redis.node.start();
    await expect.poll(() => connections.ping(300), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => reconnects, { timeout: 5_000 }).toBe(1);
    stop();
  });

  it('gives subscribers their own connection', async () => {
    const subscriber = connections.subscriber('test');
    const received: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => received.push(message));
    await subscriber.subscribe('news');
    await connections.command.set('greeting', 'hello');
    await connections.command.publish('news', 'one');
    await expect.poll(() => received).toEqual(['one']);
    expect(await connections.command.get('greeting')).toBe('hello');
  });
});

describe('db_connections_active', () => {
  let redis: StandaloneRedis;
  let connections: RedisConnections;
  const metrics = createMetrics({ instanceId: 'connections-test', defaultMetrics: false });

  /** role -> state -> value, as Prometheus would scrape it. */
  async function scrape(): Promise<Record<string, Record<string, number>>> {
    const table: Record<string, Record<string, number>> = {};
    for (const sample of parsePrometheusText(await metrics.registry.metrics()).samples) {
      // The roles this test opens (a job worker's connection, not opened here, is role "worker").
      if (sample.name !== 'db_connections_active' || !['command', 'subscriber'].includes(sample.labels.role!)) continue;
      (table[sample.labels.role!] ??= {})[sample.labels.state!] = sample.value;
    }
    return table;
  }
  const only = (state: string, count: number) => ({ ready: 0, connecting: 0, reconnecting: 0, closed: 0, [state]: count });

  beforeAll(async () => {
    redis = await startStandalone();
    connections = createRedisConnections({ mode: 'standalone', url: redis.url }, { maxRetriesPerRequest: 1, metrics });
  });
  afterAll(async () => {
    await connections?.quit();
    await redis?.close();
  });

  it('counts the connections by role and state through a Redis outage and the final quit', async () => {
    await expect.poll(scrape).toEqual({ command: only('ready', 1), subscriber: only('ready', 0) });
    const first = connections.subscriber('first');
    const second = connections.subscriber('second');
    await first.subscribe('a');
    await second.subscribe('b');
    expect(await scrape()).toEqual({ command: only('ready', 1), subscriber: only('ready', 2) });

    await redis.node.stop();
    await expect.poll(scrape, { timeout: 5_000 }).toEqual({ command: only('reconnecting', 1), subscriber: only('reconnecting', 2) });
    await redis.node.start();
    await expect.poll(scrape, { timeout: 15_000 }).toEqual({ command: only('ready', 1), subscriber: only('ready', 2) });

    await connections.quit();
    await expect.poll(scrape).toEqual({ command: only('closed', 1), subscriber: only('closed', 2) });
  });
});

describe('redis connections: cluster', () => {
  let cluster: RedisCluster;
  let connections: RedisConnections;

  beforeAll(async () => {
    cluster = await startCluster();
    connections = createRedisConnections(readRedisSettings({ REDIS_CLUSTER_NODES: cluster.nodeList }) as ClusterSettings);
  }, 60_000);
  afterAll(async () => {
    await connections?.quit();
    await cluster?.close();
  });

  it('spreads keys over the masters', async () => {
    await Promise.all(Array.from({ length: 100 }, (_, i) => connections.command.set(`key:${i}`, String(i))));
    const values = await Promise.all(Array.from({ length: 100 }, (_, i) => connections.command.get(`key:${i}`)));
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });

  it('delivers sharded pub/sub through a sharded subscriber', async () => {
    const subscriber = connections.subscriber('sharded', { sharded: true });
    const received: string[] = [];
    subscriber.on('smessage', (_channel: string, message: string) => received.push(message));
    await subscriber.ssubscribe('{room}:events');
    await connections.command.spublish('{room}:events', 'hi');
    await expect.poll(() => received).toEqual(['hi']);
  });

  it('rides through a master failover without failed commands, under concurrent load', async () => {
    // Eight workers writing and reading keys on every master at once: with
    // commands from many slots in flight, a failover mixes redirections with
    // successes, the case where batched (auto-pipelined) cluster commands
    // surface raw MOVED errors instead of following them.
    const master = await cluster.masterFor('failover:0');
    const failures: string[] = [];
    const written = new Map<string, number>();
    let running = true;
    const worker = async (id: number) => {
      for (let round = 0; running; round++) {
        const key = `failover:${(id * 7919 + round) % 64}`;
        try {
          const value = await connections.command.incr(key);
          written.set(key, Math.max(written.get(key) ?? 0, value));
          await connections.command.get(key);
        } catch (error) {
          failures.push((error as Error).message);
          // A client that rejects at once must not starve the event loop.
          await sleep(10);
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, id) => worker(id));
    let failoverMs: number;
    try {
      await sleep(300);
      ({ failoverMs } = await cluster.killMaster(master));
      await sleep(500);
    } finally {
      // Stop the load even when the failover itself fails, so the test ends.
      running = false;
      await Promise.all(workers);
    }
    expect(failoverMs).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    for (const [key, value] of written) expect(Number(await connections.command.get(key))).toBeGreaterThanOrEqual(value);
  });
});
