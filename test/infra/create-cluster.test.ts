/**
 * infra/redis/create-cluster.sh, the one-shot `redis-cluster-init` service of
 * docker-compose.yml, against six real redis-server processes started with
 * infra/redis/*.conf and the compose hostnames (redis-1..6, resolved through a
 * private hosts file): it forms the cluster, a second run changes nothing, and
 * clients are sent to hostnames.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inPrivateHosts } from '../../templates/scripts/stack/private-hosts.js';
import { randomSubnet } from '../../templates/scripts/stack/topology.js';

const infra = path.join(import.meta.dirname, '..', '..', 'infra', 'redis');
const password = 'create-cluster-test';
const subnet = randomSubnet();
const nodes = Array.from({ length: 6 }, (_, i) => ({ name: `redis-${i + 1}`, host: `${subnet}.${i + 101}` }));
const env = { ...process.env, REDISCLI_AUTH: password };
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
const cli = (host: string, ...args: string[]) => run('redis-cli', ['-h', host, '-p', '6379', ...args]);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'create-cluster-'));
  hosts = path.join(dir, 'hosts');
  writeFileSync(hosts, `${['127.0.0.1 localhost', ...nodes.map((n) => `${n.host} ${n.name}`)].join('\n')}\n`);
  for (const node of nodes) {
    const data = path.join(dir, node.name);
    mkdirSync(data);
    // As docker-compose.yml starts them, plus a loopback address per node.
    const args = [
      path.join(infra, 'redis.conf'),
      '--include',
      path.join(infra, 'redis-cluster.conf'),
      '--bind',
      node.host,
      '--bind-source-addr',
      node.host,
      '--dir',
      data,
      '--logfile',
      '',
      '--cluster-announce-hostname',
      node.name,
      '--requirepass',
      password,
      '--masterauth',
      password,
    ];
    servers.push(spawn('redis-server', args, { stdio: 'ignore' }));
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

  it('fails clearly on a name that does not resolve, and on a wrong node count', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'create-cluster-empty-'));
    const data = path.join(fresh, 'lonely');
    mkdirSync(data);
    const lonelyHost = `${subnet}.120`;
    writeFileSync(hosts, `127.0.0.1 localhost\n${lonelyHost} lonely\n`);
    const lonely = spawn(
      'redis-server',
      [
        path.join(infra, 'redis.conf'),
        '--include',
        path.join(infra, 'redis-cluster.conf'),
        '--bind',
        lonelyHost,
        '--dir',
        data,
        '--logfile',
        '',
        '--requirepass',
        password,
      ],
      { stdio: 'ignore' },
    );
    servers.push(lonely);
    for (let i = 0; i < 100 && (await cli(lonelyHost, 'ping')).output.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));

    const unresolved = await createCluster('lonely:6379', 'nowhere-2:6379', 'nowhere-3:6379', 'nowhere-4:6379', 'nowhere-5:6379', 'nowhere-6:6379');
    expect(unresolved.code).toBe(1);
    expect(unresolved.output).toContain('cannot resolve nowhere-2');

    const tooFew = await createCluster('lonely:6379');
    expect(tooFew.code).toBe(2);
    expect(tooFew.output).toContain('usage:');
  });
});
