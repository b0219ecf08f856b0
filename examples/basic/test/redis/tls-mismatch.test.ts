/**
 * TLS set up on one side only, or a certificate the app cannot check: the
 * connection errors, the log lines and `/health` say which setting to fix.
 * (The store, cache and realtime contracts over TLS are in their own suites.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { startApp, type AppProcess } from '../support/app-process.js';
import { startStandalone, type StandaloneRedis } from '../support/redis-servers.js';
import { makeTlsFiles, type TlsFiles } from '../support/tls-certificates.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;

/** Connects with `env`, waits for the first connection error, and returns it explained. */
async function firstError(env: Record<string, string>): Promise<{ error: string; pong: boolean }> {
  const connections: RedisConnections = createRedisConnections(readRedisSettings(env) as Connected, { connectTimeoutMs: 1_000 });
  try {
    const pong = await connections.ping(500);
    await expect.poll(() => connections.lastError(), { timeout: 10_000 }).toBeDefined();
    return { error: connections.lastError()!, pong };
  } finally {
    await connections.quit(500);
  }
}

describe('TLS on one side only', () => {
  let tls: TlsFiles;
  let tlsOnly: StandaloneRedis;
  let plain: StandaloneRedis;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    tls = await makeTlsFiles();
    // Also on 127.0.0.2, an address of this machine its certificate does not name.
    [tlsOnly, plain] = await Promise.all([startStandalone({ tls, args: ['--bind', '127.0.0.1', '127.0.0.2'] }), startStandalone()]);
  });
  afterAll(async () => {
    await app?.stop();
    await tlsOnly?.close();
    await plain?.close();
  });

  it('a plain-text client against a TLS-only server is told to use rediss:// or REDIS_TLS', async () => {
    const { error, pong } = await firstError({ REDIS_URL: `redis://127.0.0.1:${tlsOnly.port}` });
    expect(pong).toBe(false);
    expect(error).toMatch(
      /^(read|write) ECONNRESET \(Redis closed the connection before answering: if it accepts TLS only, connect with a rediss:\/\/ URL or REDIS_TLS=true\)$/,
    );
  });

  it('the app says so in its log and in /health, and reports not ready', async () => {
    // The public /health gives its details to the METRICS_TOKEN holder only.
    const token = 'tls-mismatch-test-token';
    app = await startApp('plain-to-tls', { REDIS_URL: `redis://127.0.0.1:${tlsOnly.port}`, READINESS_REDIS_TIMEOUT_MS: '300', METRICS_TOKEN: token });
    expect((await fetch(`${app.url}/health/ready`)).status).toBe(503);
    await expect.poll(() => app!.output(), { timeout: 10_000 }).toContain('if it accepts TLS only, connect with a rediss:// URL or REDIS_TLS=true');
    const health = await (await fetch(`${app.url}/health`, { headers: { authorization: `Bearer ${token}` } })).json();
    const [redisCheck] = health.checks['redis:connection'];
    expect(redisCheck.status).toBe('fail');
    expect(redisCheck.output).toMatch(/^no PONG within 300 ms: .*ECONNRESET \(Redis closed the connection before answering: if it accepts TLS only/);
  });

  it('a TLS client against a plain-text server is told to use redis://', async () => {
    const { error } = await firstError({ REDIS_URL: `rediss://127.0.0.1:${plain.port}`, REDIS_TLS_CA_FILE: tls.ca });
    expect(error).toMatch(
      /\((the server does not speak TLS|no TLS handshake in time): if the server listens in plain text, connect with redis:\/\/ and REDIS_TLS unset\)$/,
    );
  });

  it('a certificate from an unknown CA points at REDIS_TLS_CA_FILE', async () => {
    const { error } = await firstError({ REDIS_URL: `rediss://127.0.0.1:${tlsOnly.port}` });
    expect(error).toBe(
      "self-signed certificate in certificate chain (the server's certificate is not trusted: set REDIS_TLS_CA_FILE to the CA that signed it)",
    );
  });

  it('a certificate for another name says so', async () => {
    const { error } = await firstError({ REDIS_URL: `rediss://127.0.0.2:${tlsOnly.port}`, REDIS_TLS_CA_FILE: tls.ca });
    expect(error).toMatch(/does not name the host connected to/);
  });

  it('survives a TLS socket that fails twice (ioredis listens for one error per socket)', async () => {
    const connections = createRedisConnections(readRedisSettings({ REDIS_URL: `rediss://127.0.0.1:${tlsOnly.port}`, REDIS_TLS_CA_FILE: tls.ca }) as Connected);
    try {
      expect(await connections.ping(5_000)).toBe(true);
      const socket = (connections.command as unknown as { stream: import('node:tls').TLSSocket }).stream;
      // As a handshake that fails locally, then gets the server's alert: without
      // a second listener, the second emit throws (an uncaught exception in an app).
      expect(() => {
        socket.emit('error', Object.assign(new Error('first'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }));
        socket.emit('error', Object.assign(new Error('second'), { code: 'ERR_SSL_TLSV1_ALERT_DECODE_ERROR' }));
      }).not.toThrow();
      await expect.poll(() => connections.lastError()).toContain('first');
      // And the connection comes back by itself.
      await expect.poll(() => connections.ping(1_000), { timeout: 10_000 }).toBe(true);
    } finally {
      await connections.quit(500);
    }
  });
});
