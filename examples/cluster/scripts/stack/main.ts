/**
 * npm run stack -- start|stop|status [options]
 *
 * The docker-compose topology as local processes, for machines without
 * Docker and for the stack tests: Redis (6-node cluster or one server), N app
 * instances from dist/server.js, and nginx with infra/nginx/nginx.conf, all in
 * a private mount namespace whose /etc/hosts maps app1..appN and redis-1..6
 * to loopback addresses. State and logs live in .stack/.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkUpstream, localNginxConfig, upstreamServers } from './nginx.js';
import { inPrivateHosts } from './private-hosts.js';
import { isRunning, livingInGroups, signalGroup, waitFor } from './processes.js';
import { findProgram, missingRequirements } from './requirements.js';
import { stackSecrets } from './secrets.js';
import { planFile, readPlan, readState, type StackPlan, type StackState, stateFile, writeJsonAtomically } from './state.js';
import { supervise } from './supervisor.js';
import { APP_PORT, buildTopology, hostsFile, randomSubnet, type RedisMode } from './topology.js';

const USAGE = `Usage: npm run stack -- <start|stop|status> [options]

  start    start Redis, the app instances (dist/server.js) and nginx; returns when ready
  stop     stop every process the stack started
  status   show what runs

Options (start):
  --redis standalone|cluster  Redis flavour (default: volt-scaled.json)
  --instances N               app instances, app1..appN (default: volt-scaled.json)
  --port P                    nginx port on 127.0.0.1 (default: 8080)
  --infra DIR                 nginx/ and redis/ configuration (default: infra)
  --fresh                     delete the Redis data of earlier runs first
Options (all):
  --state-dir DIR             pids, logs and data (default: .stack)

Redis data (append-only files, the cluster's nodes.conf) is kept in
<state-dir>/redis across stop and start; --fresh starts with empty servers.
The Redis users' passwords are REDIS_ADMIN_PASSWORD and REDIS_APP_PASSWORD
(from the environment, else .env) when set, else the project's secrets/ (as
docker compose), else random ones kept in <state-dir>/secrets.`;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 120_000;

/** A problem the user can fix; printed as is. */
class StackError extends Error {}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      redis: { type: 'string' },
      instances: { type: 'string' },
      port: { type: 'string' },
      infra: { type: 'string' },
      'state-dir': { type: 'string' },
      fresh: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 1) throw new StackError(`expected one command, got: ${positionals.join(' ')}`);
  return { command: positionals[0], ...values, stateDir: path.resolve(projectRoot, values['state-dir'] ?? '.stack') };
}

/** The generator's answers, when this project was generated (volt-scaled.json). */
function manifestAnswers(): { redis?: RedisMode; instances?: number } {
  const file = path.join(projectRoot, 'volt-scaled.json');
  if (!existsSync(file)) return {};
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { answers?: { redis?: RedisMode; instances?: number } };
  return manifest.answers ?? {};
}

function parseRedis(value: string | undefined): RedisMode | undefined {
  if (value === undefined || value === 'standalone' || value === 'cluster') return value;
  throw new StackError(`--redis must be standalone or cluster; got "${value}"`);
}

function parseIntIn(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new StackError(`${name} must be a whole number from ${min} to ${max}; got "${value}"`);
  return n;
}

async function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

async function start(options: ReturnType<typeof parse>): Promise<void> {
  const problems = missingRequirements();
  if (problems.length > 0) throw new StackError(`cannot start the stack:\n  - ${problems.join('\n  - ')}`);

  const infraDir = path.resolve(projectRoot, options.infra ?? 'infra');
  const nginxSource = path.join(infraDir, 'nginx', 'nginx.conf');
  if (!existsSync(nginxSource)) {
    const template = existsSync(`${nginxSource}.hbs`) ? ` (only the template ${nginxSource}.hbs: pass --infra with a rendered copy)` : '';
    throw new StackError(`${nginxSource} not found${template}`);
  }
  for (const file of ['redis.conf', 'redis-cluster.conf', 'create-cluster.sh']) {
    if (!existsSync(path.join(infraDir, 'redis', file))) throw new StackError(`${path.join(infraDir, 'redis', file)} not found`);
  }
  if (!existsSync(path.join(projectRoot, 'dist', 'server.js'))) {
    throw new StackError('dist/server.js not found: build the app first (npm run build).');
  }

  const answers = manifestAnswers();
  const redis = parseRedis(options.redis) ?? answers.redis ?? 'standalone';
  const instances = parseIntIn('--instances', options.instances, 1, 16) ?? answers.instances ?? upstreamServers(readFileSync(nginxSource, 'utf8')).length;
  const port = parseIntIn('--port', options.port, 1, 65535) ?? 8080;

  const { stateDir } = options;
  const previous = readState(stateDir);
  if (previous && livingInGroups([previous.supervisorPid, ...previous.processes.map((p) => p.pid)]).length > 0) {
    // Also when only children survive (a supervisor killed with -9): stop cleans them up.
    throw new StackError(`a stack already runs from ${stateDir} (supervisor pid ${previous.supervisorPid}); run "npm run stack stop" first`);
  }
  const redisData = path.join(stateDir, 'redis');
  if (options.fresh) rmSync(redisData, { recursive: true, force: true });
  const keptSubnet = keptRedisSubnet(stateDir, redis);
  const topology = buildTopology({ redis, instances, subnet: keptSubnet ?? randomSubnet(), proxyPort: port });
  checkUpstream(
    nginxSource,
    topology.apps.map((a) => a.name),
    APP_PORT,
  );
  if (!(await portIsFree('127.0.0.1', port))) throw new StackError(`port ${port} on 127.0.0.1 is in use; pass --port`);

  // Everything but the Redis data and the secrets is made again at each start.
  for (const entry of ['run', 'nginx', 'logs', 'state.json', 'plan.json', 'hosts']) rmSync(path.join(stateDir, entry), { recursive: true, force: true });
  const nginxPrefix = path.join(stateDir, 'nginx') + path.sep;
  mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
  mkdirSync(nginxPrefix, { recursive: true });
  const hosts = path.join(stateDir, 'hosts');
  writeFileSync(hosts, hostsFile(topology));
  const nginxConfig = path.join(nginxPrefix, 'nginx.conf');
  writeFileSync(nginxConfig, localNginxConfig(readFileSync(nginxSource, 'utf8'), port));

  const plan: StackPlan = {
    projectRoot,
    stateDir,
    infraDir,
    nginxConfig,
    nginxPrefix,
    hostsFile: hosts,
    topology,
    secrets: stackSecrets(stateDir, projectRoot),
    programs: { redisServer: findProgram('redis-server')!, redisCli: findProgram('redis-cli')!, nginx: findProgram('nginx')! },
  };
  writeJsonAtomically(planFile(stateDir), plan);

  // The supervisor is this script again (same loader flags, e.g. tsx's),
  // inside the private mount namespace, detached so it outlives this command.
  const script = fileURLToPath(import.meta.url);
  const [program, args] = inPrivateHosts(hosts, process.execPath, [...process.execArgv, script, 'supervise', '--state-dir', stateDir]);
  const supervisorLog = path.join(stateDir, 'logs', 'supervisor.log');
  const out = openSync(supervisorLog, 'a');
  const child = spawn(program, args, { cwd: projectRoot, detached: true, stdio: ['ignore', out, out] });
  child.unref();
  let supervisorExit: number | null | undefined;
  child.on('exit', (code) => (supervisorExit = code));

  console.log(`Starting ${redis === 'cluster' ? 'a 6-node Redis Cluster' : 'Redis'}, ${instances} app instance(s) and nginx...`);
  console.log(keptSubnet ? `Redis data kept from the last run (${redisData}; --fresh starts empty).` : `Redis data in ${redisData}.`);
  const settled = await waitFor(
    () => {
      const status = readState(stateDir)?.status;
      return status === 'ready' || status === 'failed' || supervisorExit !== undefined;
    },
    START_TIMEOUT_MS,
    200,
  );
  const state = readState(stateDir);
  if (state?.status !== 'ready') {
    const reason = state?.error ?? (settled ? `the supervisor exited (code ${supervisorExit})` : `not ready after ${START_TIMEOUT_MS / 1000} s`);
    const tail = existsSync(supervisorLog) ? readFileSync(supervisorLog, 'utf8').split('\n').slice(-20).join('\n') : '';
    await stop(options, { quiet: true });
    throw new StackError(`the stack did not start: ${reason}\n--- ${supervisorLog} ---\n${tail}`);
  }
  printStatus(state, stateDir);
}

/**
 * The subnet of the stack whose Redis data is kept in <stateDir>/redis: the
 * servers must come back on the addresses they had (a cluster's nodes.conf
 * names its peers by address). Undefined when there is no data.
 */
function keptRedisSubnet(stateDir: string, redis: RedisMode): string | undefined {
  const redisData = path.join(stateDir, 'redis');
  if (!existsSync(redisData) || readdirSync(redisData).length === 0) return undefined;
  const previous = readPlan(stateDir)?.topology;
  if (!previous) throw new StackError(`${redisData} holds Redis data of an unknown stack: add --fresh to delete it`);
  if (previous.redis !== redis) {
    throw new StackError(`${redisData} holds the data of a ${previous.redis} Redis: start with --redis ${previous.redis}, or add --fresh to delete it`);
  }
  return previous.subnet;
}

async function stop(options: ReturnType<typeof parse>, { quiet = false } = {}): Promise<boolean> {
  const { stateDir } = options;
  const state = readState(stateDir);
  if (!state) {
    if (!quiet) console.log(`No stack state in ${stateDir}: nothing to stop.`);
    return true;
  }
  const groups = [state.supervisorPid, ...state.processes.map((p) => p.pid)];
  if (isRunning(state.supervisorPid)) {
    // The supervisor stops nginx, then the apps (graceful), then Redis.
    signalGroup(state.supervisorPid, 'SIGTERM');
    await waitFor(() => !isRunning(state.supervisorPid), 60_000, 200);
  }
  // Whatever survived (a supervisor killed with -9 leaves its children).
  for (const pid of livingInGroups(groups)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  await waitFor(() => livingInGroups(groups).length === 0, 5_000);
  const left = livingInGroups(groups);
  if (left.length > 0) {
    console.error(`Some stack processes are still running: ${left.join(', ')}`);
    return false;
  }
  const final = readState(stateDir);
  if (final && final.status !== 'failed') writeJsonAtomically(stateFile(stateDir), { ...final, status: 'stopped' });
  if (!quiet) console.log(`Stopped ${state.processes.length} processes and the supervisor; logs kept in ${path.join(stateDir, 'logs')}.`);
  return true;
}

function printStatus(state: StackState, stateDir: string): void {
  const supervisor = isRunning(state.supervisorPid);
  console.log(`Stack ${supervisor ? state.status : 'not running'} (${stateDir})`);
  if (supervisor) console.log(`  ${state.url}  (nginx -> ${state.topology.apps.map((a) => a.name).join(', ')})`);
  for (const p of state.processes) {
    const alive = isRunning(p.pid);
    console.log(`  ${p.name.padEnd(8)} ${alive ? 'running' : 'exited '}  pid ${String(p.pid).padEnd(8)} ${p.address.padEnd(22)} ${p.log}`);
  }
  if (state.error) console.log(`  error: ${state.error}`);
}

function status(options: ReturnType<typeof parse>): boolean {
  const state = readState(options.stateDir);
  if (!state) {
    console.log(`No stack in ${options.stateDir}. Start one with: npm run stack start`);
    return false;
  }
  printStatus(state, options.stateDir);
  return isRunning(state.supervisorPid) && state.processes.every((p) => isRunning(p.pid));
}

async function main(argv: string[]): Promise<number> {
  const options = parse(argv);
  if (options.help || !options.command) {
    console.log(USAGE);
    return options.help ? 0 : 2;
  }
  switch (options.command) {
    case 'start':
      await start(options);
      return 0;
    case 'stop':
      return (await stop(options)) ? 0 : 1;
    case 'status':
      return status(options) ? 0 : 1;
    case 'supervise':
      await supervise(options.stateDir);
      return -1; // keeps running until a signal
    default:
      throw new StackError(`unknown command "${options.command}"\n\n${USAGE}`);
  }
}

// A closed pipe (`npm run stack status | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    // Messages are written for users; STACK_DEBUG=1 shows where they came from.
    const detail = error instanceof Error ? (process.env.STACK_DEBUG ? (error.stack ?? error.message) : error.message) : String(error);
    console.error(`stack: ${detail}`);
    process.exitCode = 1;
  },
);
