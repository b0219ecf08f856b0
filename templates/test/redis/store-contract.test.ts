/**
 * One contract, several backends: the in-memory store and the Redis store on a
 * real standalone server and on a real 6-node cluster (classic and sharded
 * pub/sub), in plain text and over TLS, must behave the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoreAdapter } from '../../src/volt/store.js';
import { MemoryStore } from '../../src/scaling/store/memory-store.js';
import { RedisStore } from '../../src/scaling/store/redis-store.js';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { startCluster, startStandalone, type RedisServerOptions } from '../support/redis-servers.js';
import { makeTlsFiles } from '../support/tls-certificates.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;

interface Backend {
  /** Two stores over the same data, as two app instances would have. */
  stores: [StoreAdapter, StoreAdapter];
  close(): Promise<void>;
}

async function memoryBackend(): Promise<Backend> {
  const store = new MemoryStore();
  return { stores: [store, store], close: () => store.close() };
}

async function redisBackend(kind: 'standalone' | 'cluster', shardedPubSub = false, tls = false): Promise<Backend> {
  // Over TLS the standalone server also requires a client certificate; the cluster only verifies its own.
  const options: RedisServerOptions = tls ? { tls: await makeTlsFiles(), requireClientCert: kind === 'standalone' } : {};
  const server = kind === 'standalone' ? await startStandalone(options) : await startCluster(options);
  const settings = readRedisSettings(server.appEnv()) as Connected;
  const connections: RedisConnections[] = [createRedisConnections(settings), createRedisConnections(settings)];
  const stores = connections.map((c) => new RedisStore(c, { shardedPubSub })) as [RedisStore, RedisStore];
  return {
    stores,
    async close() {
      for (const c of connections) await c.quit();
      await server.close();
    },
  };
}

const backends: Array<[string, () => Promise<Backend>]> = [
  ['memory', memoryBackend],
  ['redis standalone', () => redisBackend('standalone')],
  ['redis cluster', () => redisBackend('cluster')],
  ['redis cluster, sharded pub/sub', () => redisBackend('cluster', true)],
  ['redis standalone over TLS, client certificate', () => redisBackend('standalone', false, true)],
  ['redis cluster over TLS, sharded pub/sub', () => redisBackend('cluster', true, true)],
];

/** Pub/sub delivery is asynchronous everywhere; on a cluster it crosses the bus. */
async function settle(): Promise<void> {
  await sleep(150);
}

describe.each(backends)('StoreAdapter contract: %s', (name, create) => {
  // Classic PUBLISH on a cluster goes to any node and crosses the cluster bus:
  // two messages can arrive in either order. Everywhere else order is kept.
  const ordered = name !== 'redis cluster';
  let backend: Backend;
  let a: StoreAdapter;
  let b: StoreAdapter;

  beforeAll(async () => {
    backend = await create();
    [a, b] = backend.stores;
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('stores JSON snapshots visible to every instance, and reports missing keys as null', async () => {
    const value = { a: 1, list: [1, 2], nested: { ok: true }, text: 'é✓' };
    await a.set('snap', value);
    value.a = 2;
    expect(await b.get('snap')).toEqual({ a: 1, list: [1, 2], nested: { ok: true }, text: 'é✓' });
    await a.set('scalar', 'plain');
    expect(await b.get('scalar')).toBe('plain');
    await a.set('number', 12.5);
    expect(await b.get('number')).toBe(12.5);
    await a.set('nothing', null);
    expect(await b.get('nothing')).toBeNull();
    expect(await b.has('nothing')).toBe(true);
    expect(await b.get('missing')).toBeNull();
    expect(await b.has('snap')).toBe(true);
    await b.delete('snap');
    expect(await a.has('snap')).toBe(false);
    await a.delete('never-set');
  });

  it('expires keys set with a ttl in seconds; set without ttl clears the expiry', async () => {
    await a.set('ttl:a', 'x', { ttl: 0.3 });
    await a.set('ttl:b', 'y', { ttl: 0.3 });
    await a.set('ttl:b', 'y2');
    expect(await b.get('ttl:a')).toBe('x');
    await sleep(450);
    expect(await b.get('ttl:a')).toBeNull();
    expect(await b.has('ttl:a')).toBe(false);
    expect(await b.get('ttl:b')).toBe('y2');
  });

  it('rejects a non-positive ttl and an undefined value, and keeps the previous value', async () => {
    await a.set('guarded', 1);
    await expect(a.set('guarded', 2, { ttl: 0 })).rejects.toThrow(RangeError);
    await expect(a.set('guarded', 2, { ttl: -1 })).rejects.toThrow(/ttl/);
    await expect(a.set('guarded', undefined)).rejects.toThrow(TypeError);
    expect(await b.get('guarded')).toBe(1);
  });

  it('increments atomically across instances, keeps the ttl, and refuses non-integers', async () => {
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).increment('seq')));
    expect(new Set(ids).size).toBe(200);
    expect(Math.max(...ids)).toBe(200);
    expect(await a.increment('seq', 5)).toBe(205);
    expect(await a.increment('seq', -10)).toBe(195);
    expect(await b.get('seq')).toBe(195);
    await a.expire('seq', 0.3);
    await a.increment('seq');
    await sleep(450);
    expect(await b.get('seq')).toBeNull();
    await a.set('text', 'abc');
    await expect(a.increment('text')).rejects.toThrow(/not an integer/);
    await a.set('object', { n: 1 });
    await expect(a.increment('object')).rejects.toThrow(/not an integer/);
    await expect(a.increment('seq', 1.5)).rejects.toThrow(/integer/);
    await a.set('numeric-string', '41');
    expect(await b.increment('numeric-string')).toBe(42);
    expect(await a.get('numeric-string')).toBe(42);
  });

  it('expire sets a ttl on an existing key, deletes on ttl <= 0, ignores missing keys', async () => {
    await a.set('exp:a', 1);
    await a.expire('exp:a', 0.3);
    expect(await b.has('exp:a')).toBe(true);
    await sleep(450);
    expect(await b.has('exp:a')).toBe(false);
    await a.set('exp:b', 1);
    await b.expire('exp:b', 0);
    expect(await a.has('exp:b')).toBe(false);
    await a.expire('exp:none', 5);
    expect(await a.has('exp:none')).toBe(false);
  });

  it('delivers messages as strings, in order, to every handler of every instance until unsubscribed', async () => {
    const got: string[] = [];
    const other: string[] = [];
    const h1 = (m: string, ch: string) => got.push(`${ch}:${m}`);
    const h2 = (m: string) => other.push(m);
    await a.subscribe('news', h1);
    await b.subscribe('news', h2);
    // Sent one after the other by one publisher.
    await b.publish('news', 'one');
    await b.publish('news', { two: 2 });
    await a.publish('elsewhere', 'ignored');
    await expect.poll(() => got.length + other.length).toBe(4);
    const inOrder = (list: string[]) => (ordered ? list : [...list].sort());
    expect(inOrder(got)).toEqual(inOrder(['news:one', 'news:{"two":2}']));
    expect(inOrder(other)).toEqual(inOrder(['one', '{"two":2}']));
    await a.unsubscribe('news', h1);
    await a.publish('news', 'three');
    await expect.poll(() => other.length).toBe(3);
    expect(other[2]).toBe('three');
    await settle();
    expect(got).toHaveLength(2);
    await b.unsubscribe('news');
    await a.publish('news', 'four');
    await settle();
    expect(other).toHaveLength(3);
  });

  it('counts handlers per channel: removing one keeps the others subscribed', async () => {
    const first: string[] = [];
    const second: string[] = [];
    const h1 = (m: string) => first.push(m);
    const h2 = (m: string) => second.push(m);
    await Promise.all([a.subscribe('shared', h1), a.subscribe('shared', h2)]);
    await b.publish('shared', 'x');
    await expect.poll(() => [first, second]).toEqual([['x'], ['x']]);
    await a.unsubscribe('shared', h1);
    await b.publish('shared', 'y');
    await expect.poll(() => second).toEqual(['x', 'y']);
    await settle();
    expect(first).toEqual(['x']);
    // Unsubscribe and subscribe again at once: the subscription survives.
    const unsubscribing = a.unsubscribe('shared', h2);
    await a.subscribe('shared', h1);
    await unsubscribing;
    await b.publish('shared', 'z');
    await expect.poll(() => first).toEqual(['x', 'z']);
    await settle();
    expect(second).toEqual(['x', 'y']);
    await a.unsubscribe('shared');
  });

  it('keeps delivering when one handler throws', async () => {
    const got: string[] = [];
    await a.subscribe('fragile', () => {
      throw new Error('boom');
    });
    await a.subscribe('fragile', (m) => got.push(m));
    await b.publish('fragile', 'x');
    await expect.poll(() => got).toEqual(['x']);
    await a.unsubscribe('fragile');
  });
});
