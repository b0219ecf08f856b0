/**
 * Starts and stops `npm run stack` for the stack tests, from the project these
 * tests live in: it builds dist/ with the project's tsconfig.build.json and
 * runs scripts/stack/main.ts with tsx, exactly as a user would. In the generator's
 * repository (templates/ tested in place) there is no rendered infra/ yet, so
 * the generator renders one project next to it and the stack reads that
 * project's infra/.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { upstreamServers } from '../../scripts/stack/nginx.js';
import { livingInGroups } from '../../scripts/stack/processes.js';
import type { StackState } from '../../scripts/stack/state.js';

const require = createRequire(import.meta.url);
export const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const tsxCli = require.resolve('tsx/cli');
const tsc = require.resolve('typescript/bin/tsc');

interface Run {
  code: number;
  output: string;
}

function run(program: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(program, args, { cwd: projectRoot, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

async function mustRun(what: string, program: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await run(program, args, env);
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.output}`);
  return result.output;
}

/** `npm run build`: compile src/ to dist/ with the project's own settings. */
export async function buildApp(): Promise<void> {
  await mustRun('the build', process.execPath, [tsc, '-p', path.join(projectRoot, 'tsconfig.build.json')]);
}

/**
 * The infra/ directory the stack should read and the instance count its
 * nginx.conf proxies to. A generated project has its own; in the generator's
 * repository the generator renders a cluster project with 3 instances.
 */
export async function infraForTests(): Promise<{ infraDir: string; instances: number }> {
  const own = path.join(projectRoot, 'infra');
  const countIn = (dir: string) => upstreamServers(readFileSync(path.join(dir, 'nginx', 'nginx.conf'), 'utf8')).length;
  if (existsSync(path.join(own, 'nginx', 'nginx.conf'))) return { infraDir: own, instances: countIn(own) };
  const cli = path.join(projectRoot, '..', 'generator', 'cli.ts');
  if (!existsSync(cli)) throw new Error(`${own}/nginx/nginx.conf not found: these tests need the project's infra/ directory`);
  const target = path.join(mkdtempSync(path.join(tmpdir(), 'stack-infra-')), 'project');
  await mustRun('the generator', process.execPath, [tsxCli, cli, target, '--yes', '--redis', 'cluster', '--instances', '3', '--no-install', '--no-git'], {
    ...process.env,
    CI: '1',
  });
  const infraDir = path.join(target, 'infra');
  return { infraDir, instances: countIn(infraDir) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RunningStack {
  port: number;
  url: string;
  stateDir: string;
  /** The Redis admin user's password (the stack gives the app its own user, `app`). */
  adminPassword: string;
  state(): StackState;
  stop(): Promise<Run>;
  /** Process groups the stack started (supervisor included), for "nothing left running". */
  processGroups(): number[];
}

export interface StackOptions {
  redis: 'cluster' | 'standalone';
  instances: number;
  infraDir: string;
  /** Another start of an earlier stack: its state directory (Redis data kept) and port. */
  again?: Pick<RunningStack, 'stateDir' | 'port' | 'adminPassword'>;
  /** More `stack start` arguments (e.g. `--fresh`). */
  args?: string[];
  /** Settings for the apps (AUTH_SECRET, ...), as a user would put them in the environment. */
  env?: Record<string, string>;
}

/** `npm run stack start`; fails with the command's output when it does not start. */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const attempt = await tryStartStack(options);
  if ('failed' in attempt) throw new Error(`npm run stack start failed (exit ${attempt.failed.code}):\n${attempt.failed.output}`);
  return attempt;
}

export async function tryStartStack(options: StackOptions): Promise<RunningStack | { failed: Run }> {
  const stateDir = options.again?.stateDir ?? mkdtempSync(path.join(tmpdir(), 'stack-state-'));
  const port = options.again?.port ?? (await freePort());
  const adminPassword = options.again?.adminPassword ?? randomBytes(16).toString('hex');
  // The default log level, so the tests see the request lines users get (logs/<name>.log).
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_ADMIN_PASSWORD: adminPassword, LOG_LEVEL: 'info', ...options.env };
  delete env.REDIS_APP_PASSWORD;
  const stackScript = path.join(projectRoot, 'scripts', 'stack', 'main.ts');
  const common = ['--state-dir', stateDir];
  const state = () => JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as StackState;
  const started = await run(
    process.execPath,
    [
      tsxCli,
      stackScript,
      'start',
      '--redis',
      options.redis,
      '--instances',
      String(options.instances),
      '--port',
      String(port),
      '--infra',
      options.infraDir,
      ...(options.args ?? []),
      ...common,
    ],
    env,
  );
  if (started.code !== 0) return { failed: started };
  let groups: number[] = [];
  const snapshot = () => {
    const s = state();
    groups = [s.supervisorPid, ...s.processes.map((p) => p.pid)];
    return groups;
  };
  snapshot();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stateDir,
    adminPassword,
    state,
    processGroups: snapshot,
    stop: () => run(process.execPath, [tsxCli, stackScript, 'stop', ...common], env),
  };
}

/** Processes of the given groups still alive (none after a clean stop). */
export const stillRunning = (groups: number[]) => livingInGroups(groups);
