/**
 * The app on the project's Redis (infra/redis/redis-start.sh and its users),
 * logged in as `app`: what that user may not do, that the whole app works
 * under it (a standalone server, and a 6-node cluster over TLS), and that no
 * password shows on any command line.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, postJson, type AppProcess } from '../support/app-process.js';
import { AUTH_ENV, signToken } from '../support/auth-tokens.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { freePort, startCluster, startStandalone, testUsers, type ProjectUsers, type RedisCluster, type StandaloneRedis } from '../support/redis-servers.js';
import { SseClient } from '../support/sse-client.js';
import { makeTlsFiles } from '../support/tls-certificates.js';

const execFileAsync = promisify(execFile);

/** redis-cli as the app user (password in REDISCLI_AUTH, never in argv). */
async function asApp(port: number, users: ProjectUsers, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--user', 'app', ...args], {
    env: { ...process.env, REDISCLI_AUTH: users.appPassword },
  });
  return stdout.trim();
}

/**
 * Everything a user does with the app: notes written and read (through the
 * list cache), an event delivered over SSE, a signed-in user's stream opened
 * with a one-time ticket (kept in Redis) and a private event, readiness, and
 * the Redis memory metrics (INFO) on the metrics port.
 */
async function exerciseApp(app: AppProcess, metricsPort: number): Promise<void> {
  const stream = await SseClient.open({ port: app.port, path: '/api/v1/sse/events?channels=notes' });
  expect(stream.status).toBe(200);
  const token = await signToken({ sub: 'alice' });
  const issued = await fetch(`${app.url}/api/v1/sse/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(issued.status, await issued.clone().text()).toBe(201);
  const { ticket } = ((await issued.json()) as { data: { ticket: string } }).data;
  const own = await SseClient.open({ port: app.port, path: `/api/v1/sse/events?channels=user:alice&ticket=${ticket}` });
  expect(own.status).toBe(200);
  const created = [];
  for (let i = 0; i < 3; i++) {
    const { status, json } = await postJson(app, '/api/v1/notes', { text: `least privilege ${i}` });
    expect(status, JSON.stringify(json)).toBe(201);
    created.push(json.data);
  }
  const signedIn = await fetch(`${app.url}/api/v1/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ text: 'least privilege, signed in' }),
  });
  expect(signedIn.status).toBe(201);
  await own.waitFor((client) => client.envelopes().some((event) => event.channel === 'user:alice'), 10_000, 'the private event');
  own.close();
  expect((await (await fetch(`${app.url}/api/v1/notes/${created[0].id}`)).json()).data).toEqual(created[0]);
  for (let i = 0; i < 2; i++) {
    const list = await (await fetch(`${app.url}/api/v1/notes`)).json();
    expect(list.data.slice(1, 4)).toEqual([...created].reverse());
  }
  // Each note's event, then its word statistics from a background job (BullMQ under the app user).
  const ofType = (client: SseClient, type: string) => client.envelopes().filter((event) => event.channel === 'notes' && event.type === type).length;
  await stream.waitFor((client) => ofType(client, 'note.created') === 4 && ofType(client, 'note.stats') === 4, 20_000, '4 notes and their statistics');
  stream.close();
  expect((await fetch(`${app.url}/health/ready`)).status).toBe(200);
  const stats = await (await fetch(`${app.url}/api/v1/stats`)).json();
  expect(stats.data.cache.hits).toBeGreaterThan(0);
  const { samples } = parsePrometheusText(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
  expect(samples.filter((sample) => sample.name === 'redis_memory_max_bytes').length).toBeGreaterThan(0);
  expect(sampleValue(samples, 'redis_command_errors_total') ?? 0).toBe(0);
  expect(app.output()).not.toMatch(/NOPERM|WRONGPASS|NOAUTH/);
}

/** `ps -ef`, and each process's own command line, must not hold a password. */
async function expectNoPasswordOnCommandLines(pids: number[], passwords: string[]): Promise<void> {
  const { stdout } = await execFileAsync('ps', ['-ef']);
  for (const pid of pids) expect(stdout, `pid ${pid} in ps -ef`).toMatch(new RegExp(`^\\S+\\s+${pid}\\s`, 'm'));
  for (const password of passwords) expect(stdout).not.toContain(password);
}

describe('the app user on a standalone Redis', () => {
  const users = testUsers();
  let redis: StandaloneRedis;
  let app: AppProcess;
  let metricsPort: number;
  let secrets: string;

  beforeAll(async () => {
    redis = await startStandalone({ project: users });
    // The password from a file, as compose and Kubernetes hand it over.
    secrets = mkdtempSync(join(tmpdir(), 'app-secret-'));
    writeFileSync(join(secrets, 'redis-app-password'), `${users.appPassword}\n`, { mode: 0o600 });
    const { REDIS_PASSWORD: _inFile, ...env } = redis.appEnv();
    metricsPort = await freePort();
    app = await startApp('least-privilege', {
      ...env,
      REDIS_PASSWORD_FILE: join(secrets, 'redis-app-password'),
      ...AUTH_ENV,
      JOBS_WORKERS: 'on',
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.close();
    if (secrets) rmSync(secrets, { recursive: true, force: true });
  });

  it('may not run FLUSHALL, CONFIG GET, KEYS, DEBUG or SCAN, nor touch keys outside its prefixes', async () => {
    const refused = /^NOPERM this user has no permissions to run the '([a-z|]+)' command$/;
    for (const command of [['FLUSHALL'], ['CONFIG', 'GET', 'maxmemory'], ['KEYS', '*'], ['SCAN', '0'], ['SHUTDOWN']]) {
      expect(await asApp(redis.port, users, ...command)).toMatch(refused);
    }
    // DEBUG is also off server-wide (enable-debug-command): ask the ACL itself.
    expect(await redis.node.cli('ACL', 'DRYRUN', 'app', 'DEBUG', 'SLEEP', '0')).toBe("This user has no permissions to run the 'debug' command");
    expect(await redis.node.cli('ACL', 'DRYRUN', 'app', 'FLUSHDB')).toBe("This user has no permissions to run the 'flushdb' command");
    expect(await asApp(redis.port, users, 'SET', 'elsewhere', '1')).toBe('NOPERM this user has no permissions to access one of the keys used as arguments');
    expect(await asApp(redis.port, users, 'PUBLISH', 'elsewhere', '1')).toBe(
      'NOPERM this user has no permissions to access one of the channels used as arguments',
    );
    expect(await asApp(redis.port, users, 'SET', 'notes:probe', '1')).toBe('OK');
    // The default user is disabled, and the admin user may do everything.
    expect((await execFileAsync('redis-cli', ['-p', String(redis.port), 'PING'])).stdout).toContain('NOAUTH');
    expect(await redis.node.cli('CONFIG', 'GET', 'maxmemory-policy')).toBe('maxmemory-policy\nvolatile-lru');
  });

  it('runs the whole app', async () => {
    await exerciseApp(app, metricsPort);
  });

  it('puts no password on a command line', async () => {
    await expectNoPasswordOnCommandLines([redis.node.pid!, app.pid], [users.adminPassword, users.appPassword]);
  });
});

describe('the app user on a 6-node cluster over TLS', () => {
  const users = testUsers();
  let cluster: RedisCluster;
  let app: AppProcess;
  let metricsPort: number;

  beforeAll(async () => {
    cluster = await startCluster({ project: users, tls: await makeTlsFiles(), requireClientCert: true });
    metricsPort = await freePort();
    app = await startApp('least-privilege-cluster', {
      ...cluster.appEnv(),
      ...AUTH_ENV,
      JOBS_WORKERS: 'on',
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
    });
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await cluster?.close();
  });

  it('runs the whole app, each write confirmed on a replica', async () => {
    await exerciseApp(app, metricsPort);
    // STORE_WAIT_REPLICAS=1 (the default): the masters were asked to WAIT, and no write went unconfirmed.
    let waits = 0;
    for (const node of cluster.nodes) waits += Number(/^cmdstat_wait:calls=(\d+)/m.exec(await node.cli('INFO', 'commandstats'))?.[1] ?? 0);
    expect(waits).toBeGreaterThanOrEqual(3);
    expect(app.output()).not.toMatch(/not confirmed on a replica|replica wait failed/);
    const { samples } = parsePrometheusText(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    // One series per master.
    expect(samples.filter((sample) => sample.name === 'redis_memory_used_bytes')).toHaveLength(3);
  });

  it('puts no password on a command line', async () => {
    await expectNoPasswordOnCommandLines([...cluster.nodes.map((node) => node.pid!), app.pid], [users.adminPassword, users.appPassword]);
  });
});
