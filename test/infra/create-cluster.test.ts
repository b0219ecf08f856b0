/**
 * infra/redis/create-cluster.sh, the one-shot `redis-cluster-init` service of
 * docker-compose.yml, against six real redis-server processes started by
 * infra/redis/redis-start.sh with infra/redis/*.conf and the compose hostnames
 * (redis-1..6, resolved through a private hosts file): it forms the cluster as
 * the admin user, a second run changes nothing, and clients are sent to
 * hostnames.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inPrivateHosts } from '../../templates/scripts/stack/private-hosts.js';
import { randomSubnet } from '../../templates/scripts/stack/topology.js';

const infra = path.join(import.meta.dirname, '..', '..', 'infra', 'redis');
const adminPassword = 'create-cluster-test-admin';
const subnet = randomSubnet();
const nodes = Array.from({ length: 6 }, (_, i) => ({ name: `redis-${i + 1}`, host: `${subnet}.${i + 101}` }));
const env = { ...process.env, REDIS_ADMIN_PASSWORD: adminPassword, REDIS_APP_PASSWORD: 'create-cluster-test-app' };
const servers: ChildProcess[] = [];
let dir = '';
let hosts = '';

function run(program: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { env, timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

const createCluster = (...names: string[]) => run(...inPrivateHosts(hosts, 'sh', [path.join(infra, 'create-cluster.sh'), ...names]));
const cli = (host: string, ...args: string[]) => run('sh', [path.join(infra, 'admin-cli.sh'), '-h', host, '-p', '6379', ...args]);
/** As docker-compose.yml starts a Redis server, plus a loopback address and a run directory of its own. */
const startRedis = (data: string, args: string[]) =>
  spawn(
    'sh',
    [
      path.join(infra, 'redis-start.sh'),
      path.join(infra, 'redis.conf'),
      '--include',
      path.join(infra, 'redis-cluster.conf'),
      '--dir',
      data,
      '--logfile',
      '',
      ...args,
    ],
    {
      env: { ...env, REDIS_RUN_DIR: path.join(data, 'run') },
      stdio: 'ignore',
    },
  );

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'create-cluster-'));
  hosts = path.join(dir, 'hosts');
  writeFileSync(hosts, `${['127.0.0.1 localhost', ...nodes.map((n) => `${n.host} ${n.name}`)].join('\n')}\n`);
  for (const node of nodes) {
    const data = path.join(dir, node.name);
    mkdirSync(data);
    servers.push(startRedis(data, ['--bind', node.host, '--bind-source-addr', node.host, '--cluster-announce-hostname', node.name]));
  }
  for (const node of nodes) {
    for (let i = 0; i < 100 && (await cli(node.host, 'ping')).output.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(() => {
  for (const server of servers) server.kill('SIGKILL');
});

describe('create-cluster.sh', () => {
  const names = () => nodes.map((n) => `${n.name}:6379`);

  it('forms a 3-master, 3-replica cluster from six empty nodes and waits until it is usable', async () => {
    const { code, output } = await createCluster(...names());
    expect(output).toContain('[OK] All 16384 slots covered');
    expect(output).toContain('Redis Cluster ready');
    expect(code).toBe(0);
    for (const node of nodes) expect((await cli(node.host, 'cluster', 'info')).output).toContain('cluster_state:ok');
    const roles = await Promise.all(nodes.map(async (n) => /role:(\w+)/.exec((await cli(n.host, 'info', 'replication')).output)?.[1]));
    expect(roles.filter((r) => r === 'master').length).toBe(3);
    expect(roles.filter((r) => r === 'slave').length).toBe(3);
  });

  it('announces hostnames to clients', async () => {
    const slots = (await cli(nodes[0]!.host, 'cluster', 'slots')).output.split('\n');
    const endpoints = new Set(slots.filter((line) => /^redis-\d$/.test(line)));
    expect([...endpoints].sort()).toEqual(expect.arrayContaining(['redis-1', 'redis-2', 'redis-3']));
    expect(slots.some((line) => line === nodes[0]!.host)).toBe(true); // the IP still travels as metadata
  });

  it('does nothing when the cluster already exists (a second `docker compose up`)', async () => {
    const { code, output } = await createCluster(...names());
    expect(output).toContain('already formed (6 nodes known); not creating it again');
    expect(output).toContain('Redis Cluster ready');
    expect(code).toBe(0);
  });

  it('finds every node again when all six come back on new addresses (containers or pods made anew), data kept', async () => {
    const inHosts = (...args: string[]) =>
      run(...inPrivateHosts(hosts, 'sh', [path.join(infra, 'admin-cli.sh'), '-c', '-h', 'redis-1', '-p', '6379', ...args]));
    expect((await inHosts('set', 'notes:kept', 'across the move')).output.trim()).toBe('OK');
    // As `docker compose down` + `up`: every node stops, then starts on its data with another address.
    for (const node of nodes) await cli(node.host, 'shutdown');
    for (const server of servers.splice(0)) if (server.exitCode === null && server.signalCode === null) await new Promise((r) => server.once('exit', r));
    const moved = nodes.map((node, i) => ({ ...node, host: `${subnet}.${i + 111}` }));
    writeFileSync(hosts, `${['127.0.0.1 localhost', ...moved.map((n) => `${n.host} ${n.name}`)].join('\n')}\n`);
    for (const node of moved) {
      servers.push(startRedis(path.join(dir, node.name), ['--bind', node.host, '--bind-source-addr', node.host, '--cluster-announce-hostname', node.name]));
    }
    for (const node of moved) {
      for (let i = 0; i < 100 && (await cli(node.host, 'ping')).output.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
    }

    const { code, output } = await createCluster(...names());
    expect(output).toContain('already formed (6 nodes known); not creating it again');
    expect(output).toContain('Redis Cluster ready');
    expect(code).toBe(0);
    for (const node of moved) {
      const view = (await cli(node.host, 'cluster', 'nodes')).output;
      for (const other of moved) expect(view, `${node.name} knows ${other.name} at its new address`).toContain(`${other.host}:6379@16379,${other.name} `);
    }
    expect((await inHosts('get', 'notes:kept')).output.trim()).toBe('across the move');
  });

  it('fails clearly on a name that does not resolve, and on a wrong node count', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'create-cluster-empty-'));
    const data = path.join(fresh, 'lonely');
    mkdirSync(data);
    const lonelyHost = `${subnet}.120`;
    writeFileSync(hosts, `127.0.0.1 localhost\n${lonelyHost} lonely\n`);
    const lonely = startRedis(data, ['--bind', lonelyHost]);
    servers.push(lonely);
    for (let i = 0; i < 100 && (await cli(lonelyHost, 'ping')).output.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));

    const unresolved = await createCluster('lonely:6379', 'nowhere-2:6379', 'nowhere-3:6379', 'nowhere-4:6379', 'nowhere-5:6379', 'nowhere-6:6379');
    expect(unresolved.code).toBe(1);
    expect(unresolved.output).toContain('cannot resolve nowhere-2');

    const tooFew = await createCluster('lonely:6379');
    expect(tooFew.code).toBe(2);
    expect(tooFew.output).toContain('usage:');
  });

  it('refuses to run without the admin password, naming the variable', async () => {
    const withoutPassword: NodeJS.ProcessEnv = { ...env };
    delete withoutPassword.REDIS_ADMIN_PASSWORD;
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(...inPrivateHosts(hosts, 'sh', [path.join(infra, 'create-cluster.sh'), ...names()]), { env: withoutPassword }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    expect(result.output).toContain('REDIS_ADMIN_PASSWORD (or REDIS_ADMIN_PASSWORD_FILE, a file holding it) is not set');
    expect(result.code).toBe(1);
  });
});
