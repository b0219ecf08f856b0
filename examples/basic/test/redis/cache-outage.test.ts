/**
 * The cache never fails a call because of Redis: a cluster master killed in
 * the middle of a read/write loop, and a standalone Redis stopped entirely
 * then started again (real processes, real signals).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cacheInstance, connectedCacheInstance, counterValue, startBackend, type CacheInstance, type RedisBackend } from './cache-fixtures.js';

interface LoopReport {
  calls: number;
  failures: string[];
  longestStallMs: number;
}

/** Workers calling getOrSet/set/get/delete on keys spread over every shard, until stopped. */
function cacheLoop(instances: CacheInstance[], namespace: string, workers = 8) {
  const report: LoopReport = { calls: 0, failures: [], longestStallMs: 0 };
  let running = true;
  const caches = instances.map((instance) => instance.caches.namespace<number>(namespace, { ttlMs: 200, graceMs: 1_000 }));
  const done = Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      let i = 0;
      while (running) {
        const cache = caches[(worker + i) % caches.length]!;
        const key = `k${(worker * 31 + i) % 60}`;
        const started = performance.now();
        try {
          if (i % 10 === 0) await cache.set(key, i);
          else if (i % 25 === 0) await cache.delete(key);
          else if (i % 7 === 0) await cache.get(key);
          else await cache.getOrSet(key, () => i);
          report.calls++;
        } catch (error) {
          report.failures.push((error as Error).message);
        }
        report.longestStallMs = Math.max(report.longestStallMs, performance.now() - started);
        i++;
        // Yield to the event loop between calls that L1 answers synchronously.
        if (i % 50 === 0) await sleep(0);
      }
    }),
  );
  return {
    report,
    async stop() {
      running = false;
      await done;
      return report;
    },
  };
}

describe('cache during a cluster master failover', () => {
  let backend: RedisBackend;
  let instances: CacheInstance[];

  beforeAll(async () => {
    backend = await startBackend('cluster');
    instances = ['a', 'b'].map((name) => cacheInstance(backend, name));
    await Promise.all(instances.map((instance) => instance.connections.ping(5_000)));
  }, 60_000);
  afterAll(async () => {
    for (const instance of instances ?? []) await instance.close();
    await backend?.close();
  });

  it('fails 0 cache calls while a master is killed and its replica takes over', async () => {
    const cluster = backend.cluster!;
    // Stalls of the test process itself (a loaded machine) are reported apart from the cache's.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const loop = cacheLoop(instances, 'failover');
    let failoverMs: number;
    try {
      await sleep(500);
      const victim = await cluster.masterFor((await instances[0]!.caches.namespace<number>('failover').redisKey('k1'))!);
      ({ failoverMs } = await cluster.killMaster(victim));
      await sleep(1_000);
    } finally {
      // Stop the load even when the failover itself fails, so the test ends.
      await loop.stop();
    }
    const report = loop.report;
    loopDelay.disable();
    const errors = await counterValue(instances[0]!.metrics.redisCommandErrorsTotal, { connection: 'cache' });
    console.log(
      `[cluster failover] ${report.calls} cache calls, ${report.failures.length} failed, longest stall ${report.longestStallMs.toFixed(0)} ms, ` +
        `failover ${failoverMs} ms, L2 errors counted on instance a: ${errors}, ` +
        `longest event-loop delay of the test process ${(loopDelay.max / 1e6).toFixed(0)} ms`,
    );
    expect(report.failures).toEqual([]);
    expect(report.calls).toBeGreaterThan(1_000);
    // Bounded by the L2 timeout, not by the failover.
    expect(report.longestStallMs).toBeLessThan(failoverMs);

    // L2 works again on the promoted replica: a write from one instance reaches a new one.
    const a = instances[0]!.caches.namespace<string>('after-failover');
    const late = await connectedCacheInstance(backend, 'late');
    try {
      const fromLate = late.caches.namespace<string>('after-failover');
      let attempt = 0;
      await expect
        .poll(
          async () => {
            const value = `written after ${++attempt}`;
            await a.set('k1', value);
            fromLate.clearLocal();
            return (await fromLate.getOrSet('k1', () => 'loader')) === value;
          },
          { timeout: 15_000, interval: 300 },
        )
        .toBe(true);
    } finally {
      await late.close();
    }
  });
});

describe('cache with Redis stopped entirely (standalone)', () => {
  let backend: RedisBackend;
  let instance: CacheInstance;

  beforeAll(async () => {
    backend = await startBackend('standalone');
    instance = cacheInstance(backend, 'solo', { l2TimeoutMs: 200 });
    await instance.connections.ping(5_000);
  }, 60_000);
  afterAll(async () => {
    await instance?.close();
    await backend?.close();
  });

  it('serves L1 (stale within grace too), runs the loader for the rest, counts errors, and recovers', async () => {
    const cache = instance.caches.namespace<string>('outage', { ttlMs: 300, graceMs: 60_000 });
    await cache.ready;
    expect(await cache.getOrSet('cached', () => 'v1')).toBe('v1');
    expect(await cache.getOrSet('soon-stale', () => 's1')).toBe('s1');
    const errorsBefore = await counterValue(instance.metrics.redisCommandErrorsTotal, { connection: 'cache' });

    await backend.standalone!.node.stop();
    await sleep(400); // past the ttl: both entries are now stale, within grace

    const timings: number[] = [];
    const timed = async <R>(call: () => Promise<R>) => {
      const started = performance.now();
      const result = await call();
      timings.push(performance.now() - started);
      return result;
    };
    // Stale values come from L1 at once; the background refresh fails quietly... or succeeds with the loader.
    expect(await timed(() => cache.getOrSet('cached', () => Promise.reject(new Error('source down'))))).toBe('v1');
    // Nothing cached: the loader runs and its value is returned.
    expect(await timed(() => cache.getOrSet('uncached', () => 'from loader'))).toBe('from loader');
    for (let i = 0; i < 50; i++) {
      expect(await timed(() => cache.getOrSet('soon-stale', () => Promise.reject(new Error('source down'))))).toBe('s1');
      await timed(() => cache.set(`w${i}`, 'x'));
      await timed(() => cache.delete(`w${i}`));
    }
    await cache.settled();
    const slowest = Math.max(...timings);
    const errors = (await counterValue(instance.metrics.redisCommandErrorsTotal, { connection: 'cache' })) - errorsBefore;
    console.log(`[redis down] ${timings.length} cache calls, slowest ${slowest.toFixed(0)} ms, L2 errors counted ${errors}`);
    expect(slowest).toBeLessThan(200 + 150);
    expect(errors).toBeGreaterThan(0);

    let cleared = false;
    const cachedBefore = cache.stats().l1Entries;
    expect(cachedBefore).toBeGreaterThan(0);
    await backend.standalone!.node.start();
    await expect.poll(() => instance.connections.ping(300), { timeout: 15_000 }).toBe(true);
    // After the reconnect L1 was dropped (invalidations may have been missed) ...
    await expect.poll(() => (cleared = cache.stats().l1Entries < cachedBefore), { timeout: 10_000 }).toBe(true);
    expect(cleared).toBe(true);
    // ... and L2 is used again.
    await sleep(600); // past the breaker window
    await cache.set('back', 'online');
    expect(await instance.connections.command.exists((await cache.redisKey('back'))!)).toBe(1);
  });
});
