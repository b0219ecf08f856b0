/**
 * The default middleware stack (send-time compression, metrics, request id,
 * request logs at info) against the bare kernel and raw node:http on
 * `GET /api/v1/ping`, the `compression` package placed as ordinary middleware
 * for comparison, and a ~20 KB JSON list with and without compression.
 *
 *   npm run bench:middleware -- [--duration 10] [--rounds 3] [--connections 50] [--only ping]
 *
 * The template is compiled with tsc first. Every server runs in its own
 * process (bench/http-servers/*.mjs) for the whole run; autocannon runs here;
 * cases alternate round by round so background load spreads over all of
 * them. Reported: median requests/s, server CPU time per response (from
 * /proc, all threads, so the log writer counts too; median and minimum: on a
 * shared machine the minimum is the least disturbed run), the main thread's
 * share of it (the thread that bounds requests/s), bytes per response.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const BUILD_DIR = join(root, 'node_modules', '.cache', 'volt-bench-middleware', 'dist');
const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

// autocannon ships no types: the part used here.
interface AutocannonResult {
  requests: { average: number; total: number };
  throughput: { total: number };
  latency: { p99: number };
  errors: number;
  non2xx: number;
}
const autocannon = require('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
}) => Promise<AutocannonResult>;

interface ServerVariant {
  script: string;
  env?: Record<string, string>;
}
const script = (name: string) => join(root, 'bench', 'http-servers', name);
const SERVERS: Record<string, ServerVariant> = {
  raw: { script: script('raw.mjs') },
  kernel: { script: script('volt.mjs') },
  stack: { script: script('stack.mjs'), env: { STACK_SEED_NOTES: '50' } },
  'stack-log-writes-dropped': { script: script('stack.mjs'), env: { STACK_LOG_DEST: 'noop' } },
  'stack-no-logs': { script: script('stack.mjs'), env: { STACK_LOGS: '0' } },
  'stack-no-logs-no-metrics': { script: script('stack.mjs'), env: { STACK_LOGS: '0', STACK_METRICS: '0' } },
  'stack-no-compression': { script: script('stack.mjs'), env: { STACK_COMPRESSION: '0', STACK_SEED_NOTES: '50' } },
  'kernel+compression-middleware': { script: script('stack.mjs'), env: { STACK_EAGER_COMPRESSION: '1' } },
};

export interface Case {
  label: string;
  server: keyof typeof SERVERS;
  path: string;
  headers: Record<string, string>;
}
const BROWSER = { 'accept-encoding': 'gzip, deflate, br' };
export const CASES: Case[] = [
  { label: 'ping: raw node:http', server: 'raw', path: '/api/v1/ping', headers: BROWSER },
  { label: 'ping: bare kernel', server: 'kernel', path: '/api/v1/ping', headers: BROWSER },
  { label: 'ping: default stack (compression, metrics, request id, logs)', server: 'stack', path: '/api/v1/ping', headers: BROWSER },
  { label: 'ping: default stack, request lines built but not written', server: 'stack-log-writes-dropped', path: '/api/v1/ping', headers: BROWSER },
  { label: 'ping: default stack without request logs', server: 'stack-no-logs', path: '/api/v1/ping', headers: BROWSER },
  { label: 'ping: default stack without request logs and metrics', server: 'stack-no-logs-no-metrics', path: '/api/v1/ping', headers: BROWSER },
  { label: 'ping: kernel + `compression` as ordinary middleware', server: 'kernel+compression-middleware', path: '/api/v1/ping', headers: BROWSER },
  { label: '20 KB list: default stack, gzip', server: 'stack', path: '/api/v1/notes', headers: { 'accept-encoding': 'gzip' } },
  { label: '20 KB list: default stack, br', server: 'stack', path: '/api/v1/notes', headers: { 'accept-encoding': 'br' } },
  { label: '20 KB list: default stack, compression off', server: 'stack-no-compression', path: '/api/v1/notes', headers: { 'accept-encoding': 'gzip' } },
];

function compileTemplate(): void {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  mkdirSync(BUILD_DIR, { recursive: true });
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'templates/tsconfig.build.json'), '--outDir', BUILD_DIR, '--sourceMap', 'false'], {
    encoding: 'utf8',
  });
  if (!existsSync(join(BUILD_DIR, 'scaling/http/operations-listener.js'))) throw new Error(`Compiling the template failed:\n${result.stdout}${result.stderr}`);
}

async function start(variant: ServerVariant): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [variant.script], {
    env: { ...process.env, NODE_ENV: 'production', VOLT_DIST: BUILD_DIR, ...variant.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant.script} exited with ${code} before listening`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { child, port };
}

/**
 * User + system CPU seconds of a process: all its threads (`/proc/PID/stat`,
 * so the log writer's thread pool counts too) or only the main thread, the
 * one that runs JavaScript and bounds requests/s (`/proc/PID/task/PID/stat`).
 */
function cpuSeconds(pid: number, mainThreadOnly = false): number {
  const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

interface Run {
  rps: number;
  cpuUs: number;
  mainCpuUs: number;
  bytes: number;
  p99: number;
  bad: number;
}

async function measure(server: { child: ChildProcess; port: number }, c: Case, duration: number, connections: number): Promise<Run> {
  const pid = server.child.pid!;
  const before = cpuSeconds(pid);
  const mainBefore = cpuSeconds(pid, true);
  const result = await autocannon({ url: `http://127.0.0.1:${server.port}${c.path}`, connections, duration, headers: c.headers });
  const cpu = cpuSeconds(pid) - before;
  const mainCpu = cpuSeconds(pid, true) - mainBefore;
  const responses = Math.max(result.requests.total, 1);
  return {
    rps: result.requests.average,
    cpuUs: (cpu / responses) * 1e6,
    mainCpuUs: (mainCpu / responses) * 1e6,
    bytes: result.throughput.total / responses,
    p99: result.latency.p99,
    bad: result.errors + result.non2xx,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      /** Only the cases whose label contains this text, e.g. `ping` or `20 KB`. */
      only: { type: 'string' },
    },
  });
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const cases = CASES.filter((c) => values.only === undefined || c.label.includes(values.only));

  process.stderr.write('compiling the template...\n');
  compileTemplate();
  const servers = new Map<string, { child: ChildProcess; port: number }>();
  const runs = new Map<string, Run[]>(cases.map((c) => [c.label, []]));
  try {
    for (const name of new Set(cases.map((c) => c.server))) servers.set(name, await start(SERVERS[name]!));
    for (const c of cases) await measure(servers.get(c.server)!, c, 1, connections); // warm-up
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round, so no case always follows the same one.
      for (let i = 0; i < cases.length; i++) {
        const c = cases[(i + round) % cases.length]!;
        const run = await measure(servers.get(c.server)!, c, duration, connections);
        runs.get(c.label)!.push(run);
        process.stderr.write(
          `round ${round + 1}/${rounds} ${c.label}: ${Math.round(run.rps)} req/s, ${run.cpuUs.toFixed(1)} µs CPU/response, ${Math.round(run.bytes)} B/response, p99 ${run.p99} ms${run.bad ? `, ${run.bad} errors/non-2xx` : ''}\n`,
        );
      }
    }
  } finally {
    for (const { child } of servers.values()) child.kill('SIGTERM');
  }

  const summary = cases.map((c) => {
    const list = runs.get(c.label)!;
    return {
      c,
      rps: median(list.map((r) => r.rps)),
      cpuUs: median(list.map((r) => r.cpuUs)),
      cpuMinUs: Math.min(...list.map((r) => r.cpuUs)),
      mainCpuUs: median(list.map((r) => r.mainCpuUs)),
      bytes: median(list.map((r) => r.bytes)),
      p99: median(list.map((r) => r.p99)),
      all: list.map((r) => Math.round(r.rps)).join(', '),
      bad: list.reduce((n, r) => n + r.bad, 0),
    };
  });
  const raw = summary.find((s) => s.c.server === 'raw');
  const lines = [
    '| case | req/s (median) | runs | req/s vs raw | server CPU µs/response (median, min) | main thread CPU µs/response (median) | raw CPU / this CPU (medians, mins) | bytes/response | p99 ms |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of summary) {
    const ping = raw !== undefined && s.c.path === raw.c.path;
    lines.push(
      `| ${s.c.label} | ${Math.round(s.rps).toLocaleString('en-US')} | ${s.all} | ${ping ? `${(s.rps / raw.rps).toFixed(2)}x` : ''} | ${s.cpuUs.toFixed(1)}, ${s.cpuMinUs.toFixed(1)} | ${s.mainCpuUs.toFixed(1)} | ${ping ? `${(raw.cpuUs / s.cpuUs).toFixed(2)}x, ${(raw.cpuMinUs / s.cpuMinUs).toFixed(2)}x` : ''} | ${Math.round(s.bytes).toLocaleString('en-US')} | ${s.p99} |`,
    );
  }
  const bad = summary.filter((s) => s.bad > 0).map((s) => `${s.c.label}: ${s.bad}`);
  process.stdout.write(`\n${lines.join('\n')}\n${bad.length ? `\nErrors or non-2xx: ${bad.join('; ')}\n` : ''}`);
}

await main();
