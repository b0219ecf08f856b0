/**
 * HTTP throughput of the template's kernel against raw node:http and
 * fastify 5, on the same routes and the same work.
 *
 *   npm run bench:http -- [--duration 5] [--warmup 1] [--rounds 3] [--connections 50]
 *                         [--servers raw,volt,fastify,volt-stack] [--scenarios ping,notes-create,auth-me] [--no-write]
 *                         [--baseline <git ref>] [--section <title>]
 *
 * `--section "HTTP: signed-in requests"` writes under `## <title>` instead of
 * `## HTTP`, for a focused run that should not replace the full table.
 *
 * Tracing (run under Node.js >= 22.15; these servers are left out unless named):
 *   npm run bench:http -- --servers stack-tracing-off,stack-tracing-all,stack-tracing-10pct
 * the default stack plus the in-memory realtime transport, with tracing off, on
 * with every trace sampled, and on at 10%, exporting to an OTLP sink process;
 * the ratios go to the `## HTTP: tracing on and off` section.
 *
 * `--baseline main` (any commit) also runs that ref's template, served by its
 * own bench servers, as `volt@base`, `volt-stack@base`, ... next to this
 * build's, in the same rounds; the results go to their own section of
 * BENCHMARKS.md with the ratios of this build to the baseline.
 *
 * The template is compiled with tsc first (no on-the-fly transpiling in a
 * measurement). Every server runs in its own long-lived child process, new
 * for each scenario; autocannon runs here. Each round visits every server
 * (warm-up, then measurement), in an order that rotates round by round, so
 * background load spreads over all of them.
 * Medians per (scenario, server) and the kernel's ratios are printed and
 * written to the `## HTTP` section of BENCHMARKS.md.
 *
 * `auth-me` is a signed-in request (`auth()` verifying an HS256 bearer
 * token); it runs on our servers only, alternating with `ping` in each round,
 * and its ratio to `ping` on the same server is the cost of signing in.
 *
 * Adding a server (e.g. the default middleware stack): append to SERVERS a
 * script that prints `{"port":N}` on stdout. Adding a scenario: append to
 * SCENARIOS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { baselineBuild, compile, currentBuild } from './baseline.js';
import { writeBenchmarkSection } from './benchmarks-file.js';
import { cpuMicros } from './process-cpu.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
const autocannon = require('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}) => Promise<AutocannonResult>;

export interface ServerDefinition {
  name: string;
  script: string;
  env?: Record<string, string>;
  /** Our kernel (ratios are computed for these against the baselines). */
  ours?: boolean;
  /** The same server on the `--baseline` build. */
  twinOf?: string;
  /** Runs only when named in --servers. */
  optIn?: boolean;
  /** The same server with tracing off: ratios to it go to the tracing section. */
  tracingOf?: string;
  /** Exports spans: OTEL_EXPORTER_OTLP_ENDPOINT is set to an OTLP sink process. */
  otlp?: boolean;
}

export interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** Status every response must have; anything else counts as an error. */
  status: number;
  /** Routes only the template serves (not raw node:http, fastify or a baseline build). */
  oursOnly?: boolean;
  /** Leaves data in the servers' stores: measured on processes of its own. */
  fillsStore?: boolean;
}

const CURRENT = currentBuild('volt-bench');
const BUILD_DIR = CURRENT.dist;
/** AUTH_SECRET of our servers, and a token they accept (the app's default issuer and audience, HS256). */
const AUTH_SECRET = 'bench-secret-bench-secret-bench-secret-0';
const BENCH_TOKEN = await new SignJWT({})
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject('bench-user')
  .setIssuer('volt-app')
  .setAudience('volt-app-api')
  .setExpirationTime('12h')
  .sign(new TextEncoder().encode(AUTH_SECRET));

export const SERVERS: ServerDefinition[] = [
  { name: 'raw', script: join(root, 'bench/http-servers/raw.mjs') },
  { name: 'volt', script: join(root, 'bench/http-servers/volt.mjs'), env: { VOLT_DIST: BUILD_DIR, AUTH_SECRET }, ours: true },
  // The same, checking every token's signature (verified tokens not kept): what auth() costs a token's first request.
  {
    name: 'volt-uncached',
    script: join(root, 'bench/http-servers/volt.mjs'),
    env: { VOLT_DIST: BUILD_DIR, AUTH_SECRET, AUTH_VERIFIED_TOKENS: '0' },
    ours: true,
    optIn: true,
  },
  { name: 'fastify', script: join(root, 'bench/http-servers/fastify.mjs') },
  // The kernel with the default middleware stack (compression, metrics, request id, request logs).
  // Its own comparisons (compression placement, 20 KB responses, CPU per response): npm run bench:middleware.
  { name: 'volt-stack', script: join(root, 'bench/http-servers/stack.mjs'), env: { VOLT_DIST: BUILD_DIR, AUTH_SECRET }, ours: true },
  // The same stack as with LOG_LEVEL=warn: no request lines (nginx's access log has one per request).
  { name: 'volt-stack-warn', script: join(root, 'bench/http-servers/stack.mjs'), env: { VOLT_DIST: BUILD_DIR, AUTH_SECRET, STACK_LOGS: '0' }, ours: true },
  // fastify 5 with the same stack (@fastify/compress, request id, one pino line per request, the duration histogram).
  { name: 'fastify-stack', script: join(root, 'bench/http-servers/fastify-stack.mjs') },
  // Tracing off and on, on the stack with the in-memory realtime transport (so POST /api/v1/notes publishes its events).
  ...tracingServers(),
];

function tracingServers(): ServerDefinition[] {
  const script = join(root, 'bench/http-servers/stack.mjs');
  const env = { VOLT_DIST: BUILD_DIR, AUTH_SECRET, STACK_REALTIME: '1' };
  const traced = { ...env, STACK_TRACING: '1', OTEL_BSP_MAX_QUEUE_SIZE: '8192' };
  return [
    { name: 'stack-tracing-off', script, env, ours: true, optIn: true },
    {
      name: 'stack-tracing-all',
      script,
      env: { ...traced, OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
      ours: true,
      optIn: true,
      tracingOf: 'stack-tracing-off',
      otlp: true,
    },
    {
      name: 'stack-tracing-10pct',
      script,
      env: { ...traced, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
      ours: true,
      optIn: true,
      tracingOf: 'stack-tracing-off',
      otlp: true,
    },
  ];
}

export const SCENARIOS: Scenario[] = [
  { name: 'ping', method: 'GET', path: '/api/v1/ping', status: 200 },
  {
    name: 'notes-create',
    method: 'POST',
    path: '/api/v1/notes',
    body: JSON.stringify({ text: 'A note written by the benchmark, about sixty bytes long.' }),
    headers: { 'content-type': 'application/json' },
    status: 201,
    fillsStore: true,
  },
  // `use: [auth({ optional: true })]` with a bearer token: on volt-uncached the HS256 signature and claims are checked on
  // every request; volt and volt-stack check the token once and keep the verified user.
  { name: 'auth-me', method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${BENCH_TOKEN}` }, status: 200, oursOnly: true },
];

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '5' },
    warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '2' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '3' },
    connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '50' },
    servers: { type: 'string', default: process.env.BENCH_SERVERS },
    scenarios: { type: 'string', default: process.env.BENCH_SCENARIOS ?? SCENARIOS.map((s) => s.name).join(',') },
    'no-write': { type: 'boolean', default: false },
    section: { type: 'string' },
    baseline: { type: 'string' },
  },
});

interface Running {
  child: ChildProcess;
  url: string;
}

async function start(server: ServerDefinition): Promise<Running> {
  const child = spawn(process.execPath, [server.script], {
    env: { ...process.env, NODE_ENV: 'production', ...server.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${server.name} exited with ${code} before listening`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function stop(running: Running): Promise<void> {
  if (running.child.exitCode !== null) return;
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

async function load(url: string, scenario: Scenario, seconds: number, connections: number): Promise<AutocannonResult> {
  return autocannon({
    url: url + scenario.path,
    connections,
    duration: seconds,
    method: scenario.method,
    ...(scenario.body ? { body: scenario.body } : {}),
    ...(scenario.headers ? { headers: scenario.headers } : {}),
  });
}

/** Checks a server answers the scenario as expected before measuring it. */
async function check(url: string, scenario: Scenario): Promise<void> {
  const res = await fetch(url + scenario.path, { method: scenario.method, body: scenario.body, headers: scenario.headers });
  await res.arrayBuffer();
  if (res.status !== scenario.status) throw new Error(`${url}${scenario.path}: expected ${scenario.status}, got ${res.status}`);
}

const median = (values: number[]) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
/** A table cell, or `-` where the server does not serve the scenario. */
const cell = (text: string, value: number) => (Number.isFinite(value) ? text : '-');

async function main(): Promise<void> {
  const duration = Number(args.duration);
  const warmup = Number(args.warmup);
  const rounds = Number(args.rounds);
  const connections = Number(args.connections);
  // Against a baseline, by default the kernel and the stack (and raw node:http for scale).
  const serverNames =
    args.servers ??
    (args.baseline
      ? 'raw,volt,volt-stack'
      : SERVERS.filter((s) => !s.optIn)
          .map((s) => s.name)
          .join(','));
  const servers = serverNames.split(',').map((name) => {
    const found = SERVERS.find((s) => s.name === name);
    if (!found) throw new Error(`Unknown server ${name}; known: ${SERVERS.map((s) => s.name).join(', ')}`);
    return found;
  });
  const base = args.baseline ? baselineBuild(args.baseline) : undefined;
  if (base) {
    for (const server of servers.filter((s) => s.ours)) {
      const script = join(base.root, 'bench/http-servers', basename(server.script));
      if (!existsSync(script)) throw new Error(`${base.label} has no ${basename(server.script)}: leave ${server.name} out (--servers)`);
      servers.push({ name: `${server.name}@base`, script, env: { ...server.env, VOLT_DIST: base.dist }, twinOf: server.name });
    }
  }
  const scenarios = args.scenarios.split(',').map((name) => {
    const found = SCENARIOS.find((s) => s.name === name);
    if (!found) throw new Error(`Unknown scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return found;
  });

  process.stdout.write('compiling the template...\n');
  compile(CURRENT);
  if (base) {
    process.stdout.write(`compiling ${base.label}...\n`);
    compile(base);
  }

  // One OTLP receiver for every tracing server, in its own process.
  const sink = servers.some((s) => s.otlp) ? await start({ name: 'otlp-sink', script: join(root, 'bench/http-servers/otlp-sink.mjs') }) : undefined;
  for (const server of servers.filter((s) => s.otlp)) server.env = { ...server.env, OTEL_EXPORTER_OTLP_ENDPOINT: sink!.url };

  const samples = new Map<string, number[]>();
  const cpuSamples = new Map<string, number[]>();
  const problems: string[] = [];
  // One long-lived process per server (as in production: JIT-warm, heap sized),
  // idle while another is measured. Scenarios that leave nothing behind (ping,
  // auth-me) share processes and alternate within each round, so their ratios
  // compare measurements taken seconds apart. A scenario that fills the store
  // gets fresh processes of its own: a ping measured after notes-create would
  // pay for that heap in garbage collection, more for some servers than others.
  const groups = [scenarios.filter((s) => !s.fillsStore), ...scenarios.filter((s) => s.fillsStore).map((s) => [s])].filter((g) => g.length > 0);
  const servesScenario = (server: ServerDefinition, scenario: Scenario) => !scenario.oursOnly || server.ours === true;
  for (const group of groups) {
    const processes = new Map<string, Running>();
    const measurements = group.flatMap((scenario) => servers.filter((server) => servesScenario(server, scenario)).map((server) => ({ scenario, server })));
    try {
      for (const server of servers.filter((s) => group.some((scenario) => servesScenario(s, scenario)))) processes.set(server.name, await start(server));
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < measurements.length; i++) {
          const { scenario, server } = measurements[(i + round) % measurements.length]!;
          const running = processes.get(server.name)!;
          await check(running.url, scenario);
          if (warmup > 0) await load(running.url, scenario, warmup, connections);
          const cpuBefore = cpuMicros(running.child.pid);
          const result = await load(running.url, scenario, duration, connections);
          const cpuAfter = cpuMicros(running.child.pid);
          const bad = result.errors + result.timeouts + result.non2xx;
          if (bad > 0)
            problems.push(`${server.name}/${scenario.name} round ${round + 1}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
          const key = `${scenario.name}|${server.name}`;
          samples.set(key, [...(samples.get(key) ?? []), result.requests.average]);
          const cpuPerRequest = cpuBefore !== undefined && cpuAfter !== undefined ? (cpuAfter - cpuBefore) / result.requests.total : NaN;
          cpuSamples.set(key, [...(cpuSamples.get(key) ?? []), cpuPerRequest]);
          process.stdout.write(
            `round ${round + 1}/${rounds} ${scenario.name.padEnd(13)} ${server.name.padEnd(10)} ${Math.round(result.requests.average).toString().padStart(7)} req/s  p99 ${result.latency.p99} ms  server CPU ${cpuPerRequest.toFixed(1)} µs/req\n`,
          );
        }
      }
    } finally {
      for (const running of processes.values()) await stop(running);
    }
  }
  if (sink) await stop(sink);

  const rows: string[] = [];
  const ours = servers.filter((s) => s.ours);
  const baselines = servers.filter((s) => !s.ours && !s.twinOf);
  const header = ['scenario', ...servers.map((s) => `${s.name} req/s`), ...ours.flatMap((o) => baselines.map((b) => `${o.name}/${b.name}`))];
  rows.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  for (const scenario of scenarios) {
    const med = (name: string) => median(samples.get(`${scenario.name}|${name}`) ?? [NaN]);
    const cells = [
      `\`${scenario.method} ${scenario.path}\``,
      ...servers.map((s) => cell(Math.round(med(s.name)).toLocaleString('en-US'), med(s.name))),
      ...ours.flatMap((o) => baselines.map((b) => cell(`${(med(o.name) / med(b.name)).toFixed(2)}x`, med(o.name) / med(b.name)))),
    ];
    rows.push(`| ${cells.join(' | ')} |`);
  }
  // The same comparison by server CPU per request (lower is better; ratios as capacity: baseline CPU / ours).
  const cpuHeader = ['scenario', ...servers.map((s) => `${s.name} CPU µs/req`), ...ours.flatMap((o) => baselines.map((b) => `${o.name}/${b.name} (CPU)`))];
  rows.push('', `| ${cpuHeader.join(' | ')} |`, `|${cpuHeader.map(() => '---').join('|')}|`);
  for (const scenario of scenarios) {
    const med = (name: string) => median(cpuSamples.get(`${scenario.name}|${name}`) ?? [NaN]);
    const cells = [
      `\`${scenario.method} ${scenario.path}\``,
      ...servers.map((s) => cell(med(s.name).toFixed(1), med(s.name))),
      ...ours.flatMap((o) => baselines.map((b) => cell(`${(med(b.name) / med(o.name)).toFixed(2)}x`, med(b.name) / med(o.name)))),
    ];
    rows.push(`| ${cells.join(' | ')} |`);
  }
  // Ratios of measurements taken in the same round (seconds apart, under similar background load), median over rounds.
  const pairHeader = [
    'scenario',
    ...ours.flatMap((o) => baselines.map((b) => `${o.name}/${b.name} req/s`)),
    ...ours.flatMap((o) => baselines.map((b) => `${o.name}/${b.name} CPU`)),
  ];
  // Without a baseline server (raw, fastify) there is no pair to divide.
  if (baselines.length > 0)
    rows.push(
      '',
      'Median of per-round ratios (each pair measured seconds apart):',
      '',
      `| ${pairHeader.join(' | ')} |`,
      `|${pairHeader.map(() => '---').join('|')}|`,
    );
  for (const scenario of baselines.length > 0 ? scenarios : []) {
    const paired = (source: Map<string, number[]>, o: string, b: string, invert: boolean) => {
      const ourSamples = source.get(`${scenario.name}|${o}`) ?? [];
      const baseSamples = source.get(`${scenario.name}|${b}`) ?? [];
      const ratios = ourSamples.map((value, i) => (invert ? baseSamples[i]! / value : value / baseSamples[i]!));
      return cell(`${median(ratios).toFixed(2)}x`, median(ratios));
    };
    const cells = [
      `\`${scenario.method} ${scenario.path}\``,
      ...ours.flatMap((o) => baselines.map((b) => paired(samples, o.name, b.name, false))),
      ...ours.flatMap((o) => baselines.map((b) => paired(cpuSamples, o.name, b.name, true))),
    ];
    rows.push(`| ${cells.join(' | ')} |`);
  }
  const twins = servers.filter((s) => s.twinOf);
  if (twins.length > 0) {
    const twinHeader = [
      'scenario',
      ...twins.flatMap((t) => [`${t.twinOf} / ${t.name} req/s`, `${t.twinOf} / ${t.name} CPU`, `per round req/s`, `per round CPU`]),
    ];
    rows.push('', `This build against ${base!.label} (above 1.00x: this build is faster; CPU as baseline CPU / this CPU):`, '');
    rows.push(`| ${twinHeader.join(' | ')} |`, `|${twinHeader.map(() => '---').join('|')}|`);
    for (const scenario of scenarios) {
      const cells = [`\`${scenario.method} ${scenario.path}\``];
      for (const twin of twins) {
        const ours = (source: Map<string, number[]>) => source.get(`${scenario.name}|${twin.twinOf}`) ?? [];
        const theirs = (source: Map<string, number[]>) => source.get(`${scenario.name}|${twin.name}`) ?? [];
        const rps = median(ours(samples)) / median(theirs(samples));
        const cpu = median(theirs(cpuSamples)) / median(ours(cpuSamples));
        const pairedRps = median(ours(samples).map((value, i) => value / theirs(samples)[i]!));
        const pairedCpu = median(ours(cpuSamples).map((value, i) => theirs(cpuSamples)[i]! / value));
        cells.push(...[rps, cpu, pairedRps, pairedCpu].map((ratio) => `${ratio.toFixed(2)}x`));
      }
      rows.push(`| ${cells.join(' | ')} |`);
    }
  }
  const tracedServers = servers.filter((s) => s.tracingOf);
  if (tracedServers.length > 0) {
    const tracingHeader = ['scenario', ...tracedServers.flatMap((t) => [`${t.name} / ${t.tracingOf} req/s`, 'CPU', 'per round req/s', 'per round CPU'])];
    rows.push('', 'Tracing on against off (below 1.00x: tracing costs that share; CPU as off CPU / on CPU):', '');
    rows.push(`| ${tracingHeader.join(' | ')} |`, `|${tracingHeader.map(() => '---').join('|')}|`);
    for (const scenario of scenarios) {
      const cells = [`\`${scenario.method} ${scenario.path}\``];
      for (const traced of tracedServers) {
        const on = (source: Map<string, number[]>) => source.get(`${scenario.name}|${traced.name}`) ?? [];
        const off = (source: Map<string, number[]>) => source.get(`${scenario.name}|${traced.tracingOf}`) ?? [];
        cells.push(
          ...[
            median(on(samples)) / median(off(samples)),
            median(off(cpuSamples)) / median(on(cpuSamples)),
            median(on(samples).map((value, i) => value / off(samples)[i]!)),
            median(on(cpuSamples).map((value, i) => off(cpuSamples)[i]! / value)),
          ].map((ratio) => `${ratio.toFixed(2)}x`),
        );
      }
      rows.push(`| ${cells.join(' | ')} |`);
    }
  }
  const table = rows.join('\n');
  process.stdout.write(`\n${table}\n`);
  for (const line of authLines({ samples, cpuSamples })) process.stdout.write(`\n${line}\n`);
  if (problems.length) process.stdout.write(`\nProblems:\n${problems.join('\n')}\n`);

  if (!args['no-write']) {
    const heading = args.section
      ? `## ${args.section}`
      : base
        ? '## HTTP: this build against a baseline'
        : tracedServers.length > 0
          ? '## HTTP: tracing on and off'
          : '## HTTP';
    writeSection({ heading, table, duration, warmup, rounds, connections, samples, cpuSamples, servers, scenarios, problems });
    process.stdout.write(`\nBENCHMARKS.md: ${heading} updated\n`);
  }
}

/**
 * The cost of signing in: `auth-me` (auth() verifying an HS256 bearer token)
 * against the unauthenticated `ping` on the same server, in the same run.
 */
function authLines(run: { samples: Map<string, number[]>; cpuSamples: Map<string, number[]> }): string[] {
  // volt-uncached: AUTH_VERIFIED_TOKENS=0 (every request checks the signature); the others keep verified tokens.
  const lines: string[] = [];
  for (const server of [...new Set([...run.samples.keys()].map((key) => key.split('|')[1]!))]) {
    const signed = run.samples.get(`auth-me|${server}`);
    const plain = run.samples.get(`ping|${server}`);
    if (!signed || !plain) continue;
    const signedCpu = run.cpuSamples.get(`auth-me|${server}`) ?? [];
    const plainCpu = run.cpuSamples.get(`ping|${server}`) ?? [];
    const byRps = median(signed) / median(plain);
    const byCpu = median(plainCpu) / median(signedCpu);
    // Both are measured in every round, seconds apart: the per-round ratio is the steadier one.
    const pairedRps = median(signed.map((value, i) => value / plain[i]!));
    const pairedCpu = median(signedCpu.map((value, i) => plainCpu[i]! / value));
    const cpuAdded = median(signedCpu.map((value, i) => value - plainCpu[i]!));
    lines.push(
      `Signed in, \`GET /api/v1/auth/me\` with an HS256 bearer token (\`auth()\`) vs the unauthenticated \`GET /api/v1/ping\` on ${server}: ${byRps.toFixed(2)}x by median requests/s, ${byCpu.toFixed(2)}x by median CPU per request; per round ${pairedRps.toFixed(2)}x and ${pairedCpu.toFixed(2)}x (${cpuAdded.toFixed(1)} µs more CPU per request).`,
    );
  }
  return lines;
}

/**
 * DESIGN targets for a GET JSON action: the bare kernel >= 0.9x raw node:http
 * and >= 1.0x fastify; the default stack >= 1.5x fastify with the same stack
 * (request lines at info), and >= 0.8x raw node:http with LOG_LEVEL=warn.
 */
function targetLines(run: { samples: Map<string, number[]>; cpuSamples: Map<string, number[]> }): string[] {
  const rps = (server: string) => median(run.samples.get(`ping|${server}`) ?? [NaN]);
  const cpu = (server: string) => median(run.cpuSamples.get(`ping|${server}`) ?? [NaN]);
  if (![...run.samples.keys()].some((key) => key.startsWith('ping|volt'))) return [];
  const check = (server: string, baseline: string, target: number) => {
    const byRps = rps(server) / rps(baseline);
    const byCpu = cpu(baseline) / cpu(server);
    return `${byRps.toFixed(2)}x by requests/s, ${byCpu.toFixed(2)}x by CPU per request (target >= ${target.toFixed(1)}x: ${byRps >= target ? 'met' : 'not met'} / ${byCpu >= target ? 'met' : 'not met'})`;
  };
  const lines = [''];
  lines.push(...authLines(run));
  if (run.samples.has('ping|volt') && run.samples.has('ping|raw')) lines.push(`Target, \`GET /api/v1/ping\` vs raw node:http: ${check('volt', 'raw', 0.9)}.`);
  if (run.samples.has('ping|volt') && run.samples.has('ping|fastify'))
    lines.push(`Target, \`GET /api/v1/ping\` vs fastify 5: ${check('volt', 'fastify', 1.0)}.`);
  if (run.samples.has('ping|volt-stack') && run.samples.has('ping|fastify-stack')) {
    lines.push(`Target, default middleware stack (request lines at info) vs fastify 5 with the same stack: ${check('volt-stack', 'fastify-stack', 1.5)}.`);
  }
  if (run.samples.has('ping|raw') && run.samples.has('ping|volt-stack-warn')) {
    lines.push(`Target, default middleware stack with LOG_LEVEL=warn vs raw node:http: ${check('volt-stack-warn', 'raw', 0.8)}.`);
  }
  if (run.samples.has('ping|raw') && run.samples.has('ping|volt-stack')) {
    lines.push(`For reference, default middleware stack (request lines at info) vs raw node:http: ${check('volt-stack', 'raw', 0.8)}.`);
  }
  return lines.length > 1 ? lines : [];
}

function writeSection(run: {
  heading: string;
  table: string;
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  samples: Map<string, number[]>;
  cpuSamples: Map<string, number[]>;
  servers: ServerDefinition[];
  scenarios: Scenario[];
  problems: string[];
}): void {
  const cpu = cpus();
  const raw = run.scenarios
    .flatMap((scenario) =>
      run.servers
        .filter((s) => run.samples.has(`${scenario.name}|${s.name}`))
        .map((s) => {
          const key = `${scenario.name}|${s.name}`;
          const rps = (run.samples.get(key) ?? []).map((v) => Math.round(v)).join(', ');
          const cpu = (run.cpuSamples.get(key) ?? []).map((v) => v.toFixed(1)).join(', ');
          return `${scenario.name}/${s.name}: ${rps} req/s, ${cpu} µs/req`;
        }),
    )
    .join('; ');
  const tracing = run.servers.some((s) => s.tracingOf);
  const notesFile = join(root, 'bench', 'http-notes.md');
  const notes = existsSync(notesFile) ? `\n${readFileSync(notesFile, 'utf8').trim()}\n` : '';
  const defaultScenarios = SCENARIOS.map((s) => s.name).join(',');
  const focusArgs =
    (args.servers ? ` --servers ${args.servers}` : '') +
    (args.scenarios !== defaultScenarios ? ` --scenarios ${args.scenarios}` : '') +
    (args.section ? ` --section "${args.section}"` : '');
  const baselineArgs = args.baseline
    ? ` --servers ${run.servers
        .filter((s) => !s.twinOf)
        .map((s) => s.name)
        .join(',')} --baseline ${args.baseline}`
    : '';
  const section = [
    run.heading,
    '',
    `Command: \`npm run bench:http -- --duration ${run.duration} --warmup ${run.warmup} --rounds ${run.rounds} --connections ${run.connections}${args.baseline ? '' : focusArgs}${baselineArgs}\`${tracing ? ' (under Node.js 24: tracing needs 22.15+)' : ''}`,
    '',
    `Date: ${new Date().toISOString()}. Machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}; load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (a shared machine: other work was running).`,
    `Each server in its own process (the template compiled with tsc), autocannon in the driver process, ${run.connections} connections, ${run.warmup} s warm-up + ${run.duration} s per measurement, ${run.rounds} rounds with the server order rotated; medians of requests/s, and of the server process's CPU time (user + system, from /proc) per request, which is steadier than requests/s when other work shares the cores.`,
    '',
    run.table,
    '',
    `Samples per round: ${raw}.`,
    ...targetLines(run),
    ...(run.problems.length ? ['', `Problems seen: ${run.problems.join('; ')}.`] : []),
    ...(notes && !args.baseline && !args.section && !tracing ? ['', notes.trim()] : []),
  ].join('\n');
  writeBenchmarkSection(section);
}

await main();
