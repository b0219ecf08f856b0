/**
 * Three cache instances, each with its own connections, on a real Redis
 * (standalone and cluster; plain, and over TLS as the project's `app` user):
 * L2 sharing, eviction of other instances' L1 on set/delete, namespace clear
 * by generation, TTL and grace in Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectedCacheInstance, counterValue, percentile, startBackend, type CacheInstance, type Kind, type RedisBackend } from './cache-fixtures.js';

describe.each<[string, Kind, boolean]>([
  ['standalone', 'standalone', false],
  ['cluster', 'cluster', false],
  ['standalone over TLS, as the app user', 'standalone', true],
  ['cluster over TLS, as the app user', 'cluster', true],
])('distributed cache across instances: %s', (_name, kind, secure) => {
  let backend: RedisBackend;
  let a: CacheInstance;
  let b: CacheInstance;
  let c: CacheInstance;

  beforeAll(async () => {
    backend = await startBackend(kind, secure);
    [a, b, c] = (await Promise.all(['a', 'b', 'c'].map((name) => connectedCacheInstance(backend, name, { ttlMs: 60_000, graceMs: 0 })))) as [
      CacheInstance,
      CacheInstance,
      CacheInstance,
    ];
  }, 60_000);
  afterAll(async () => {
    for (const instance of [a, b, c]) await instance?.close();
    await backend?.close();
  });

  async function joined(namespace: string) {
    const caches = [a, b, c].map((instance) => instance.caches.namespace<string>(namespace));
    await Promise.all(caches.map((cache) => cache.ready));
    return caches as [(typeof caches)[0], (typeof caches)[0], (typeof caches)[0]];
  }

  it('shares values through L2: a value set on one instance is an L2 hit on another', async () => {
    const [ca, cb] = await joined('shared');
    await ca.set('greeting', 'hello');
    // Let b see a's invalidation first: a read racing it is answered but not kept in L1.
    await sleep(50);
    const hitsBefore = await counterValue(b.metrics.cacheHitsTotal, { layer: 'l2' });
    let loads = 0;
    expect(await cb.getOrSet('greeting', () => String(++loads))).toBe('hello');
    expect(loads).toBe(0);
    expect(await counterValue(b.metrics.cacheHitsTotal, { layer: 'l2' })).toBe(hitsBefore + 1);
    // Now in b's L1.
    expect(await cb.getOrSet('greeting', () => String(++loads))).toBe('hello');
    b.caches.flushMetrics();
    expect(await counterValue(b.metrics.cacheHitsTotal, { layer: 'l1' })).toBeGreaterThanOrEqual(1);
    // Redis holds it under the namespace generation (epoch ms), without a shared hash tag.
    const key = await ca.redisKey('greeting');
    expect(key).toMatch(/^cache:shared:g\d{13}:greeting$/);
    expect(await a.connections.command.exists(key!)).toBe(1);
  });

  it('evicts the key from the other instances L1 within milliseconds of a set or delete', async () => {
    const [ca, cb, cc] = await joined('evict');
    const latencies: number[] = [];
    for (let round = 0; round < 20; round++) {
      const key = `k${round % 3}`;
      await ca.set(key, `v${round}`);
      // b and c read it into L1 (long ttl: only an invalidation can change it). All
      // three share this process: a's write returns before b's and c's sockets are read.
      await expect.poll(() => cb.getOrSet(key, () => 'loaded'), { interval: 1 }).toBe(`v${round}`);
      await expect.poll(() => cc.getOrSet(key, () => 'loaded'), { interval: 1 }).toBe(`v${round}`);
      const started = performance.now();
      await ca.set(key, `w${round}`);
      while ((await cb.get(key)) !== `w${round}` || (await cc.get(key)) !== `w${round}`) {
        if (performance.now() - started > 2_000) throw new Error(`round ${round}: no invalidation within 2 s`);
        await sleep(1);
      }
      latencies.push(performance.now() - started);
    }
    const p50 = percentile(latencies, 50);
    const max = Math.max(...latencies);
    console.log(`[${kind}] set on A -> new value on B and C: p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms (20 rounds)`);
    expect(max).toBeLessThan(kind === 'standalone' ? 100 : 500);

    await cb.getOrSet('gone', () => 'x');
    await ca.delete('gone');
    await expect.poll(() => cb.get('gone'), { timeout: 2_000, interval: 2 }).toBeUndefined();
    let reloaded = 0;
    expect(await cb.getOrSet('gone', () => `fresh${++reloaded}`)).toBe('fresh1');
    expect(await counterValue(b.metrics.cacheInvalidationsTotal)).toBeGreaterThan(0);
  });

  it('clears a namespace on every instance by bumping its generation, and keeps other namespaces', async () => {
    const [ca, cb, cc] = await joined('cleared');
    const [, otherB] = await joined('untouched');
    await otherB.set('keep', 'me');
    await ca.set('x', '1');
    await cb.set('y', '2');
    const before = Number(await a.connections.command.get('cache:cleared:gen'));
    expect(await cc.getOrSet('x', () => 'loaded')).toBe('1');
    await cb.clear();
    await expect
      .poll(async () => [await ca.get('x'), await cc.get('x'), await ca.get('y')], { timeout: 2_000, interval: 5 })
      .toEqual([undefined, undefined, undefined]);
    const after = Number(await a.connections.command.get('cache:cleared:gen'));
    expect(after).toBeGreaterThan(before);
    // New values go to generation 1 and are shared as before.
    await cc.set('x', 'after');
    expect(await ca.getOrSet('x', () => 'loaded')).toBe('after');
    expect(await ca.redisKey('x')).toBe(`cache:cleared:g${after}:x`);
    expect(await a.connections.command.exists(`cache:cleared:g${after}:x`)).toBe(1);
    // A new instance reads the generation once from Redis.
    const late = await connectedCacheInstance(backend, 'late');
    try {
      const cl = late.caches.namespace<string>('cleared');
      expect(await cl.getOrSet('x', () => 'loaded')).toBe('after');
      expect(await cl.getOrSet('y', () => 'reloaded')).toBe('reloaded');
    } finally {
      await late.close();
    }
    expect(await otherB.get('keep')).toBe('me');
  });

  it('never reuses a generation: an evicted generation key starts a new one, announced to every instance', async () => {
    const [ca, cb] = await joined('evicted');
    await ca.set('k', 'old');
    expect(await cb.getOrSet('k', () => 'loaded')).toBe('old');
    const before = Number(await a.connections.command.get('cache:evicted:gen'));
    // What allkeys-lru may do to a key read once per instance.
    await a.connections.command.del('cache:evicted:gen');
    const late = await connectedCacheInstance(backend, 'late-evicted');
    try {
      const cl = late.caches.namespace<string>('evicted');
      await cl.ready;
      expect(await cl.getOrSet('k', () => 'reloaded')).toBe('reloaded');
      const after = Number(await a.connections.command.get('cache:evicted:gen'));
      expect(after).toBeGreaterThan(before);
      // The others adopt the new generation and drop their L1.
      await expect.poll(() => cb.get('k'), { timeout: 2_000, interval: 5 }).toBe('reloaded');
      expect(await cb.redisKey('k')).toBe(`cache:evicted:g${after}:k`);
    } finally {
      await late.close();
    }
  });

  it('notices a generation changed behind its back on the periodic check', async () => {
    const checking = await connectedCacheInstance(backend, 'checking', { generationCheckMs: 100 });
    try {
      const cache = checking.caches.namespace<string>('checked');
      await cache.set('k', 'v');
      // A clear whose announcement this instance missed.
      const current = Number(await checking.connections.command.get('cache:checked:gen'));
      await checking.connections.command.set('cache:checked:gen', String(current + 1));
      await expect.poll(() => cache.get('k'), { timeout: 3_000, interval: 20 }).toBeUndefined();
      expect(await cache.redisKey('k')).toBe(`cache:checked:g${current + 1}:k`);
    } finally {
      await checking.close();
    }
  });

  it('stores values in Redis with a jittered PX of ttl + grace, and serves them stale within the grace', async () => {
    const short = await connectedCacheInstance(backend, 'short', { ttlMs: 300, graceMs: 1_000, ttlJitter: 0.1 });
    const reader = await connectedCacheInstance(backend, 'reader');
    try {
      const writer = short.caches.namespace<number>('ttl');
      await writer.ready;
      const written = performance.now();
      await Promise.all(Array.from({ length: 20 }, (_, i) => writer.set(`k${i}`, i)));
      const keys = await Promise.all(Array.from({ length: 20 }, (_, i) => writer.redisKey(`k${i}`)));
      const pttls = await Promise.all(keys.map((key) => short.connections.command.pttl(key!)));
      const elapsed = performance.now() - written;
      for (const pttl of pttls) {
        // ttl ±10% + grace, minus the time the writes and this check took.
        expect(pttl).toBeGreaterThanOrEqual(300 * 0.9 + 1_000 - elapsed - 5);
        expect(pttl).toBeLessThanOrEqual(300 * 1.1 + 1_000 + 5);
      }
      expect(new Set(pttls).size).toBeGreaterThan(5);

      // Past the ttl: another instance gets the stale value at once and refreshes it once.
      await sleep(400);
      const cache = reader.caches.namespace<number>('ttl');
      let loads = 0;
      const stale = await Promise.all(Array.from({ length: 10 }, () => cache.getOrSet('k1', () => 100 + ++loads, { ttlMs: 60_000 })));
      expect(stale).toEqual(Array.from({ length: 10 }, () => 1));
      await cache.settled();
      expect(loads).toBe(1);
      expect(await cache.getOrSet('k1', () => 100 + ++loads)).toBe(101);
      // Past ttl + grace: gone from Redis.
      await sleep(1_100);
      expect(await short.connections.command.exists(keys[2]!)).toBe(0);
      expect(await cache.getOrSet('k2', () => 200 + ++loads)).toBe(202);
    } finally {
      await short.close();
      await reader.close();
    }
  });
});
