/**
 * Background jobs, measured on a real standalone Redis:
 * 1. jobs per second one instance's workers process (the template's job
 *    queue: BullMQ underneath, plus schema parsing, metrics and hooks) against
 *    a plain BullMQ Worker with the same concurrency on the same Redis, the
 *    queue filled beforehand with the same jobs;
 * 2. what scheduling a job costs `POST /api/v1/notes` (the app from
 *    src/app.ts in its own process, under autocannon): with the job queue
 *    attached as the app does, with the workers elsewhere (JOBS_WORKERS=off),
 *    and against the route without it (a queue that takes the job and does
 *    nothing, so only `schedule`'s input check remains).
 *
 *   npm run bench:jobs -- [--rounds 3] [--jobs 5000] [--concurrency 5] [--duration 5] [--connections 10] [--no-write]
 *
 * The template is compiled with tsc first. Every round runs every case, in an
 * order that rotates round by round; medians (and min-max) and ratios are
 * printed and written to the `## Jobs` section of BENCHMARKS.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { loadConfig } from '../templates/src/config.js';
import { createJobQueue, queuePrefix } from '../templates/src/scaling/jobs/index.js';
import { createMetrics } from '../templates/src/scaling/metrics/index.js';
import { createRedisConnections } from '../templates/src/scaling/redis/connections.js';
import { createJobs, silentLogger } from '../templates/src/volt/index.js';
import { disabledRealtime } from '../templates/src/volt/realtime.js';
import { startStandalone, type StandaloneRedis } from '../templates/test/support/redis-servers.js';
import { compile, currentBuild, repoRoot } from './baseline.js';
import { writeBenchmarkSection } from './benchmarks-file.js';
import { cpuMicros } from './process-cpu.js';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
  method: string;
  body: string;
  headers: Record<string, string>;
}) => Promise<{ requests: { average: number; total: number }; latency: { p50: number; p99: number }; errors: number; timeouts: number; non2xx: number }>;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: String(loadConfig({}).jobs.concurrency) },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    'no-write': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);
const JOBS = Number(args.jobs);
const CONCURRENCY = Number(args.concurrency);
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
for (const [name, value] of Object.entries({ ROUNDS, JOBS, CONCURRENCY, DURATION, CONNECTIONS })) {
  if (!(Number.isInteger(value) && value >= 1)) throw new Error(`--${name.toLowerCase()} must be a whole number >= 1`);
}

const NAMESPACE = 'bench';
const TASK = 'sum';
/** The same options on every job of both workers: the template's retention and retry defaults. */
const JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { count: 1_000, age: 86_400 },
  removeOnFail: { count: 5_000, age: 604_800 },
};

type Samples = Map<string, number[]>;
const record = (samples: Samples, name: string, value: number) => samples.set(name, [...(samples.get(name) ?? []), value]);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number) => (n >= 1e4 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(n < 10 ? 1 : 0));
const rotate = <T>(list: T[], by: number) => list.map((_, i) => list[(i + by) % list.length]!);

/** CPU time Redis has used so far (user + system, µs), from INFO. */
async function redisCpuMicros(redis: StandaloneRedis): Promise<number> {
  const info = await redis.node.cli('INFO', 'cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

// ---- 1. jobs per second

async function fill(redisUrl: string): Promise<void> {
  const queue = new Queue(NAMESPACE, { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix: queuePrefix(NAMESPACE) });
  for (let first = 0; first < JOBS; first += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, JOBS - first) }, (_, i) => ({ name: TASK, data: { a: first + i, b: 1 }, opts: JOB_OPTIONS }));
    await queue.addBulk(batch);
  }
  await queue.close();
  await (queue.opts.connection as Redis).quit();
}

/** A running worker: how many jobs it completed so far (counted in the process, no Redis call), and how to stop it. */
interface RunningWorker {
  completed(): Promise<number>;
  stop(): Promise<void>;
}

/** Nothing is left waiting, running or failed in the queue. */
async function expectNothingLeft(redisUrl: string): Promise<void> {
  const queue = new Queue(NAMESPACE, { connection: new Redis(redisUrl), prefix: queuePrefix(NAMESPACE) });
  const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
  await queue.close();
  await (queue.opts.connection as Redis).quit();
  if (Object.values(counts).some((count) => count > 0)) throw new Error(`jobs left over: ${JSON.stringify(counts)}`);
}

/** The template's job queue with workers, as an instance runs it (JOBS_CONCURRENCY = --concurrency). */
async function templateWorkers(redisUrl: string): Promise<RunningWorker> {
  const jobs = createJobs();
  const registered = jobs.merge({
    [NAMESPACE]: jobs.router({
      jobs: { [TASK]: jobs.register({ input: z.object({ a: z.number(), b: z.number() }), handler: ({ payload }) => payload.a + payload.b }) },
    }),
  });
  const settings = { ...loadConfig({}).jobs, concurrency: CONCURRENCY };
  const connections = createRedisConnections({ mode: 'standalone', url: redisUrl });
  const metrics = createMetrics({ instanceId: 'bench', defaultMetrics: false });
  const queue = createJobQueue({
    registered,
    settings,
    redis: connections,
    services: { context: {}, logger: silentLogger, realtime: disabledRealtime },
    instanceId: 'bench',
    logger: silentLogger,
    metrics,
  });
  return {
    completed: async () => (await metrics.jobsCompletedTotal.get()).values.reduce((sum, sample) => sum + sample.value, 0),
    async stop() {
      await queue.close();
      await connections.quit();
    },
  };
}

/** A plain BullMQ Worker doing the same sum. */
async function plainWorker(redisUrl: string): Promise<RunningWorker> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(NAMESPACE, async (job) => job.data.a + job.data.b, { connection, prefix: queuePrefix(NAMESPACE), concurrency: CONCURRENCY });
  let completed = 0;
  worker.on('completed', () => completed++);
  worker.on('error', () => {});
  return {
    completed: async () => completed,
    async stop() {
      await worker.close();
      await connection.quit();
    },
  };
}

async function benchThroughput(redis: StandaloneRedis, samples: Samples, round: number): Promise<void> {
  const cases: Array<[string, (url: string) => Promise<RunningWorker>]> = [
    ['template job queue', templateWorkers],
    ['plain BullMQ Worker', plainWorker],
  ];
  for (const [name, start] of rotate(cases, round)) {
    await redis.node.cli('FLUSHALL');
    await fill(redis.url);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const redisBefore = await redisCpuMicros(redis);
    const worker = await start(redis.url);
    while ((await worker.completed()) < JOBS) await sleep(2);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const redisCpu = (await redisCpuMicros(redis)) - redisBefore;
    await expectNothingLeft(redis.url);
    await worker.stop();
    record(samples, `throughput|${name}|jobs/s`, JOBS / seconds);
    record(samples, `throughput|${name}|cpu`, (cpu.user + cpu.system) / JOBS);
    record(samples, `throughput|${name}|redis`, redisCpu / JOBS);
    console.log(
      `round ${round + 1}: ${name}: ${fmt(JOBS / seconds)} jobs/s, ${((cpu.user + cpu.system) / JOBS).toFixed(0)} µs CPU per job (Redis ${(redisCpu / JOBS).toFixed(0)} µs)`,
    );
  }
}

// ---- 2. POST /api/v1/notes

interface AppVariant {
  name: string;
  env: Record<string, string>;
}
const VARIANTS: AppVariant[] = [
  { name: 'without the job (schedule checks its input, the queue drops the job)', env: { BENCH_JOBS: 'drop' } },
  { name: 'schedule, the job runs in this instance (JOBS_WORKERS=on, the default)', env: {} },
  { name: 'schedule, the job runs elsewhere (JOBS_WORKERS=off)', env: { JOBS_WORKERS: 'off' } },
];

async function startApp(dist: string, redisUrl: string, variant: AppVariant): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bench/jobs-app.mjs')], {
    env: { ...process.env, VOLT_DIST: dist, REDIS_URL: redisUrl, ...variant.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`bench/jobs-app.mjs exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function stopApp(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function benchPost(dist: string, redis: StandaloneRedis, samples: Samples, round: number): Promise<void> {
  for (const variant of rotate(VARIANTS, round)) {
    await redis.node.cli('FLUSHALL');
    const { child, url } = await startApp(dist, redis.url, variant);
    const load = (duration: number) =>
      autocannon({
        url: `${url}/api/v1/notes`,
        connections: CONNECTIONS,
        duration,
        method: 'POST',
        body: JSON.stringify({ text: 'A note written by the benchmark, about sixty bytes long.' }),
        headers: { 'content-type': 'application/json' },
      });
    await load(1);
    const cpuBefore = cpuMicros(child.pid) ?? Number.NaN;
    const redisBefore = await redisCpuMicros(redis);
    const result = await load(DURATION);
    const cpu = (cpuMicros(child.pid) ?? Number.NaN) - cpuBefore;
    const redisCpu = (await redisCpuMicros(redis)) - redisBefore;
    await stopApp(child);
    if (result.errors + result.timeouts + result.non2xx > 0)
      throw new Error(`${variant.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
    const requests = result.requests.total;
    record(samples, `post|${variant.name}|req/s`, result.requests.average);
    record(samples, `post|${variant.name}|cpu`, cpu / requests);
    record(samples, `post|${variant.name}|redis`, redisCpu / requests);
    record(samples, `post|${variant.name}|p50`, result.latency.p50);
    record(samples, `post|${variant.name}|p99`, result.latency.p99);
    console.log(
      `round ${round + 1}: ${variant.name}: ${fmt(result.requests.average)} req/s, ${(cpu / requests).toFixed(0)} µs app CPU per request (Redis ${(redisCpu / requests).toFixed(0)} µs), p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`,
    );
  }
}

// ---- report

function report(samples: Samples): string {
  const values = (name: string) => samples.get(name) ?? [];
  const cell = (name: string) => {
    const list = values(name);
    return `${fmt(median(list))} (${fmt(Math.min(...list))}-${fmt(Math.max(...list))})`;
  };
  /** The ratio within each round (both sides met the same background load), then their median. */
  const ratio = (name: string, base: string) => {
    const perRound = values(name).map((value, index) => value / values(base)[index]!);
    return `${median(perRound).toFixed(2)}x (rounds: ${perRound.map((r) => r.toFixed(2)).join(', ')})`;
  };
  const lines: string[] = [];
  lines.push(
    `Jobs processed by one process, ${fmt(JOBS)} jobs queued beforehand, concurrency ${CONCURRENCY}, each job adding two numbers (median, min-max over rounds):`,
    '',
    '| worker | jobs/s | CPU µs per job, worker process | CPU µs per job, Redis |',
    '|---|---|---|---|',
  );
  for (const name of ['template job queue', 'plain BullMQ Worker']) {
    lines.push(`| ${name} | ${cell(`throughput|${name}|jobs/s`)} | ${cell(`throughput|${name}|cpu`)} | ${cell(`throughput|${name}|redis`)} |`);
  }
  lines.push(
    '',
    `Template job queue / plain BullMQ Worker: jobs/s ${ratio('throughput|template job queue|jobs/s', 'throughput|plain BullMQ Worker|jobs/s')}; worker CPU per job ${ratio('throughput|template job queue|cpu', 'throughput|plain BullMQ Worker|cpu')}.`,
    '',
    `\`POST /api/v1/notes\` on one app process (src/app.ts, standalone Redis), autocannon with ${CONNECTIONS} connections for ${DURATION} s per round (median, min-max over rounds):`,
    '',
    '| route | req/s | CPU µs per request, app | CPU µs per request, Redis | p50 ms | p99 ms |',
    '|---|---|---|---|---|---|',
  );
  for (const variant of VARIANTS) {
    const key = `post|${variant.name}`;
    lines.push(
      `| ${variant.name} | ${cell(`${key}|req/s`)} | ${cell(`${key}|cpu`)} | ${cell(`${key}|redis`)} | ${median(values(`${key}|p50`))} | ${median(values(`${key}|p99`))} |`,
    );
  }
  const base = `post|${VARIANTS[0]!.name}`;
  lines.push('', 'Against the route without the job:');
  for (const variant of VARIANTS.slice(1)) {
    const key = `post|${variant.name}`;
    lines.push(`- ${variant.name}: req/s ${ratio(`${key}|req/s`, `${base}|req/s`)}; app CPU per request ${ratio(`${key}|cpu`, `${base}|cpu`)}.`);
  }
  return lines.join('\n');
}

function writeSection(body: string): void {
  const cpu = cpus();
  const section = [
    '## Jobs',
    '',
    `Command: \`npm run bench:jobs -- --rounds ${ROUNDS} --jobs ${JOBS} --concurrency ${CONCURRENCY} --duration ${DURATION} --connections ${CONNECTIONS}\``,
    `Date: ${new Date().toISOString()}. Machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (shared machine: other work was running).`,
    `${ROUNDS} rounds, cases in a rotating order; Redis 7 as a real process on loopback; the template compiled with tsc.`,
    '',
    body,
    '',
    'Reading the tables:',
    "- Throughput: both workers take the same jobs from the same queue (the template's keys, `jobs:{bench}`) with the same options; the template's adds, per job, the payload parsed by the job's zod schema, the duration histogram, the completed counter and the hook call. The Redis work (BullMQ's scripts) is the same.",
    '- POST: "without the job" keeps `schedule` in the route but attaches a queue that resolves at once, so the difference is storing the job in Redis (one BullMQ script), plus, with the default JOBS_WORKERS=on, running it in the same process (the job reads the note and publishes `note.stats`). With JOBS_WORKERS=off the jobs wait in Redis for other processes.',
    '- CPU per job or request (user + system, from process.cpuUsage, /proc and Redis INFO) leaves out the time spent waiting for a core, so it is steadier than jobs/s and req/s on this shared machine; ratios are taken within each round, where both sides met the same background load.',
    '- Spread: min-max across rounds is wide because other work shared the two cores; compare rows of one run, not runs.',
    '',
  ].join('\n');
  writeBenchmarkSection(section);
}

async function main(): Promise<void> {
  const build = currentBuild('volt-bench-jobs');
  compile(build);
  // The app serves public/ from next to its compiled code, as from the project's dist/.
  cpSync(join(repoRoot, 'templates/public'), join(dirname(build.dist), 'public'), { recursive: true });
  const redis = await startStandalone();
  const samples: Samples = new Map();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await benchThroughput(redis, samples, round);
      await benchPost(build.dist, redis, samples, round);
    }
  } finally {
    await redis.close();
  }
  const body = report(samples);
  console.log(`\n${body}`);
  if (!args['no-write']) writeSection(body);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
