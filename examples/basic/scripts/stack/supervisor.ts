import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { livingInGroups, stopGroups, waitFor } from './processes.js';
import { planFile, type StackPlan, type StackProcess, type StackState, stateFile, writeJsonAtomically } from './state.js';
import { METRICS_PORT, redisEnvironment } from './topology.js';
import { nginxArgs } from './nginx.js';

/**
 * Runs inside the private mount namespace (see private-hosts.ts): starts the
 * Redis servers, forms the cluster, starts the app instances and nginx, then
 * waits. On SIGTERM/SIGINT it stops them in reverse order and exits. It never
 * restarts a process that dies: failover tests kill them on purpose.
 */
export async function supervise(stateDir: string): Promise<void> {
  const plan = JSON.parse(readFileSync(planFile(stateDir), 'utf8')) as StackPlan;
  const { topology } = plan;
  const logDir = path.join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });

  const state: StackState = {
    status: 'starting',
    supervisorPid: process.pid,
    url: `http://${topology.proxy.host}:${topology.proxy.port}`,
    topology,
    processes: [],
  };
  const children = new Map<string, ChildProcess>();
  const save = () => writeJsonAtomically(stateFile(stateDir), state);
  const log = (message: string) => console.log(`${new Date().toISOString()} ${message}`);

  let stopping: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    if (state.status !== 'failed') state.status = 'stopping';
    save();
    // Reverse start order: nothing is proxied to an app that is gone, and the
    // apps shut down (quitting Redis cleanly) while Redis still runs.
    for (const role of ['nginx', 'app', 'redis'] as const) {
      const pgids = state.processes.filter((p) => p.role === role).map((p) => p.pid);
      const grace = role === 'app' ? 20_000 : 5_000;
      const left = await stopGroups(pgids, grace, role === 'nginx' ? 'SIGQUIT' : 'SIGTERM');
      log(`stopped ${role} processes${left.length ? `; still alive: ${left.join(', ')}` : ''}`);
    }
    if (state.status !== 'failed') state.status = 'stopped';
    save();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping`);
    stopping ??= stopAll().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);

  /** Starts a program in its own process group, output to logs/<name>.log. */
  const start = (name: string, role: StackProcess['role'], address: string, program: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const logPath = path.join(logDir, `${name}.log`);
    const out = openSync(logPath, 'a');
    const child = spawn(program, args, { cwd: plan.projectRoot, env: env ?? process.env, stdio: ['ignore', out, out], detached: true });
    if (child.pid === undefined) throw new Error(`could not start ${program}`);
    const entry: StackProcess = { name, role, pid: child.pid, address, log: logPath };
    state.processes.push(entry);
    children.set(name, child);
    child.on('exit', (code, signal) => {
      entry.exitCode = code;
      entry.signal = signal;
      log(`${name} (pid ${entry.pid}) exited: ${signal ?? `code ${code}`}`);
      if (!stopping) save();
    });
    save();
    log(`started ${name} (pid ${child.pid}) on ${address}`);
    return entry;
  };
  const exited = (entry: StackProcess) => entry.exitCode !== undefined;
  /** Waits for check(); fails fast, with the log's tail, when the process exits first. */
  const waitUntil = async (entry: StackProcess, what: string, check: () => Promise<boolean>, timeoutMs: number) => {
    const ok = await waitFor(async () => exited(entry) || (await check()), timeoutMs, 100);
    if (!ok || exited(entry)) {
      const tail = readFileSync(entry.log, 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`${entry.name} ${exited(entry) ? 'exited' : 'timed out'} before ${what}; last lines of ${entry.log}:\n${tail}`);
    }
  };

  // Every Redis-side program reads its password from the stack's secret files
  // (infra/redis/read-secret.sh); a password set in the environment is in those files.
  const redisScripts = path.join(plan.infraDir, 'redis');
  const redisEnv: NodeJS.ProcessEnv = {
    ...process.env,
    // The scripts run redis-server and redis-cli: the ones `start` found.
    PATH: [path.dirname(plan.programs.redisServer), path.dirname(plan.programs.redisCli), process.env.PATH ?? ''].join(path.delimiter),
    REDIS_ADMIN_PASSWORD_FILE: plan.secrets.adminPasswordFile,
    REDIS_APP_PASSWORD_FILE: plan.secrets.appPasswordFile,
  };
  delete redisEnv.REDIS_ADMIN_PASSWORD;
  delete redisEnv.REDIS_APP_PASSWORD;
  const redisPing = (host: string, port: number) =>
    new Promise<boolean>((resolve) => {
      execFile('sh', [path.join(redisScripts, 'admin-cli.sh'), '-h', host, '-p', String(port), 'ping'], { env: redisEnv, timeout: 2_000 }, (error, stdout) =>
        resolve(!error && stdout.trim() === 'PONG'),
      );
    });
  const httpOk = async (url: string) => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  };

  try {
    // --- Redis ---------------------------------------------------------------
    const isCluster = topology.redis === 'cluster';
    const redisEntries = topology.redisNodes.map((node) => {
      // Kept across stops (the append-only file, and the cluster's nodes.conf).
      const dataDir = path.join(stateDir, 'redis', node.name);
      mkdirSync(dataDir, { recursive: true });
      const args = [
        // As compose and Kubernetes start Redis: the users are written from the secrets.
        path.join(redisScripts, 'redis-start.sh'),
        path.join(redisScripts, 'redis.conf'),
        ...(isCluster ? ['--include', path.join(redisScripts, 'redis-cluster.conf')] : []),
        '--bind',
        node.host,
        '--port',
        String(node.port),
        '--dir',
        dataDir,
        '--daemonize',
        'no',
        '--logfile',
        '',
        // Cluster peers learn a node's IP from the source address of its
        // cluster-bus connections; on loopback that would be 127.0.0.1.
        ...(isCluster ? ['--bind-source-addr', node.host, '--cluster-announce-hostname', node.name] : []),
      ];
      const env = { ...redisEnv, REDIS_RUN_DIR: path.join(stateDir, 'run', node.name) };
      // redis-start.sh ends in `exec redis-server`: the pid is the server's.
      return { node, entry: start(node.name, 'redis', `${node.host}:${node.port}`, 'sh', args, env) };
    });
    await Promise.all(redisEntries.map(({ node, entry }) => waitUntil(entry, 'answering PING', () => redisPing(node.host, node.port), 15_000)));

    if (isCluster) {
      const script = path.join(plan.infraDir, 'redis', 'create-cluster.sh');
      const nodes = topology.redisNodes.map((n) => `${n.name}:${n.port}`);
      log(`forming the cluster: ${nodes.join(' ')}`);
      await new Promise<void>((resolve, reject) => {
        execFile('sh', [script, ...nodes], { env: redisEnv, timeout: 90_000 }, (error, stdout, stderr) => {
          log(`create-cluster.sh:\n${stdout}${stderr}`);
          if (error) reject(new Error(`create-cluster.sh failed: ${stderr || error.message}`));
          else resolve();
        });
      });
    }

    // --- apps ------------------------------------------------------------------
    const serverJs = path.join(plan.projectRoot, 'dist', 'server.js');
    const appEntries = topology.apps.map((app) => {
      const env: NodeJS.ProcessEnv = {
        NODE_ENV: 'production',
        // Settings of the user's environment (LOG_LEVEL, ...) pass through;
        // the topology below always wins.
        ...process.env,
        HOST: app.host,
        PORT: String(app.port),
        INSTANCE_ID: app.name,
        METRICS_HOST: app.host,
        METRICS_PORT: String(METRICS_PORT),
        // As under docker compose: nginx sets every request's id.
        TRUST_REQUEST_ID: 'true',
        ...redisEnvironment(topology),
        // The app's own Redis user, restricted to its keys and commands.
        REDIS_USERNAME: 'app',
        REDIS_PASSWORD_FILE: plan.secrets.appPasswordFile,
      };
      delete env.REDIS_PASSWORD;
      delete env.REDIS_CLUSTER_HOSTS;
      if (isCluster) delete env.REDIS_URL;
      else delete env.REDIS_CLUSTER_NODES;
      return { app, entry: start(app.name, 'app', `${app.host}:${app.port}`, process.execPath, [serverJs], env) };
    });
    await Promise.all(
      appEntries.map(({ app, entry }) => waitUntil(entry, 'answering /health/live', () => httpOk(`http://${app.host}:${app.port}/health/live`), 30_000)),
    );

    // --- nginx -----------------------------------------------------------------
    mkdirSync(plan.nginxPrefix, { recursive: true });
    const nginx = start('nginx', 'nginx', `${topology.proxy.host}:${topology.proxy.port}`, plan.programs.nginx, nginxArgs(plan.nginxPrefix, plan.nginxConfig));
    await waitUntil(nginx, 'proxying /health/live', () => httpOk(`${state.url}/health/live`), 15_000);

    state.status = 'ready';
    save();
    log(`ready on ${state.url}`);
  } catch (error) {
    state.status = 'failed';
    state.error = error instanceof Error ? error.message : String(error);
    log(`start failed: ${state.error}`);
    stopping ??= stopAll();
    await stopping;
    process.exit(1);
  }

  // Keep running until a signal; report if everything died on its own.
  const pgids = () => state.processes.map((p) => p.pid);
  setInterval(() => {
    if (!stopping && livingInGroups(pgids()).length === 0) {
      log('every process has exited; supervisor stops');
      stopping = stopAll().then(() => process.exit(0));
    }
  }, 1_000);
}
