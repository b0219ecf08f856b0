import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/scaling/store/memory-store.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('MemoryStore', () => {
  it('stores JSON snapshots and reports missing keys as null', async () => {
    const store = new MemoryStore();
    const value = { a: 1, list: [1, 2] };
    await store.set('k', value);
    value.a = 2;
    expect(await store.get('k')).toEqual({ a: 1, list: [1, 2] });
    expect(await store.get('missing')).toBeNull();
    expect(await store.has('k')).toBe(true);
    await store.delete('k');
    expect(await store.has('k')).toBe(false);
  });

  it('expires keys set with a ttl, and set without ttl clears the expiry', async () => {
    const c = clock();
    const store = new MemoryStore(c.now);
    await store.set('a', 'x', { ttl: 2 });
    await store.set('b', 'y', { ttl: 2 });
    await store.set('b', 'y2');
    c.t += 1999;
    expect(await store.get('a')).toBe('x');
    c.t += 1;
    expect(await store.get('a')).toBeNull();
    expect(await store.has('a')).toBe(false);
    expect(await store.get('b')).toBe('y2');
    expect(store.size()).toBe(1);
  });

  it('rejects a non-positive ttl and an undefined value', async () => {
    const store = new MemoryStore();
    await expect(store.set('a', 1, { ttl: 0 })).rejects.toThrow(/ttl/);
    await expect(store.set('a', undefined)).rejects.toThrow(/undefined/);
  });

  it('increments atomically from zero, keeps the ttl, and refuses non-integers', async () => {
    const c = clock();
    const store = new MemoryStore(c.now);
    const ids = await Promise.all(Array.from({ length: 100 }, () => store.increment('seq')));
    expect(new Set(ids).size).toBe(100);
    expect(Math.max(...ids)).toBe(100);
    expect(await store.increment('seq', 5)).toBe(105);
    expect(await store.get('seq')).toBe(105);
    await store.expire('seq', 1);
    await store.increment('seq');
    c.t += 1000;
    expect(await store.get('seq')).toBeNull();
    await store.set('text', 'abc');
    await expect(store.increment('text')).rejects.toThrow(/not an integer/);
    await store.set('numeric-string', '41');
    expect(await store.increment('numeric-string')).toBe(42);
  });

  it('expire sets a ttl on an existing key, deletes on ttl <= 0, ignores missing keys', async () => {
    const c = clock();
    const store = new MemoryStore(c.now);
    await store.set('a', 1);
    await store.expire('a', 10);
    c.t += 9_999;
    expect(await store.has('a')).toBe(true);
    c.t += 1;
    expect(await store.has('a')).toBe(false);
    await store.set('b', 1);
    await store.expire('b', 0);
    expect(await store.has('b')).toBe(false);
    await store.expire('nothing', 5);
    expect(await store.has('nothing')).toBe(false);
  });

  it('delivers pub/sub messages as strings, in order, to every handler until unsubscribed', async () => {
    const store = new MemoryStore();
    const got: string[] = [];
    const other: string[] = [];
    const h1 = (m: string, ch: string) => got.push(`${ch}:${m}`);
    const h2 = (m: string) => other.push(m);
    await store.subscribe('c', h1);
    await store.subscribe('c', h2);
    await store.publish('c', 'one');
    await store.publish('c', { two: 2 });
    await store.publish('elsewhere', 'ignored');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['c:one', 'c:{"two":2}']);
    expect(other).toEqual(['one', '{"two":2}']);
    await store.unsubscribe('c', h1);
    await store.publish('c', 'three');
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(2);
    expect(other).toEqual(['one', '{"two":2}', 'three']);
    await store.unsubscribe('c');
    await store.publish('c', 'four');
    await new Promise((r) => setImmediate(r));
    expect(other).toHaveLength(3);
  });

  it('keeps delivering when one subscriber throws', async () => {
    const store = new MemoryStore();
    const got: string[] = [];
    await store.subscribe('c', () => {
      throw new Error('boom');
    });
    await store.subscribe('c', (m) => got.push(m));
    await store.publish('c', 'x');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['x']);
  });

  it('sweeps expired keys as writes accumulate', async () => {
    const c = clock();
    const store = new MemoryStore(c.now);
    for (let i = 0; i < 500; i++) await store.set(`old:${i}`, i, { ttl: 1 });
    c.t += 2000;
    for (let i = 0; i < 1100; i++) await store.set(`new:${i}`, i);
    // The internal map no longer holds the expired keys even though none was read.
    expect((store as unknown as { entries: Map<string, unknown> }).entries.size).toBeLessThanOrEqual(1100);
  });
});
