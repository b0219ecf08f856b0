import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config.js';
import { DistributedCache, type DistributedCacheOptions } from '../../src/scaling/cache/distributed-cache.js';
import { InvalidationBus } from '../../src/scaling/cache/invalidation-bus.js';
import { createCaches } from '../../src/scaling/cache/index.js';
import { L1Cache } from '../../src/scaling/cache/l1.js';
import { SingleFlight } from '../../src/scaling/cache/single-flight.js';
import { MemoryStore } from '../../src/scaling/store/memory-store.js';
import { createMetrics } from '../../src/scaling/metrics/index.js';
import { silentLogger } from '../../src/volt/index.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

function cache<T = unknown>(overrides: Partial<DistributedCacheOptions> = {}) {
  return new DistributedCache<T>({
    namespace: 'test',
    l1: { maxEntries: 1_000, maxBytes: 1_000_000 },
    ttlMs: 1_000,
    graceMs: 0,
    ttlJitter: 0,
    lockTtlMs: 1_000,
    lockWaitMs: 500,
    lockPollMs: 20,
    generationCheckMs: 30_000,
    ...overrides,
  });
}

async function counterValue(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
  labels: Record<string, string> = {},
) {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}

describe('L1Cache', () => {
  it('bounds the serialized bytes it holds and skips a value bigger than the bound', () => {
    const l1 = new L1Cache({ maxEntries: 1_000, maxBytes: 10_000 });
    const big = 'x'.repeat(998);
    for (let i = 0; i < 100; i++) l1.set(`k${i}`, { value: big, freshUntil: Date.now() + 60_000, staleUntil: Date.now() + 60_000, size: 1_000 });
    expect(l1.bytes).toBeLessThanOrEqual(10_000);
    expect(l1.entries).toBe(10);
    // Least recently used went first: the last ten remain.
    expect(l1.get('k99')).toBeDefined();
    expect(l1.get('k0')).toBeUndefined();
    l1.set('huge', { value: 'y', freshUntil: Date.now() + 60_000, staleUntil: Date.now() + 60_000, size: 20_000 });
    expect(l1.get('huge')).toBeUndefined();
    expect(l1.bytes).toBeLessThanOrEqual(10_000);
  });

  it('bounds the entry count', () => {
    const l1 = new L1Cache({ maxEntries: 5, maxBytes: 1_000_000 });
    for (let i = 0; i < 20; i++) l1.set(`k${i}`, { value: i, freshUntil: Date.now() + 60_000, staleUntil: Date.now() + 60_000, size: 2 });
    expect(l1.entries).toBe(5);
  });

  it('rejects nonsense bounds with a clear error', () => {
    expect(() => new L1Cache({ maxEntries: 0, maxBytes: 10 })).toThrow(/maxEntries/);
    expect(() => new L1Cache({ maxEntries: 10, maxBytes: -1 })).toThrow(/maxBytes/);
  });
});

describe('SingleFlight', () => {
  it('runs one load per key at a time and forgets it when it settles', async () => {
    const flights = new SingleFlight();
    let calls = 0;
    const work = async () => {
      calls++;
      await sleep(10);
      return calls;
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => flights.run('k', work)));
    expect(new Set(results)).toEqual(new Set([1]));
    expect(await flights.run('k', work)).toBe(2);
    await expect(flights.run('bad', async () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    expect(flights.has('bad')).toBe(false);
  });
});

describe('DistributedCache in memory mode', () => {
  it('keeps JSON snapshots, serves fresh values, and forgets deleted keys', async () => {
    const c = cache<{ n: number }>();
    const value = { n: 1 };
    await c.set('a', value);
    value.n = 2;
    expect(await c.get('a')).toEqual({ n: 1 });
    expect(await c.get('missing')).toBeUndefined();
    await c.delete('a');
    expect(await c.get('a')).toBeUndefined();
    await expect(c.set('u', undefined as never)).rejects.toThrow(/undefined/);
  });

  it('caches null and runs the loader once for 1,000 concurrent cold calls', async () => {
    const c = cache<string | null>();
    let loads = 0;
    const loader = async () => {
      loads++;
      await sleep(20);
      return null;
    };
    const results = await Promise.all(Array.from({ length: 1_000 }, () => c.getOrSet('cold', loader)));
    expect(results.every((r) => r === null)).toBe(true);
    expect(loads).toBe(1);
    expect(await c.getOrSet('cold', loader)).toBeNull();
    expect(loads).toBe(1);
  });

  it('hands a loader error to every waiter and caches nothing', async () => {
    const c = cache<number>();
    let loads = 0;
    const failing = async () => {
      loads++;
      await sleep(5);
      throw new Error('database down');
    };
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => c.getOrSet('k', failing)));
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(loads).toBe(1);
    expect(await c.getOrSet('k', () => 7)).toBe(7);
  });

  it('expires after the ttl, serves stale within the grace while one background refresh runs, then reloads', async () => {
    const t = clock();
    const c = cache<number>({ now: t.now, ttlMs: 1_000, graceMs: 5_000 });
    let version = 0;
    let loads = 0;
    const loader = async () => {
      loads++;
      await sleep(10);
      return ++version;
    };
    expect(await c.getOrSet('k', loader)).toBe(1);
    t.t += 999;
    expect(await c.getOrSet('k', loader)).toBe(1);
    expect(loads).toBe(1);
    t.t += 1;
    // Stale: every caller gets the old value at once; one refresh runs.
    const stale = await Promise.all(Array.from({ length: 20 }, () => c.getOrSet('k', loader)));
    expect(stale.every((v) => v === 1)).toBe(true);
    await c.settled();
    expect(loads).toBe(2);
    expect(await c.getOrSet('k', loader)).toBe(2);
    // Past ttl + grace: the caller waits for the loader.
    t.t += 1_000 + 5_000;
    expect(await c.getOrSet('k', loader)).toBe(3);
    expect(loads).toBe(3);
    // get() only answers fresh values.
    t.t += 1_500;
    expect(await c.get('k')).toBeUndefined();
  });

  it('keeps serving the stale value when the background refresh fails', async () => {
    const t = clock();
    const warnings: string[] = [];
    const c = cache<string>({ now: t.now, ttlMs: 100, graceMs: 10_000, logger: { ...silentLogger, warn: (_o, m) => warnings.push(m ?? '') } });
    await c.getOrSet('k', () => 'good');
    t.t += 200;
    expect(await c.getOrSet('k', () => Promise.reject(new Error('source down')))).toBe('good');
    await c.settled();
    expect(await c.getOrSet('k', () => Promise.reject(new Error('source down')))).toBe('good');
    await c.settled();
    expect(warnings).toContain('cache background refresh failed');
  });

  it('spreads expiries with the ttl jitter', async () => {
    const t = clock();
    const c = cache<number>({ now: t.now, ttlMs: 10_000, ttlJitter: 0.1 });
    for (let i = 0; i < 200; i++) await c.set(`k${i}`, i);
    t.t += 9_500;
    let alive = 0;
    for (let i = 0; i < 200; i++) if ((await c.get(`k${i}`)) !== undefined) alive++;
    // With ±10%, expiries fall between 9,000 and 11,000 ms: some gone, some left.
    expect(alive).toBeGreaterThan(20);
    expect(alive).toBeLessThan(180);
    t.t += 1_501;
    for (let i = 0; i < 200; i++) expect(await c.get(`k${i}`)).toBeUndefined();
  });

  it('bounds L1 by bytes of serialized values', async () => {
    const c = cache<string>({ l1: { maxEntries: 10_000, maxBytes: 50_000 } });
    for (let i = 0; i < 500; i++) await c.set(`k${i}`, 'v'.repeat(1_000));
    const { l1Bytes, l1Entries } = c.stats();
    expect(l1Bytes).toBeLessThanOrEqual(50_000);
    // Each value is 1,002 bytes of JSON ("v...v" with quotes).
    expect(l1Entries).toBe(Math.floor(50_000 / 1_002));
  });

  it('clear() drops the namespace', async () => {
    const c = cache<number>();
    await c.set('a', 1);
    await c.set('b', 2);
    await c.clear();
    expect(await c.get('a')).toBeUndefined();
    expect(c.stats().l1Entries).toBe(0);
  });

  it('rejects bad names and durations with clear errors', () => {
    expect(() => cache({ namespace: 'a:b' })).toThrow(/namespace/);
    expect(() => cache({ ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => cache({ graceMs: -1 })).toThrow(/graceMs/);
    expect(() => cache({ ttlJitter: 2 })).toThrow(/ttlJitter/);
  });

  it('invalidates other caches of the same process through an in-memory bus', async () => {
    const store = new MemoryStore();
    const a = cache<number>({ bus: new InvalidationBus(store, 'a'), ttlMs: 60_000 });
    const b = cache<number>({ bus: new InvalidationBus(store, 'b'), ttlMs: 60_000 });
    await Promise.all([a.ready, b.ready]);
    await a.set('k', 1);
    // a's invalidation reaches b first; one arriving after b's own write would evict it too.
    await sleep(5);
    await b.set('k', 2);
    await sleep(5);
    // b's write evicted a's copy; b kept its own.
    expect(await a.get('k')).toBeUndefined();
    expect(await b.get('k')).toBe(2);
    await a.set('j', 1);
    await b.set('j', 1);
    await a.delete('j');
    await sleep(5);
    expect(await b.get('j')).toBeUndefined();
    await b.set('z', 1);
    await a.clear();
    await sleep(5);
    expect(await b.get('z')).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  });

  it('counts hits, misses and invalidations on the metrics registry', async () => {
    const metrics = createMetrics({ instanceId: 'test', defaultMetrics: false });
    const caches = createCaches({ instanceId: 'test', metrics, settings: loadConfig({}).cache });
    expect(caches.mode).toBe('memory');
    const c = caches.namespace<number>('metered');
    expect(caches.namespace('metered')).toBe(c);
    await c.getOrSet('k', () => 1);
    await c.getOrSet('k', () => 1);
    await c.getOrSet('k', () => 1);
    await c.delete('k');
    caches.flushMetrics();
    expect(await counterValue(metrics.cacheHitsTotal, { namespace: 'metered', layer: 'l1' })).toBe(2);
    expect(await counterValue(metrics.cacheMissesTotal, { namespace: 'metered', layer: 'l1' })).toBe(1);
    expect(await counterValue(metrics.cacheInvalidationsTotal)).toBe(1);
    // A namespace has its series from the start (at 0), so its hit ratio exists before its first hit.
    caches.namespace('idle');
    const idle = (await metrics.cacheMissesTotal.get()).values.filter((v) => v.labels.namespace === 'idle');
    expect(idle).toEqual([expect.objectContaining({ labels: { namespace: 'idle', layer: 'l1' }, value: 0 })]);
    await caches.close();
  });
});

describe('DistributedCache.peek', () => {
  it('reads fresh L1 values synchronously and nothing else', async () => {
    const t = clock();
    const c = cache<number>({ now: t.now, ttlMs: 100, graceMs: 1_000 });
    expect(c.peek('k')).toBeUndefined();
    await c.set('k', 5);
    expect(c.peek('k')).toBe(5);
    t.t += 100;
    // Stale: peek says "ask getOrSet", which serves it and refreshes.
    expect(c.peek('k')).toBeUndefined();
    expect(await c.getOrSet('k', () => 6)).toBe(5);
    await c.settled();
    expect(c.peek('k')).toBe(6);
  });
});
