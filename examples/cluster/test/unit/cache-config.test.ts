import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('config: Redis and cache settings', () => {
  it('runs in memory without Redis variables, with the documented cache defaults', () => {
    const config = loadConfig({});
    expect(config.redis).toEqual({ mode: 'none' });
    expect(config.cache).toMatchObject({ l1MaxEntries: 10_000, l1MaxBytes: 64 * 1024 * 1024, l2TimeoutMs: 250, ttlJitter: 0.1 });
    expect(config.cache.notes).toEqual({ ttlMs: 2_000, graceMs: 60_000 });
  });

  it('reads standalone and cluster settings under every supported name', () => {
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6380', REDIS_PASSWORD: 'pw' }).redis).toEqual({
      mode: 'standalone',
      url: 'redis://127.0.0.1:6380',
      password: 'pw',
    });
    expect(loadConfig({ REDIS_HOST: '127.0.0.1', REDIS_PORT: '6390' }).redis).toMatchObject({ url: 'redis://127.0.0.1:6390' });
    expect(loadConfig({ REDIS_CLUSTER_HOSTS: '127.0.0.1:7000,127.0.0.1:7001' }).redis).toMatchObject({
      mode: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
    });
  });

  it('names the variable in the error for bad values', () => {
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/Invalid environment:[\s\S]*REDIS_URL/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1' })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ CACHE_L2_TIMEOUT_MS: 'soon' })).toThrow(/CACHE_L2_TIMEOUT_MS/);
    expect(() => loadConfig({ CACHE_TTL_JITTER: '0.9' })).toThrow(/CACHE_TTL_JITTER/);
    expect(() => loadConfig({ CACHE_L1_MAX_BYTES: '0' })).toThrow(/CACHE_L1_MAX_BYTES/);
  });
});
