/**
 * Real redis-server processes for tests: a standalone server and a 6-node
 * cluster (3 masters, 3 replicas) on free loopback ports, with helpers to stop,
 * restart and kill nodes. Every process started here is killed when the test
 * process exits, whatever happens to the test.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const HOST = '127.0.0.1';

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
    const args = [
      '--port',
      String(this.port),
      '--bind',
      HOST,
      '--dir',
      this.dir,
      '--logfile',
      join(this.dir, 'redis.log'),
      '--daemonize',
      'no',
      ...NO_PERSISTENCE,
      ...this.extraArgs,
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    running.add(child);
    child.once('exit', () => {
      running.delete(child);
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
    await waitFor(`redis-server on port ${this.port}`, async () => (await redisCli(this.port, 'PING')) === 'PONG');
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

  cli(...args: string[]): Promise<string> {
    return redisCli(this.port, ...args);
  }
}

export interface StandaloneRedis {
  node: RedisNode;
  url: string;
  port: number;
  /** Stop every process and remove the data directory. */
  close(): Promise<void>;
}

export async function startStandalone(): Promise<StandaloneRedis> {
  assertRedisInstalled();
  const root = mkdtempSync(join(tmpdir(), 'redis-standalone-'));
  const node = new RedisNode(await freePort(), root, []);
  await node.start();
  return {
    node,
    port: node.port,
    url: `redis://${HOST}:${node.port}`,
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
export async function startCluster(): Promise<RedisCluster> {
  assertRedisInstalled();
  const root = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const ports: number[] = [];
  while (ports.length < 6) {
    const port = await freePort(true);
    if (!ports.includes(port)) ports.push(port);
  }
  const nodes = ports.map((port) => new RedisNode(port, join(root, String(port)), CLUSTER_FLAGS));
  const cluster = new RedisCluster(nodes, root);
  try {
    await Promise.all(nodes.map((node) => node.start()));
    await execFileAsync('redis-cli', ['--cluster', 'create', ...nodes.map((node) => node.address), '--cluster-replicas', '1', '--cluster-yes']);
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
