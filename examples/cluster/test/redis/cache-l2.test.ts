/**
 * The L2 guard on a real Redis: a reply that arrived while this process was
 * busy is not a timeout; a Redis that really does not answer (CLIENT PAUSE)
 * costs one bounded wait, then reads skip it for a moment while writes and
 * invalidations are still tried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisL2 } from '../../src/scaling/cache/l2.js';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { startStandalone, type StandaloneRedis } from '../support/redis-servers.js';

describe('RedisL2 guard (standalone)', () => {
  let redis: StandaloneRedis;
  let connections: RedisConnections;
  let errors: Error[];
  let l2: RedisL2;

  beforeAll(async () => {
    redis = await startStandalone();
    connections = createRedisConnections({ mode: 'standalone', url: redis.url });
    await connections.ping(5_000);
    errors = [];
    l2 = new RedisL2({ client: connections.command, timeoutMs: 150, breakerMs: 400, onError: (error) => errors.push(error) });
  });
  afterAll(async () => {
    await connections?.quit();
    await redis?.close();
  });

  it('does not time out a reply that waited for a busy event loop', async () => {
    await l2.set('k', 'v', 10_000);
    const pending = l2.get('k');
    // Block this process for longer than the timeout while the reply comes in.
    const until = Date.now() + 400;
    while (Date.now() < until) {
      // busy
    }
    expect(await pending).toBe('v');
    expect(errors).toEqual([]);
  });

  it('gives up after the timeout when Redis does not answer, then skips reads but still tries writes', async () => {
    await redis.node.cli('CLIENT', 'PAUSE', '1000', 'ALL');
    const started = performance.now();
    await expect(l2.get('k')).rejects.toThrow(/timed out after 150 ms/);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(600);
    expect(errors).toHaveLength(1);
    expect(l2.available).toBe(false);

    // Breaker open: a read fails at once, without waiting.
    const fastStarted = performance.now();
    await expect(l2.get('k')).rejects.toThrow(/recently failed/);
    expect(performance.now() - fastStarted).toBeLessThan(50);
    // A write is still sent (and waits its turn behind the pause).
    const write = l2.set('written-during-pause', 'x', 10_000).catch((error: Error) => error);

    await redis.node.cli('CLIENT', 'UNPAUSE');
    await write;
    await expect.poll(() => connections.command.get('written-during-pause'), { timeout: 5_000 }).toBe('x');
    await expect.poll(() => l2.available, { timeout: 2_000 }).toBe(true);
    expect(await l2.get('k')).toBe('v');
  });

  it('treats a reply error as an answer: no breaker', async () => {
    await connections.command.lpush('a-list', 'x');
    const before = errors.length;
    await expect(l2.get('a-list')).rejects.toThrow(/WRONGTYPE/);
    expect(errors.length).toBe(before + 1);
    expect(l2.available).toBe(true);
  });
});
