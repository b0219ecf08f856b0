/**
 * Stampede protection across instances on a real Redis (standalone and
 * cluster): 1,000 concurrent getOrSet calls for one cold key, spread over
 * three cache instances with their own connections, run the loader once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { cacheInstance, startBackend, type CacheInstance, type Kind, type RedisBackend } from './cache-fixtures.js';

describe.each<Kind>(['standalone', 'cluster'])('cache stampede: %s', (kind) => {
  let backend: RedisBackend;
  let instances: CacheInstance[];

  beforeAll(async () => {
    backend = await startBackend(kind);
    instances = ['a', 'b', 'c'].map((name) => cacheInstance(backend, name, { lockWaitMs: 2_000 }));
    // Connected and listening before the burst.
    await Promise.all(instances.map((instance) => instance.connections.ping(5_000)));
  }, 60_000);
  afterAll(async () => {
    for (const instance of instances ?? []) await instance.close();
    await backend?.close();
  });

  /** The lock key of `key` under the namespace's current generation (created on first use). */
  async function lockKeyOf(namespace: string, key: string): Promise<string> {
    await instances[0]!.caches.namespace(namespace).redisKey(key);
    const generation = await instances[0]!.connections.command.get(`cache:${namespace}:gen`);
    return `cache:${namespace}:lock:g${generation}:${key}`;
  }

  it('runs the loader once for 1,000 concurrent calls over 3 instances', async () => {
    for (let round = 0; round < 3; round++) {
      const key = `cold:${round}`;
      let loads = 0;
      const loader = async () => {
        loads++;
        await sleep(100);
        return { round, builtBy: 'loader' };
      };
      const caches = instances.map((instance) => instance.caches.namespace<{ round: number }>('stampede'));
      await Promise.all(caches.map((cache) => cache.ready));
      const results = await Promise.all(Array.from({ length: 1_000 }, (_, i) => caches[i % 3]!.getOrSet(key, loader)));
      expect(loads).toBe(1);
      expect(results.every((r) => r.round === round)).toBe(true);
    }
  });

  it('loads at most once per instance when the lock holder never delivers', async () => {
    const caches = instances.map((instance) => instance.caches.namespace<string>('orphan-lock', { lockWaitMs: 300 }));
    // A crashed holder: the lock exists, nobody will write the value.
    const lockKey = await lockKeyOf('orphan-lock', 'k');
    await instances[0]!.connections.command.set(lockKey, 'someone-else', 'PX', 10_000);
    let loads = 0;
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        caches[i % 3]!.getOrSet('k', async () => {
          loads++;
          await sleep(20);
          return 'value';
        }),
      ),
    );
    expect(results.every((r) => r === 'value')).toBe(true);
    expect(loads).toBe(3);
    // Waited about lockWaitMs, not the lock's 10 s.
    expect(Date.now() - started).toBeLessThan(3_000);
    // The foreign lock was not released by anyone else (compare-and-delete).
    expect(await instances[0]!.connections.command.get(lockKey)).toBe('someone-else');
  });

  it('stops waiting as soon as a lock holder gives up without a value', async () => {
    const caches = instances.map((instance) => instance.caches.namespace<string>('failed-holder', { lockWaitMs: 5_000 }));
    const command = instances[0]!.connections.command;
    const lockKey = await lockKeyOf('failed-holder', 'k');
    await command.set(lockKey, 'holder', 'PX', 10_000);
    let loads = 0;
    const started = Date.now();
    const waiting = Promise.all(caches.map((cache) => cache.getOrSet('k', () => `loaded ${++loads}`)));
    await sleep(200);
    // The holder's loader failed: it releases the lock and writes nothing.
    await command.del(lockKey);
    const results = await waiting;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(loads).toBeGreaterThanOrEqual(1);
    expect(loads).toBeLessThanOrEqual(3);
    expect(results.every((r) => r.startsWith('loaded'))).toBe(true);
  });

  it('releases its own lock after loading', async () => {
    const cache = instances[1]!.caches.namespace<number>('released');
    expect(await cache.getOrSet('k', () => 42)).toBe(42);
    await cache.settled();
    const lockKey = await lockKeyOf('released', 'k');
    await expect.poll(() => instances[1]!.connections.command.exists(lockKey)).toBe(0);
  });
});
