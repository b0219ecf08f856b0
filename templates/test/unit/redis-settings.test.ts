import { describe, expect, it } from 'vitest';
import { describeRedis, readRedisSettings } from '../../src/scaling/redis/redis-settings.js';

describe('redis settings from the environment', () => {
  it('uses the in-memory adapters when nothing is set', () => {
    expect(readRedisSettings({})).toEqual({ mode: 'none' });
  });

  it('reads REDIS_URL, or REDIS_HOST and REDIS_PORT', () => {
    expect(readRedisSettings({ REDIS_URL: 'redis://cache:6380' })).toEqual({ mode: 'standalone', url: 'redis://cache:6380' });
    expect(readRedisSettings({ REDIS_HOST: 'cache' })).toEqual({ mode: 'standalone', url: 'redis://cache:6379' });
    expect(readRedisSettings({ REDIS_HOST: 'cache', REDIS_PORT: '7000', REDIS_PASSWORD: 's3cret' })).toEqual({
      mode: 'standalone',
      url: 'redis://cache:7000',
      password: 's3cret',
    });
  });

  it('prefers a cluster, read under both names, with a NAT map', () => {
    expect(readRedisSettings({ REDIS_CLUSTER_HOSTS: 'a:7000,b:7001', REDIS_URL: 'redis://x:1' })).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
    });
    expect(readRedisSettings({ REDIS_CLUSTER_NODES: 'redis-1:6379', REDIS_NAT_MAP: '172.18.0.2:6379=127.0.0.1:7000' })).toEqual({
      mode: 'cluster',
      nodes: [{ host: 'redis-1', port: 6379 }],
      natMap: { '172.18.0.2:6379': { host: '127.0.0.1', port: 7000 } },
    });
  });

  it('names the variable in every error', () => {
    expect(() => readRedisSettings({ REDIS_CLUSTER_NODES: 'a:7000,b' })).toThrow(/REDIS_CLUSTER_NODES: expected host:port, got "b"/);
    expect(() => readRedisSettings({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL/);
    expect(() => readRedisSettings({ REDIS_HOST: 'cache', REDIS_PORT: '99999' })).toThrow(/REDIS_HOST\/REDIS_PORT/);
    expect(() => readRedisSettings({ REDIS_CLUSTER_NODES: 'a:1', REDIS_NAT_MAP: 'oops' })).toThrow(/REDIS_NAT_MAP/);
  });

  it('never puts the password in descriptions', () => {
    expect(describeRedis(readRedisSettings({ REDIS_URL: 'redis://user:pw@cache:6379' }))).toBe('standalone cache:6379');
  });
});
