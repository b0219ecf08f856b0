/**
 * The Redis pods and the cluster-forming Job of deploy/kubernetes, run as
 * local processes with the rendered manifests' own commands, environment
 * (ConfigMap, Secret, downward API) and mounted files: each pod on its own
 * loopback address, its stable DNS name (redis-cluster-N.redis-cluster) in a
 * private hosts file, each volume a temporary directory. Then the app, with
 * the environment its pod gets, must be ready on that Redis.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inPrivateHosts } from '../../templates/scripts/stack/private-hosts.js';
import { randomSubnet } from '../../templates/scripts/stack/topology.js';
import { freePort, waitForHttp } from '../support/free-port.js';
import { containerEnv, named } from './support/kubernetes-pod.js';
import type { KubeObject } from './support/kubernetes-validation.js';
import { editRootKustomization, kustomize, run, secretsCommand } from './support/kustomize.js';
import { renderProjectFiles } from './support/render-project-files.js';

const templates = path.join(import.meta.dirname, '..', '..', 'templates');
const processes: ChildProcess[] = [];
let work = '';
let hosts = '';

afterAll(async () => {
  for (const child of processes) child.kill('SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'kubernetes-redis-'));
  hosts = path.join(work, 'hosts');
});

async function render(overlay: 'standalone' | 'cluster'): Promise<KubeObject[]> {
  const dir = await renderProjectFiles({ redis: overlay, instances: 2 }, (target) => target.startsWith('deploy/') || target.startsWith('infra/'));
  try {
    await run(await secretsCommand(dir), dir);
    await editRootKustomization(dir, { overlay });
    return await kustomize(path.join(dir, 'deploy/kubernetes'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A pod's volumes as temporary directories (ConfigMap volumes hold the
 * ConfigMap's files), and its command with each mount path pointed at them.
 */
async function mountVolumes(objects: KubeObject[], podSpec: any, container: any, podName: string): Promise<string> {
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) mounts.set(mount.mountPath, path.join(work, podName, mount.name));
  const relocate = (text: string) => [...mounts].reduce((t, [from, to]) => t.replaceAll(from, to), text);
  for (const mount of container.volumeMounts ?? []) {
    const dir = mounts.get(mount.mountPath)!;
    await mkdir(dir, { recursive: true });
    const configMap = podSpec.volumes?.find((v: any) => v.name === mount.name)?.configMap;
    if (!configMap) continue;
    for (const [file, content] of Object.entries(named(objects, 'ConfigMap', configMap.name).data as Record<string, string>)) {
      await writeFile(path.join(dir, file), relocate(content));
    }
  }
  return relocate(container.command[2]);
}

function exec(program: string, args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** The redis-auth Secret's passwords. */
interface Secret {
  REDIS_ADMIN_PASSWORD: string;
  REDIS_APP_PASSWORD: string;
}

function secretOf(objects: KubeObject[]): Secret {
  const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('redis-auth')) as any;
  const value = (key: string) => Buffer.from(secret.data[key], 'base64').toString('utf8');
  return { REDIS_ADMIN_PASSWORD: value('REDIS_ADMIN_PASSWORD'), REDIS_APP_PASSWORD: value('REDIS_APP_PASSWORD') };
}

interface Pod {
  name: string;
  ip: string;
  pid: number;
  dataDir: string;
}

/** Starts a StatefulSet's pods with their own command, on loopback addresses. */
async function startStatefulSet(objects: KubeObject[], statefulSet: any, subnet: string, secret: Secret): Promise<Pod[]> {
  const pods: Pod[] = [];
  const podSpec = statefulSet.spec.template.spec;
  const container = podSpec.containers[0];
  for (let i = 0; i < statefulSet.spec.replicas; i++) {
    const name = `${statefulSet.metadata.name}-${i}`;
    const ip = `${subnet}.${10 + i}`;
    const script = await mountVolumes(objects, podSpec, container, name);
    // Only the address differs from the pod: here each "pod" has its own loopback address.
    const child = spawn(container.command[0], [container.command[1], `${script.trimEnd()} --bind ${ip} --bind-source-addr ${ip}`], {
      env: { PATH: process.env.PATH ?? '', ...containerEnv(objects, container, name) },
      stdio: 'ignore',
    });
    processes.push(child);
    pods.push({ name, ip, pid: child.pid!, dataDir: path.join(work, name, 'data') });
  }
  for (const pod of pods) {
    for (let i = 0; i < 100 && (await asUser(pod, 'admin', secret, 'ping')).output.trim() !== 'PONG'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return pods;
}

/** redis-cli as one of the users redis-start.sh wrote from the Secret. */
const asUser = (pod: Pod, user: 'admin' | 'app', secret: Secret, ...args: string[]) =>
  exec('redis-cli', ['-h', pod.ip, '--user', user, ...args], { REDISCLI_AUTH: user === 'admin' ? secret.REDIS_ADMIN_PASSWORD : secret.REDIS_APP_PASSWORD });

async function expectLockedRedis(pod: Pod, secret: Secret): Promise<void> {
  expect((await exec('redis-cli', ['-h', pod.ip, 'ping'], {})).output).toContain('NOAUTH');
  expect((await asUser(pod, 'admin', secret, 'config', 'get', 'appendonly')).output).toBe('appendonly\nyes\n');
  expect((await asUser(pod, 'app', secret, 'config', 'get', 'appendonly')).output).toContain('NOPERM');
  const commandLine = (await readFile(`/proc/${pod.pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  expect(commandLine).toMatch(/^redis-server /);
  for (const password of Object.values(secret)) expect(commandLine).not.toContain(password);
  expect(await readdir(pod.dataDir)).toContain('appendonlydir');
}

/** The app as its pod runs it (only the listening addresses differ), resolving names through the private hosts file. */
async function expectAppReady(objects: KubeObject[]): Promise<void> {
  const deployment = named(objects, 'Deployment', 'api');
  const environment = containerEnv(objects, deployment.spec.template.spec.containers[0], 'api-5f7c9d-x2x7q');
  const port = await freePort();
  const overrides = { HOST: '127.0.0.1', PORT: String(port), METRICS_HOST: '127.0.0.1', METRICS_PORT: String(await freePort()) };
  const [program, args] = inPrivateHosts(hosts, process.execPath, ['--import', 'tsx', 'src/server.ts']);
  let output = '';
  const app = spawn(program, args, { cwd: templates, env: { PATH: process.env.PATH ?? '', ...environment, ...overrides }, stdio: ['ignore', 'pipe', 'pipe'] });
  processes.push(app);
  app.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  app.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health/live`, 60_000);
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status, output).toBe(200);
    const note = await fetch(`http://127.0.0.1:${port}/api/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from the pod environment' }),
    });
    expect(note.status, output).toBe(201);
  } finally {
    app.kill('SIGTERM');
    await new Promise((resolve) => app.once('exit', resolve));
  }
}

describe('standalone overlay, run as its manifests say', () => {
  it("Redis requires its users' passwords from the Secret (never on its command line), writes its AOF to the volume, and the app is ready on it", async () => {
    const objects = await render('standalone');
    const secret = secretOf(objects);
    const subnet = randomSubnet();
    const [pod] = await startStatefulSet(objects, named(objects, 'StatefulSet', 'redis'), subnet, secret);
    await writeFile(hosts, `127.0.0.1 localhost\n${pod!.ip} redis\n`);
    await expectLockedRedis(pod!, secret);
    await expectAppReady(objects);
  });
});

describe('cluster overlay, run as its manifests say', () => {
  it('the Job forms the cluster from six pods that announce their stable names, and the app is ready on it', async () => {
    const objects = await render('cluster');
    const secret = secretOf(objects);
    const statefulSet = named(objects, 'StatefulSet', 'redis-cluster');
    const service = statefulSet.spec.serviceName;
    const subnet = randomSubnet();
    const pods = await startStatefulSet(objects, statefulSet, subnet, secret);
    await writeFile(hosts, `${['127.0.0.1 localhost', ...pods.map((p) => `${p.ip} ${p.name}.${service}`)].join('\n')}\n`);

    const job = named(objects, 'Job', 'redis-cluster-create');
    const jobPod = job.spec.template.spec;
    const jobContainer = jobPod.containers[0];
    const script = await mountVolumes(objects, jobPod, jobContainer, 'redis-cluster-create');
    const [program, args] = inPrivateHosts(hosts, jobContainer.command[0], [jobContainer.command[1], script, jobContainer.command[3], ...jobContainer.args]);
    const created = await exec(program, args, containerEnv(objects, jobContainer, 'redis-cluster-create-abcde'));
    expect(created.output).toContain('Redis Cluster ready');
    expect(created.code).toBe(0);

    // Clients are redirected by name: the masters of every slot range, and each node's own announcement.
    const slots = (await asUser(pods[0]!, 'admin', secret, 'cluster', 'slots')).output.split('\n');
    const masters = slots.filter((line) => line.endsWith(`.${service}`));
    expect(masters.length, slots.join('\n')).toBe(3);
    for (const pod of pods) {
      const nodes = (await asUser(pod, 'admin', secret, 'cluster', 'nodes')).output;
      expect(nodes.split('\n').find((line) => line.includes('myself'))).toContain(`,${pod.name}.${service} `);
    }
    for (const pod of pods) await expectLockedRedis(pod, secret);

    const again = await exec(program, args, containerEnv(objects, jobContainer, 'redis-cluster-create-fghij'));
    expect(again.output).toContain('already formed');
    expect(again.code).toBe(0);
    await expectAppReady(objects);
  });
});
