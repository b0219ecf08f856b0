/**
 * What the append-only file costs on the write path: `POST /api/v1/notes`
 * (a counter increment, the note, its event appended to the stream) against
 * one app instance on a standalone Redis started as the project starts it
 * (infra/redis/redis-start.sh, redis.conf, the `app` user), with:
 *   - `appendonly yes`, `appendfsync everysec` (redis.conf as shipped),
 *   - `appendonly no` (the baseline: nothing on disk),
 *   - `appendonly yes`, `appendfsync always` (an fsync before every reply).
 *
 *   npx tsx bench/durability.ts [--rounds 5] [--duration 5] [--warmup 1] [--connections 50] [--no-write]
 *
 * The app is compiled with tsc first and runs as `node dist/server.js` in its
 * own process, one per Redis, for the whole run. Each round visits every
 * case in an order that rotates round by round; medians, min-max and the
 * ratio to `appendonly no` are printed and written to the `## Durability`
 * section of BENCHMARKS.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStandalone, testUsers, type StandaloneRedis } from '../templates/test/support/redis-servers.js';
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
}) => Promise<{ requests: { average: number }; latency: { p99: number }; errors: number; timeouts: number; non2xx: number }>;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    'no-write': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);

const CASES = [
  { name: 'appendonly no', args: ['--appendonly', 'no'] },
  { name: 'AOF, appendfsync everysec (redis.conf)', args: [] },
  { name: 'AOF, appendfsync always', args: ['--appendfsync', 'always'] },
] as const;
const BASELINE = CASES[0].name;
const SHIPPED = CASES[1].name;

// A project layout: dist/ next to public/ (the app serves the demo page from ../public).
const BUILD = currentBuild('volt-bench-durability');
const BODY = JSON.stringify({ text: 'a note of about the size users write, one or two sentences long, nothing more' });

function build(): void {
  compile(BUILD);
  cpSync(join(repoRoot, 'templates', 'public'), join(dirname(BUILD.dist), 'public'), { recursive: true });
}

interface Target {
  name: string;
  redis: StandaloneRedis;
  app: ChildProcess;
  url: string;
}

async function startTarget(name: string, redisArgs: readonly string[]): Promise<Target> {
  const redis = await startStandalone({ project: testUsers(), args: [...redisArgs] });
  const app = spawn(process.execPath, [join(BUILD.dist, 'server.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      ...redis.appEnv(),
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: 'off',
      LOG_LEVEL: 'warn',
      INSTANCE_ID: name,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    app.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    app.once('exit', (code) => reject(new Error(`${name}: the app exited with ${code}:\n${output}`)));
  });
  return { name, redis, app, url };
}

async function measure(target: Target, seconds: number) {
  const redisPid = target.redis.node.pid;
  const cpuBefore = cpuMicros(redisPid) ?? Number.NaN;
  const result = await autocannon({
    url: `${target.url}/api/v1/notes`,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json' },
  });
  const requests = result.requests.average * seconds;
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    failed: result.errors + result.timeouts + result.non2xx,
    // Redis' own CPU per request: what the AOF costs Redis, whatever else shares the cores.
    redisCpuUs: requests > 0 ? ((cpuMicros(redisPid) ?? Number.NaN) - cpuBefore) / requests : Number.NaN,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  if (!(ROUNDS >= 1 && DURATION > 0 && WARMUP >= 0 && CONNECTIONS >= 1)) throw new Error('bad arguments');
  build();
  const targets: Target[] = [];
  try {
    for (const { name, args: redisArgs } of CASES) targets.push(await startTarget(name, redisArgs));
    const samples = new Map<string, Array<Awaited<ReturnType<typeof measure>>>>(CASES.map((c) => [c.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const target of order) {
        if (WARMUP > 0) await measure(target, WARMUP);
        const sample = await measure(target, DURATION);
        samples.get(target.name)!.push(sample);
        process.stdout.write(
          `round ${round + 1}/${ROUNDS} ${target.name}: ${sample.rps.toFixed(0)} req/s, p99 ${sample.p99} ms, Redis CPU ${sample.redisCpuUs.toFixed(0)} µs/request, ${sample.failed} failed\n`,
        );
      }
    }
    const baseline = median(samples.get(BASELINE)!.map((s) => s.rps));
    const rows = CASES.map(({ name }) => {
      const list = samples.get(name)!;
      const rps = list.map((s) => s.rps);
      const med = median(rps);
      const cpu = median(list.map((s) => s.redisCpuUs));
      return `| ${name} | ${med.toFixed(0)} | ${Math.min(...rps).toFixed(0)}-${Math.max(...rps).toFixed(0)} | ${(med / baseline).toFixed(2)}x | ${median(list.map((s) => s.p99))} ms | ${cpu.toFixed(0)} µs | ${list.reduce((n, s) => n + s.failed, 0)} |`;
    });
    const table = [
      '| Redis | req/s (median) | min-max | vs appendonly no | p99 (median) | Redis CPU per request (median) | failed |',
      '|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n');
    process.stdout.write(`\n${table}\n`);
    const shipped = median(samples.get(SHIPPED)!.map((s) => s.rps)) / baseline;
    const always = median(samples.get(CASES[2].name)!.map((s) => s.rps)) / baseline;
    // Rounds of the two cases that ran back to back: the fairest pairs on a shared machine.
    const pairRatios = samples.get(SHIPPED)!.map((sample, round) => sample.rps / samples.get(BASELINE)![round]!.rps);
    const cpu = (name: string) => median(samples.get(name)!.map((sample) => sample.redisCpuUs));
    const verdict = summary(shipped, always, pairRatios, cpu(BASELINE), cpu(SHIPPED));
    process.stdout.write(`\n${verdict}\n`);
    if (!args['no-write']) {
      writeSection(table, verdict);
      process.stdout.write('\nBENCHMARKS.md: ## Durability updated\n');
    }
  } finally {
    for (const target of targets) {
      target.app.kill('SIGKILL');
      await target.redis.close();
    }
  }
}

/** The file system the Redis data directories are on (they are made under the temp directory). */
function dataFileSystem(): string {
  const lines = spawnSync('df', ['-T', tmpdir()], { encoding: 'utf8' }).stdout.trim().split('\n');
  return lines[1]?.split(/\s+/)[1] ?? 'unknown';
}

/** What the figures say. */
function summary(shipped: number, always: number, pairRatios: number[], baselineCpuUs: number, shippedCpuUs: number): string {
  const low = Math.min(...pairRatios).toFixed(2);
  const high = Math.max(...pairRatios).toFixed(2);
  const more = Math.round((shippedCpuUs / baselineCpuUs - 1) * 100);
  return [
    `With the shipped \`appendfsync everysec\`, \`POST /api/v1/notes\` serves ${shipped.toFixed(2)}x the requests/s of \`appendonly no\``,
    `(round by round ${low}x-${high}x, on a shared machine). Redis itself spends ${shippedCpuUs.toFixed(0)} µs of CPU per request with the`,
    `append-only file against ${baselineCpuUs.toFixed(0)} µs without (${more >= 0 ? '+' : ''}${more}%): everysec hands each write to the kernel before`,
    'the reply and fsyncs in a background thread once a second, and on this path the app process, more than Redis, sets the pace.',
    `\`appendfsync always\` (an fsync before each reply) serves ${always.toFixed(2)}x: its cost follows the disk.`,
  ].join(' ');
}

function writeSection(table: string, verdict: string): void {
  const cpu = cpus();
  const section = [
    '## Durability',
    '',
    `Command: \`npx tsx bench/durability.ts --rounds ${ROUNDS} --duration ${DURATION} --warmup ${WARMUP} --connections ${CONNECTIONS}\``,
    `Date: ${new Date().toISOString()}. Machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (shared machine: other work was running).`,
    `What: the cost of the append-only file on \`POST /api/v1/notes\` (INCR of the id counter, SET of the note, the event appended to its stream by a script). One app instance (\`node dist/server.js\`, logged in as the \`app\` user) per Redis, each a standalone redis-server started by infra/redis/redis-start.sh with redis.conf, differing only in the AOF settings shown, data directories on ${dataFileSystem()} (${tmpdir()}). autocannon, ${CONNECTIONS} connections, ${WARMUP} s warm-up and ${DURATION} s measured per case, ${ROUNDS} rounds in a rotating order; the app, Redis and autocannon share the machine's cores.`,
    '',
    table,
    '',
    `Result: ${verdict}`,
    '',
  ].join('\n');
  writeBenchmarkSection(section);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
