/**
 * A private Docker engine for the tests: Debian's dockerd (docker.io) started
 * by hand with its own data root, exec root, pidfile, socket, bridge and
 * address pool, so it shares nothing with another engine on the machine, and
 * removed again (containers, mounts, network rules, files) when it stops.
 *
 * The engine leaves the host's firewall to others (--iptables=false) and adds
 * exactly two rules of its own, both scoped to its address pool and removed on
 * stop: forwarding for the pool, and masquerading so image builds reach the
 * package registries. Published ports work through docker-proxy; tests send
 * traffic only to ports published on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/** What a test worker needs to reach a running engine (serializable for vitest's provide/inject). */
export interface EngineInfo {
  /** unix:///.../docker.sock */
  dockerHost: string;
  /** The engine's own directory: data root, exec root, log, and room for per-run caches. */
  dir: string;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved, for error messages. */
  all: string;
}

const ENGINE_DIR_PREFIX = 'cvs-docker-engine-';
const OWNER_FILE = 'owner.json';
const READY_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The environment for docker and compose commands: nothing of the caller's but PATH and HOME. */
export function engineEnv(info: EngineInfo): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    DOCKER_HOST: info.dockerHost,
    // The classic builder: docker-compose 1.29 builds with it, and a docker
    // CLI without its buildx plugin can build with nothing else.
    DOCKER_BUILDKIT: '0',
    COMPOSE_DOCKER_CLI_BUILD: '0',
  };
}

/** Runs the docker CLI against the engine; never throws on a non-zero exit. */
export async function docker(info: EngineInfo, args: string[], options: { timeoutMs?: number; cwd?: string; input?: string } = {}): Promise<RunResult> {
  const result = await execa('docker', args, {
    env: engineEnv(info),
    extendEnv: false,
    reject: false,
    all: true,
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 120_000,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), all: String(result.all) };
}

/** Like docker(), but a non-zero exit is an error carrying the command's output. */
export async function dockerOk(info: EngineInfo, args: string[], options: { timeoutMs?: number; cwd?: string; input?: string } = {}): Promise<string> {
  const result = await docker(info, args, options);
  if (result.exitCode !== 0) throw new Error(`docker ${args.join(' ')} failed (exit ${result.exitCode}):\n${result.all}`);
  return result.stdout.trim();
}

interface Owner {
  /** The process that started the engine; a stale engine is one whose owner is gone. */
  ownerPid: number;
  dockerdPid: number;
  bridge: string;
  pool: string;
  /** Parent cgroup of the engine's containers: what is left in it after a crash is ours. */
  cgroupParent: string;
  rules: string[][];
}

/** What a docker engine needs on this machine, with the package that provides it. */
export function missingEngineRequirements(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (dockerd, network bridges and firewall rules need it)');
  const search = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'];
  const has = (program: string) => search.some((dir) => dir && existsSync(path.join(dir, program)));
  for (const [program, pkg] of [
    ['dockerd', 'docker.io'],
    ['docker', 'docker.io'],
    ['docker-compose', 'docker-compose'],
    ['mmdebstrap', 'mmdebstrap'],
    ['iptables', 'iptables'],
    ['ip', 'iproute2'],
  ] as const) {
    if (!has(program)) missing.push(`${program} (Debian package ${pkg})`);
  }
  return missing;
}

/**
 * Starts a private dockerd and waits until it answers. Engines left behind by
 * an earlier run whose process is gone (killed before its teardown) are
 * removed first.
 */
export async function startEngine(): Promise<EngineInfo & { stop: () => Promise<void> }> {
  const missing = missingEngineRequirements();
  if (missing.length > 0) {
    throw new Error(
      `The Docker tests need: ${missing.join(', ')}. On Debian: apt-get install docker.io docker-compose mmdebstrap iptables iproute2 (as root).`,
    );
  }
  await removeStaleEngines();

  const id = randomBytes(3).toString('hex');
  const dir = path.join(tmpdir(), `${ENGINE_DIR_PREFIX}${id}`);
  mkdirSync(dir, { recursive: true });
  const bridge = `cvsd${id}`;
  const pool = await freePool();
  const [a, b] = pool.split('.');
  const bridgeAddress = `${a}.${b}.0.1/24`;
  const rules = [
    ['-t', 'nat', 'POSTROUTING', '-s', pool, '!', '-d', pool, '-j', 'MASQUERADE'],
    ['-t', 'filter', 'FORWARD', '-s', pool, '-j', 'ACCEPT'],
    ['-t', 'filter', 'FORWARD', '-d', pool, '-j', 'ACCEPT'],
  ];
  const owner: Owner = { ownerPid: process.pid, dockerdPid: 0, bridge, pool, cgroupParent: `cvs-docker-${id}`, rules: [] };
  const saveOwner = () => writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(owner));
  saveOwner();
  const info: EngineInfo = { dockerHost: `unix://${path.join(dir, 'docker.sock')}`, dir };

  try {
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', bridgeAddress, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    for (const rule of rules) {
      const [, table, chain, ...spec] = rule;
      await run('iptables', ['-t', table!, '-I', chain!, ...spec]);
      owner.rules.push(rule);
      saveOwner();
    }

    const log = openSync(path.join(dir, 'dockerd.log'), 'a');
    const daemon = spawn(
      'dockerd',
      [
        '--data-root',
        path.join(dir, 'root'),
        '--exec-root',
        path.join(dir, 'exec'),
        '--pidfile',
        path.join(dir, 'dockerd.pid'),
        '--host',
        info.dockerHost,
        '--bridge',
        bridge,
        '--iptables=false',
        '--ip-masq=false',
        '--default-address-pool',
        `base=${pool},size=24`,
        '--cgroup-parent',
        `/${owner.cgroupParent}`,
        '--containerd-namespace',
        `cvs-${id}`,
        '--containerd-plugins-namespace',
        `cvs-${id}-plugins`,
        '--log-level',
        'warn',
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    daemon.unref();
    owner.dockerdPid = daemon.pid ?? 0;
    saveOwner();

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if ((await docker(info, ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5_000 })).exitCode === 0) break;
      if (!isAlive(owner.dockerdPid) || Date.now() > deadline) {
        throw new Error(`dockerd did not start:\n${readFileSync(path.join(dir, 'dockerd.log'), 'utf8').slice(-4_000)}`);
      }
      await sleep(200);
    }
  } catch (error) {
    await removeEngine(dir);
    throw error;
  }

  // The process may end without running the teardown (an uncaught error in
  // the runner): the engine must not outlive it.
  const onExit = () => {
    if (isAlive(owner.dockerdPid)) process.kill(owner.dockerdPid, 'SIGTERM');
  };
  process.once('exit', onExit);
  return {
    ...info,
    stop: async () => {
      process.removeListener('exit', onExit);
      await removeEngine(dir);
    },
  };
}

/** Stops an engine and removes everything it left: containers, its daemons, mounts, bridge, rules, files. */
export async function removeEngine(dir: string): Promise<void> {
  const ownerFile = path.join(dir, OWNER_FILE);
  if (!existsSync(ownerFile)) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const owner = JSON.parse(readFileSync(ownerFile, 'utf8')) as Owner;
  const info: EngineInfo = { dockerHost: `unix://${path.join(dir, 'docker.sock')}`, dir };

  if (isAlive(owner.dockerdPid)) {
    // Removing the containers first makes the daemon's own shutdown quick.
    const ids = await docker(info, ['ps', '-aq'], { timeoutMs: 15_000 });
    const list = ids.stdout.split('\n').filter(Boolean);
    if (ids.exitCode === 0 && list.length > 0) await docker(info, ['rm', '-f', '-v', ...list], { timeoutMs: 60_000 });
    process.kill(owner.dockerdPid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (isAlive(owner.dockerdPid) && Date.now() < deadline) await sleep(100);
    if (isAlive(owner.dockerdPid)) process.kill(owner.dockerdPid, 'SIGKILL');
  }
  // What is left when dockerd did not stop cleanly (or was killed): its
  // containerd and shims (the engine's directory is in their command lines),
  // the containers' processes (in the engine's own cgroups) and docker-proxy
  // processes (forwarding to the engine's address pool).
  const poolPrefix = `-container-ip ${owner.pool.split('.').slice(0, 2).join('.')}.`;
  const leftovers = [...processesMentioning(dir), ...processesMentioning(poolPrefix), ...processesInCgroups(owner.cgroupParent)];
  for (const pid of new Set(leftovers)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await sleep(leftovers.length > 0 ? 200 : 0);
  removeCgroups(owner.cgroupParent);
  for (const mount of mountsUnder(dir).reverse()) await run('umount', ['-l', mount]).catch(() => undefined);
  for (const rule of owner.rules) {
    const [, table, chain, ...spec] = rule;
    await run('iptables', ['-t', table!, '-D', chain!, ...spec]).catch(() => undefined);
  }
  await run('ip', ['link', 'delete', owner.bridge]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

/** Engines of earlier runs whose owning process no longer exists. */
async function removeStaleEngines(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(ENGINE_DIR_PREFIX)) continue;
    const dir = path.join(tmpdir(), name);
    try {
      const owner = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as Owner;
      if (isAlive(owner.ownerPid)) continue;
    } catch {
      // no owner file: a directory that never got an engine
    }
    await removeEngine(dir);
  }
}

/** A 10.x.0.0/16 that no route of this machine overlaps (other engines' included). */
async function freePool(): Promise<string> {
  const routed = (await run('ip', ['-4', 'route', 'show', 'table', 'all']))
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    // "10.1.0.0/16 dev ...", or with a route type first: "local 10.1.0.1 dev ..."
    .map((words) => (/^\d/.test(words[0] ?? '') ? words[0] : words[1]) ?? '')
    .filter((destination) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(destination))
    .map(parseCidr);
  // A random free one: two engines starting at the same moment rarely pick the same.
  const free = Array.from({ length: 50 }, (_, i) => `10.${200 + i}.0.0/16`).filter((pool) => !routed.some((route) => overlaps(route, parseCidr(pool))));
  if (free.length > 0) return free[Math.floor(Math.random() * free.length)]!;
  throw new Error('no free 10.200-249.0.0/16 address pool for the test engine: every one overlaps a route of this machine');
}

function parseCidr(text: string): { base: number; bits: number } {
  const [address = '', bits = '32'] = text.split('/');
  const base = address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  return { base, bits: Number(bits) };
}

function overlaps(a: { base: number; bits: number }, b: { base: number; bits: number }): boolean {
  const bits = Math.min(a.bits, b.bits);
  const size = 2 ** (32 - bits);
  return Math.floor(a.base / size) === Math.floor(b.base / size);
}

function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(text)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Directories named `name` directly under each cgroup hierarchy (v1 controllers, or v2's single tree). */
function cgroupDirs(name: string): string[] {
  const root = '/sys/fs/cgroup';
  const candidates = [path.join(root, name)];
  try {
    for (const controller of readdirSync(root)) candidates.push(path.join(root, controller, name));
  } catch {
    return [];
  }
  return candidates.filter((dir) => existsSync(dir));
}

function processesInCgroups(name: string): number[] {
  const pids: number[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
      else if (entry.name === 'cgroup.procs') {
        pids.push(...readFileSync(path.join(dir, entry.name), 'utf8').split('\n').filter(Boolean).map(Number));
      }
    }
  };
  for (const dir of cgroupDirs(name)) walk(dir);
  return pids;
}

/** Removes the (now empty) cgroups, deepest first. */
function removeCgroups(name: string): void {
  const remove = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) remove(path.join(dir, entry.name));
    try {
      rmdirSync(dir);
    } catch {
      // still in use, or already gone
    }
  };
  for (const dir of cgroupDirs(name)) remove(dir);
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((mount) => mount.replace(/\\040/g, ' '))
    .filter((mount) => mount === dir || mount.startsWith(`${dir}/`));
}

async function run(program: string, args: string[]): Promise<string> {
  const result = await execa(program, args, { reject: false, all: true, stdin: 'ignore' });
  if (result.exitCode !== 0) throw new Error(`${program} ${args.join(' ')} failed (exit ${result.exitCode}): ${String(result.all)}`);
  return String(result.stdout);
}
