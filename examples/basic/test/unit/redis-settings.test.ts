import { describe, expect, it } from 'vitest';
import { connectionHint } from '../../src/scaling/redis/connection-errors.js';
import { describeRedis, readRedisSettings, redactUrl } from '../../src/scaling/redis/redis-settings.js';

/** Files by path, as readRedisSettings reads them. */
const files = (contents: Record<string, string>) => (path: string) => {
  if (path in contents) return contents[path]!;
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
};

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

  it('never echoes a password in an error, whatever the mistake', () => {
    const mistakes = [
      { REDIS_URL: 'redis//app:hunter2-secret@cache:6379' },
      { REDIS_URL: 'app:hunter2-secret@cache:6379' },
      { REDIS_URL: 'http://:hunter2-secret@cache:6379' },
      { REDIS_CLUSTER_NODES: 'redis://app:hunter2-secret@cache:6379' },
      { REDIS_CLUSTER_NODES: 'a:1', REDIS_NAT_MAP: 'app:hunter2-secret@x=y' },
    ];
    for (const env of mistakes) {
      expect(() => readRedisSettings(env)).toThrow();
      try {
        readRedisSettings(env);
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2');
        expect((error as Error).message).toContain('***');
      }
    }
    expect(() => readRedisSettings({ REDIS_URL: 'redis//app:pw@cache:6379' })).toThrow(
      'REDIS_URL: expected redis://host:port or rediss://host:port, got "redis//app:***@cache:6379"',
    );
    expect(redactUrl('redis://app:pw@cache:6379/0')).toBe('redis://app:***@cache:6379/0');
    expect(redactUrl('rediss://pw@cache:6379')).toBe('rediss://***@cache:6379');
    expect(redactUrl('redis://cache:6379')).toBe('redis://cache:6379');
  });

  it('reads the password from REDIS_PASSWORD_FILE, without its trailing newline', () => {
    const read = files({ '/run/secrets/redis-app-password': 's3cret-from-file\n', '/empty': '' });
    expect(readRedisSettings({ REDIS_URL: 'redis://cache:6379', REDIS_USERNAME: 'app', REDIS_PASSWORD_FILE: '/run/secrets/redis-app-password' }, read)).toEqual(
      {
        mode: 'standalone',
        url: 'redis://cache:6379',
        username: 'app',
        password: 's3cret-from-file',
      },
    );
    expect(() => readRedisSettings({ REDIS_URL: 'redis://c:1', REDIS_PASSWORD_FILE: '/nope' }, read)).toThrow(
      'REDIS_PASSWORD_FILE: cannot read /nope (ENOENT)',
    );
    expect(() => readRedisSettings({ REDIS_URL: 'redis://c:1', REDIS_PASSWORD_FILE: '/empty' }, read)).toThrow('REDIS_PASSWORD_FILE: /empty is empty');
    expect(() => readRedisSettings({ REDIS_URL: 'redis://c:1', REDIS_PASSWORD: 'x', REDIS_PASSWORD_FILE: '/empty' }, read)).toThrow(
      'REDIS_PASSWORD and REDIS_PASSWORD_FILE are both set: keep one',
    );
    // Nothing is read without Redis configured.
    expect(readRedisSettings({ REDIS_PASSWORD_FILE: '/nope' }, read)).toEqual({ mode: 'none' });
  });

  it('turns TLS on with rediss:// or REDIS_TLS=true, for standalone and cluster, with the CA and client certificate', () => {
    const read = files({ '/tls/ca.crt': 'CA PEM', '/tls/app.crt': 'CERT PEM', '/tls/app.key': 'KEY PEM' });
    expect(readRedisSettings({ REDIS_URL: 'rediss://cache:6380' }, read)).toEqual({ mode: 'standalone', url: 'rediss://cache:6380', tls: {} });
    expect(
      readRedisSettings(
        {
          REDIS_CLUSTER_NODES: 'redis-1:6379',
          REDIS_TLS: 'true',
          REDIS_TLS_CA_FILE: '/tls/ca.crt',
          REDIS_TLS_CERT_FILE: '/tls/app.crt',
          REDIS_TLS_KEY_FILE: '/tls/app.key',
        },
        read,
      ),
    ).toEqual({ mode: 'cluster', nodes: [{ host: 'redis-1', port: 6379 }], tls: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' } });
    expect(readRedisSettings({ REDIS_HOST: 'cache', REDIS_TLS: 'true', REDIS_TLS_CA_FILE: '/tls/ca.crt' }, read)).toEqual({
      mode: 'standalone',
      url: 'redis://cache:6379',
      tls: { ca: 'CA PEM' },
    });
    expect(describeRedis(readRedisSettings({ REDIS_URL: 'rediss://cache:6380' }, read))).toBe('standalone cache:6380 (TLS)');
  });

  it('refuses TLS settings that cannot work, naming the variable', () => {
    const read = files({ '/tls/ca.crt': 'CA PEM', '/tls/app.crt': 'CERT PEM' });
    expect(() => readRedisSettings({ REDIS_URL: 'redis://c:1', REDIS_TLS: 'yes' }, read)).toThrow('REDIS_TLS: expected true or false, got "yes"');
    expect(() => readRedisSettings({ REDIS_URL: 'rediss://c:1', REDIS_TLS: 'false' }, read)).toThrow('REDIS_TLS=false contradicts the rediss:// URL');
    expect(() => readRedisSettings({ REDIS_URL: 'redis://c:1', REDIS_TLS_CA_FILE: '/tls/ca.crt' }, read)).toThrow(
      'REDIS_TLS_CA_FILE is set but TLS is off: set REDIS_TLS=true (or use a rediss:// URL)',
    );
    expect(() => readRedisSettings({ REDIS_URL: 'rediss://c:1', REDIS_TLS_CERT_FILE: '/tls/app.crt' }, read)).toThrow(
      'REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together',
    );
    expect(() => readRedisSettings({ REDIS_URL: 'rediss://c:1', REDIS_TLS_CA_FILE: '/tls/missing.crt' }, read)).toThrow(
      'REDIS_TLS_CA_FILE: cannot read /tls/missing.crt (ENOENT)',
    );
  });
});

describe('connection error hints', () => {
  const error = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

  it('explains the errors a misconfiguration gives, before the first successful connection', () => {
    const fresh = { everReady: false };
    expect(connectionHint(error('read ECONNRESET', 'ECONNRESET'), { ...fresh, tls: false })).toMatch(/accepts TLS only/);
    expect(connectionHint(error('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), { ...fresh, tls: true })).toMatch(/does not speak TLS/);
    expect(connectionHint(error('self-signed certificate', 'SELF_SIGNED_CERT_IN_CHAIN'), { ...fresh, tls: true })).toMatch(/REDIS_TLS_CA_FILE/);
    expect(connectionHint(error('WRONGPASS invalid username-password pair or user is disabled.'), { ...fresh, tls: false })).toMatch(/REDIS_USERNAME/);
  });

  it('says nothing about a reset of a connection that worked (an outage, not a setting)', () => {
    expect(connectionHint(error('read ECONNRESET', 'ECONNRESET'), { everReady: true, tls: false })).toBeUndefined();
    expect(connectionHint(error('connect ECONNREFUSED', 'ECONNREFUSED'), { everReady: false, tls: false })).toBeUndefined();
  });
});
