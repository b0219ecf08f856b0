/**
 * Real redis-server processes for tests: a standalone server and a 6-node
 * cluster (3 masters, 3 replicas) on free loopback ports, with helpers to stop,
 * restart and kill nodes. Every process started here is killed when the test
 * process exits, whatever happens to the test.
 *
 * By default a bare server: no persistence, no password. With `project`, it
 * starts as the project runs Redis: infra/redis/redis-start.sh with
 * redis.conf (AOF, volatile-lru) and its users (admin, app). With `tls`, it
 * listens for TLS only (`--port 0 --tls-port`), the cluster bus and
 * replication included.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { TlsFiles } from './tls-certificates.js';

const execFileAsync = promisify(execFile);
const HOST = '127.0.0.1';

/** infra/redis of the project (or, for templates/ tested in place, of the generator repository). */
export const redisInfraDir = (() => {
  const project = resolve(import.meta.dirname, '..', '..', 'infra', 'redis');
  return existsSync(join(project, 'redis-start.sh')) ? project : resolve(import.meta.dirname, '..', '..', '..', 'infra', 'redis');
})();

/** The passwords of the project's two Redis users. */
export interface ProjectUsers {
  adminPassword: string;
  appPassword: string;
}

export const testUsers = (): ProjectUsers => ({
  adminPassword: `admin-${Math.random().toString(36).slice(2)}-secret`,
  appPassword: `app-${Math.random().toString(36).slice(2)}-secret`,
});

export interface RedisServerOptions {
  /** Start it as the project does (redis-start.sh, redis.conf, users). */
  project?: ProjectUsers;
  /** Listen for TLS only, with these certificates. */
  tls?: TlsFiles;
  /** With `tls`: refuse clients without a certificate signed by the CA (default: optional). */
  requireClientCert?: boolean;
  /** More redis-server arguments, last (e.g. `--maxmemory 20mb`). */
  args?: string[];
}

/** The variables that point the app at a test server (as the `app` user when it has users). */
function appEnvironment(target: Record<string, string>, options: RedisServerOptions): Record<string, string> {
  return {
    ...target,
    ...(options.project ? { REDIS_USERNAME: 'app', REDIS_PASSWORD: options.project.appPassword } : {}),
    ...(options.tls ? { REDIS_TLS: 'true', REDIS_TLS_CA_FILE: options.tls.ca } : {}),
    ...(options.tls && options.requireClientCert ? { REDIS_TLS_CERT_FILE: options.tls.clientCert, REDIS_TLS_KEY_FILE: options.tls.clientKey } : {}),
  };
}

// Flags known to give quick, reliable failovers on small machines: without
// the last two a second failover can stay stuck in cluster_state:fail.
const CLUSTER_FLAGS = [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-node-timeout',
  '2000',
  '--repl-diskless-sync-delay',
  '0',
  '--cluster-replica-validity-factor',
  '0',
];
const NO_PERSISTENCE = ['--save', '', '--appendonly', 'no'];

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function assertRedisInstalled(): void {
  for (const binary of ['redis-server', 'redis-cli']) {
    const found = (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, binary)));
    if (!found) {
      throw new Error(
        `${binary} is not installed. These tests run real Redis processes: ` +
          'install it with `apt-get install redis-server redis-tools` (Debian/Ubuntu) or `brew install redis`.',
      );
    }
  }
}

/** A free TCP port whose cluster bus port (port + 10000) is free too. */
export async function freePort(withBusPort = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if ((await isFree(port)) && (!withBusPort || (await isFree(port + 10_000)))) return port;
  }
  throw new Error('no free port found on 127.0.0.1');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', ['-h', HOST, '-p', String(port), ...args]);
  return stdout.trim();
}

/** redis-cli arguments and environment for a server: TLS, and the admin user. */
function cliAccess(options: RedisServerOptions): { args: string[]; env: NodeJS.ProcessEnv } {
  const tls = options.tls ? ['--tls', '--cacert', options.tls.ca, '--cert', options.tls.clientCert, '--key', options.tls.clientKey] : [];
  if (!options.project) return { args: tls, env: process.env };
  return { args: [...tls, '--user', 'admin'], env: { ...process.env, REDISCLI_AUTH: options.project.adminPassword } };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** One redis-server process; `stop()` and `start()` keep its port and data dir. */
export class RedisNode {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extraArgs: string[],
    readonly options: RedisServerOptions = {},
  ) {}

  get address(): string {
    return `${HOST}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    if (this.child) return;
    mkdirSync(this.dir, { recursive: true });
    const { tls, project } = this.options;
    const listen = tls
      ? [
          '--port',
          '0',
          '--tls-port',
          String(this.port),
          '--tls-cert-file',
          tls.serverCert,
          '--tls-key-file',
          tls.serverKey,
          '--tls-ca-cert-file',
          tls.ca,
          '--tls-auth-clients',
          this.options.requireClientCert ? 'yes' : 'optional',
          '--tls-replication',
          'yes',
          '--tls-cluster',
          'yes',
        ]
      : ['--port', String(this.port)];
    const args = [...listen, '--bind', HOST, '--dir', this.dir, '--logfile', join(this.dir, 'redis.log'), '--daemonize', 'no'];
    // redis-start.sh execs redis-server: the child's pid is the server's.
    const child = project
      ? spawn(
          'sh',
          [
            // Not redis-cluster.conf: these nodes announce addresses, not hostnames.
            join(redisInfraDir, 'redis-start.sh'),
            join(redisInfraDir, 'redis.conf'),
            ...args,
            ...this.extraArgs,
            ...(this.options.args ?? []),
          ],
          {
            stdio: 'ignore',
            env: { ...process.env, REDIS_ADMIN_PASSWORD: project.adminPassword, REDIS_APP_PASSWORD: project.appPassword, REDIS_RUN_DIR: join(this.dir, 'run') },
          },
        )
      : spawn('redis-server', [...args, ...NO_PERSISTENCE, ...this.extraArgs, ...(this.options.args ?? [])], { stdio: 'ignore' });
    running.add(child);
    child.once('exit', () => {
      running.delete(child);
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
    await waitFor(`redis-server on port ${this.port}`, async () => (await this.cli('PING')) === 'PONG');
  }

  /** Graceful stop (SIGTERM), waiting for the process to exit. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Abrupt death (SIGKILL), the way a crashed or partitioned node looks. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** redis-cli against this server (over TLS and as admin when it has them). */
  async cli(...args: string[]): Promise<string> {
    const access = cliAccess(this.options);
    const { stdout } = await execFileAsync('redis-cli', ['-h', HOST, '-p', String(this.port), ...access.args, ...args], {
      env: access.env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim();
  }
}

export interface StandaloneRedis {
  node: RedisNode;
  url: string;
  port: number;
  /** The variables that connect the app to it (as the `app` user, over TLS, when it has them). */
  appEnv(): Record<string, string>;
  /** Stop every process and remove the data directory. */
  close(): Promise<void>;
}

export async function startStandalone(options: RedisServerOptions = {}): Promise<StandaloneRedis> {
  assertRedisInstalled();
  const root = mkdtempSync(join(tmpdir(), 'redis-standalone-'));
  const node = new RedisNode(await freePort(), root, [], options);
  await node.start();
  const url = `${options.tls ? 'rediss' : 'redis'}://${HOST}:${node.port}`;
  return {
    node,
    port: node.port,
    url,
    appEnv: () => appEnvironment({ REDIS_URL: url }, options),
    async close() {
      await node.kill();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

interface ClusterNodeInfo {
  id: string;
  address: string;
  isMaster: boolean;
  masterId: string | undefined;
  failed: boolean;
}

function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id = '', addressField = '', flags = '', masterId = ''] = line.split(' ');
      return {
        id,
        address: addressField.split('@')[0] ?? '',
        isMaster: flags.includes('master'),
        masterId: masterId === '-' ? undefined : masterId,
        failed: flags.includes('fail'),
      };
    });
}

export interface FailoverResult {
  killed: RedisNode;
  promoted: RedisNode;
  /** From the kill until the replica reports itself master and the cluster is ok. */
  failoverMs: number;
}

export class RedisCluster {
  constructor(
    readonly nodes: RedisNode[],
    private readonly root: string,
  ) {}

  /** `host:port,host:port,...`, the format of `REDIS_CLUSTER_NODES`. */
  get nodeList(): string {
    return this.nodes.map((node) => node.address).join(',');
  }

  /** The variables that connect the app to it (as the `app` user, over TLS, when it has them). */
  appEnv(): Record<string, string> {
    return appEnvironment({ REDIS_CLUSTER_NODES: this.nodeList }, this.nodes[0]?.options ?? {});
  }

  node(address: string): RedisNode {
    const node = this.nodes.find((candidate) => candidate.address === address);
    if (!node) throw new Error(`unknown cluster node ${address}`);
    return node;
  }

  private anyRunning(): RedisNode {
    const node = this.nodes.find((candidate) => candidate.isRunning);
    if (!node) throw new Error('no cluster node is running');
    return node;
  }

  async topology(): Promise<ClusterNodeInfo[]> {
    return parseClusterNodes(await this.anyRunning().cli('CLUSTER', 'NODES'));
  }

  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'cluster_state:ok on every running node',
      async () => {
        for (const node of this.nodes.filter((candidate) => candidate.isRunning)) {
          if (!(await node.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
        }
        return true;
      },
      timeoutMs,
    );
  }

  /** The master serving `key`'s slot (or the first master without a key). */
  async masterFor(key?: string): Promise<RedisNode> {
    if (key !== undefined) {
      const slot = Number(await this.anyRunning().cli('CLUSTER', 'KEYSLOT', key));
      // CLUSTER NODES lists a master's slot ranges from the 9th field on.
      const nodesText = await this.anyRunning().cli('CLUSTER', 'NODES');
      for (const line of nodesText.split('\n')) {
        const fields = line.split(' ');
        const owns = fields.slice(8).some((range) => {
          const [from, to = from] = range.split('-').map(Number);
          return from !== undefined && to !== undefined && slot >= from && slot <= to;
        });
        if (owns && fields[2]?.includes('master')) return this.node((fields[1] ?? '').split('@')[0] ?? '');
      }
      throw new Error(`no master owns slot ${slot}`);
    }
    const master = (await this.topology()).find((info) => info.isMaster && !info.failed);
    if (!master) throw new Error('no healthy master');
    return this.node(master.address);
  }

  /**
   * SIGKILL a master and wait for its replica to take over. Waits first for the
   * replica's link to be up: killing a master whose replica is still syncing
   * can leave the cluster without a failover.
   */
  async killMaster(master?: RedisNode): Promise<FailoverResult> {
    const victim = master ?? (await this.masterFor());
    // Ask the master itself: another node's view of who replicates whom can
    // lag behind the gossip for a moment.
    let replicaAddress: string | undefined;
    await waitFor(`a replica of ${victim.address}`, async () => {
      const view = parseClusterNodes(await victim.cli('CLUSTER', 'NODES'));
      const victimInfo = view.find((info) => info.address === victim.address || info.address.endsWith(`:${victim.port}`));
      replicaAddress = view.find((info) => victimInfo !== undefined && info.masterId === victimInfo.id)?.address;
      return replicaAddress !== undefined;
    });
    const replica = this.node(replicaAddress!);
    await waitFor(`replica ${replica.address} link up`, async () => (await replica.cli('INFO', 'replication')).includes('master_link_status:up'));
    const started = Date.now();
    await victim.kill();
    await waitFor(`replica ${replica.address} promoted`, async () => (await replica.cli('INFO', 'replication')).includes('role:master'));
    await this.waitHealthy();
    return { killed: victim, promoted: replica, failoverMs: Date.now() - started };
  }

  /** Start a killed node again; it rejoins as a replica of its old shard. */
  async restart(node: RedisNode): Promise<void> {
    await node.start();
    await this.waitHealthy();
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Start 6 nodes and join them as 3 masters with 1 replica each. */
export async function startCluster(options: RedisServerOptions = {}): Promise<RedisCluster> {
  assertRedisInstalled();
  const root = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const ports: number[] = [];
  while (ports.length < 6) {
    const port = await freePort(true);
    if (!ports.includes(port)) ports.push(port);
  }
  const nodes = ports.map((port) => new RedisNode(port, join(root, String(port)), CLUSTER_FLAGS, options));
  const cluster = new RedisCluster(nodes, root);
  try {
    await Promise.all(nodes.map((node) => node.start()));
    const access = cliAccess(options);
    await execFileAsync(
      'redis-cli',
      [...access.args, '--cluster', 'create', ...nodes.map((node) => node.address), '--cluster-replicas', '1', '--cluster-yes'],
      { env: access.env },
    );
    await cluster.waitHealthy();
    // Every replica synced, so a failover test can start at once.
    await waitFor('replicas in sync', async () => {
      const topology = await cluster.topology();
      for (const info of topology.filter((candidate) => !candidate.isMaster)) {
        const status = await cluster.node(info.address).cli('INFO', 'replication');
        if (!status.includes('master_link_status:up')) return false;
      }
      return topology.length === 6;
    });
    return cluster;
  } catch (error) {
    await cluster.close();
    throw error;
  }
}
