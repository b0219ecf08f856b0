/**
 * Realtime (SSE) across instances, measured:
 * 1. fan-out: app instances as child processes (`src/server.ts`) on a real
 *    Redis (standalone; cluster of 3 masters + 3 replicas), 1,000 subscribers
 *    on raw sockets spread over them; events published through instance 1
 *    (`POST /api/v1/notes`, whose text carries the send time) and, on Redis,
 *    straight into the channel log from this process (the transport alone,
 *    with and without the replica WAIT); publish-to-receive p50/p99/max;
 * 2. throughput: a burst of notes, events delivered per second per instance;
 * 3. memory: RSS per idle connection with 10,000 streams on one instance;
 * each next to a single-process in-memory baseline (no Redis).
 *
 *   npm run bench:sse -- [--subscribers 1000] [--seconds 10] [--rate 5] [--idle 10000] [--burst 500] [--no-write]
 *                        [--baseline <git ref>] [--rounds 1] [--setups memory,standalone,cluster]
 *
 * `--baseline main` (any commit) runs every setup twice, on this build and on
 * that ref's template (its own `src/server.ts` through its own test support),
 * one after the other (the order alternates round by round), and writes the
 * ratios to their own section of BENCHMARKS.md.
 *
 * Receivers and publishers share this one process (one clock for latency);
 * the machine's two cores are shared by Redis, the apps and this process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRedisSettings, type RedisSettings } from '../templates/src/scaling/redis/redis-settings.js';
import { startApp, type AppProcess } from '../templates/test/support/app-process.js';
import { startCluster, startStandalone } from '../templates/test/support/redis-servers.js';
import { createRealtimePublisher } from '../templates/test/support/realtime-publisher.js';
import { SseClient } from '../templates/test/support/sse-client.js';
import { baselineBuild } from './baseline.js';
import { writeBenchmarkSection } from './benchmarks-file.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5' },
    idle: { type: 'string', default: '10000' },
    burst: { type: 'string', default: '500' },
    'no-write': { type: 'boolean', default: false },
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    setups: { type: 'string', default: 'memory,standalone,cluster' },
  },
});
const ROUNDS = Number(args.rounds);
const SETUPS = args.setups.split(',');

/** A template build to start app instances from: this one, or the `--baseline` ref's. */
interface Build {
  /** Appended to every setup name (empty for this build). */
  tag: string;
  startApp: typeof startApp;
}
const BASELINE_TAG = ' [baseline]';
const SUBSCRIBERS = Number(args.subscribers);
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const IDLE = Number(args.idle);
const BURST = Number(args.burst);
const EVENTS_PATH = '/api/v1/sse/events?channels=notes';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;

interface LatencyRow {
  setup: string;
  publisher: string;
  events: number;
  receipts: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
  ackP50?: number;
  ackP99?: number;
}
interface ThroughputRow {
  setup: string;
  events: number;
  seconds: number;
  perInstance: number[];
}
interface MemoryRow {
  setup: string;
  connections: number;
  baselineKiB: number;
  openKiB: number;
  perConnectionKiB: number;
}

const latencyRows: LatencyRow[] = [];
const throughputRows: ThroughputRow[] = [];
const memoryRows: MemoryRow[] = [];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Spawns the app with a raised file-descriptor limit (10,000 streams need 10,000 sockets),
 * and room for more streams than the per-instance cap (the memory setup holds 11,000 on one).
 */
function startInstances(build: Build, count: number, env: Record<string, string>): Promise<AppProcess[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      build.startApp(`app${index + 1}`, { ...env, LOG_LEVEL: 'error', SSE_MAX_BUFFERED_BYTES: String(8 * 1024 * 1024), SSE_MAX_CONNECTIONS: '50000' }),
    ),
  );
}

/**
 * Subscribers live in worker processes (bench/sse-receivers.ts): parsing
 * every event of 1,000 streams would otherwise saturate the publisher's event
 * loop and show up as latency.
 */
class Receivers {
  private readonly workers: ChildProcess[] = [];
  receipts = 0;
  latencies: number[] = [];
  perInstance: number[] = [];

  constructor(private readonly workerCount = 4) {}

  // biome-ignore lint/suspicious/noExplicitAny: replies are the worker's messages (bench/sse-receivers.ts), one shape per command.
  private ask(worker: ChildProcess, command: object, reply: string): Promise<any> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { kind: string; message?: string }) => {
        if (message.kind === 'error') reject(new Error(message.message));
        else if (message.kind === reply) resolve(message);
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.send(command);
    });
  }

  async open(apps: AppProcess[], total: number): Promise<void> {
    const ports = apps.map((app) => app.port);
    const perWorker = Math.ceil(total / this.workerCount);
    for (let index = 0; index < this.workerCount; index++) {
      const worker = fork(join(root, 'bench', 'sse-receivers.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
      await new Promise<void>((resolve) => worker.once('message', () => resolve()));
      this.workers.push(worker);
    }
    await Promise.all(
      this.workers.map((worker, index) =>
        this.ask(
          worker,
          { kind: 'open', ports, path: EVENTS_PATH, count: Math.min(perWorker, total - index * perWorker), offset: index * perWorker },
          'opened',
        ),
      ),
    );
    this.perInstance = apps.map(() => 0);
  }

  async reset(): Promise<void> {
    await Promise.all(this.workers.map((worker) => this.ask(worker, { kind: 'reset' }, 'reset')));
    this.receipts = 0;
    this.latencies = [];
    this.perInstance = this.perInstance.map(() => 0);
  }

  async collect(): Promise<void> {
    const replies = await Promise.all(this.workers.map((worker) => this.ask(worker, { kind: 'collect' }, 'collected')));
    this.receipts = replies.reduce((sum, reply) => sum + reply.receipts, 0);
    this.latencies = replies.flatMap((reply) => reply.latencies as number[]);
    this.perInstance = this.perInstance.map((_, index) => replies.reduce((sum, reply) => sum + (reply.perInstance[index] ?? 0), 0));
  }

  async waitForReceipts(expected: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.collect();
    while (this.receipts < expected && Date.now() < deadline) {
      await sleep(50);
      await this.collect();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => this.ask(worker, { kind: 'close' }, 'closed').catch(() => undefined)));
    for (const worker of this.workers) worker.kill();
    this.workers.length = 0;
  }
}

/** Wall-clock milliseconds with sub-millisecond precision: the receivers' clock too. */
const wallNow = () => performance.timeOrigin + performance.now();

async function postNote(app: AppProcess, text: string): Promise<void> {
  const response = await fetch(`${app.url}/api/v1/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  if (response.status !== 201) throw new Error(`POST /notes: ${response.status} ${await response.text()}`);
  await response.arrayBuffer().catch(() => undefined);
}

/** Publishes RATE events per second for SECONDS on a fixed schedule; returns ack latencies. */
async function paced(publish: () => Promise<unknown>): Promise<{ events: number; acks: number[] }> {
  const events = Math.round(RATE * SECONDS);
  const started = performance.now();
  const acks: number[] = [];
  const inFlight: Promise<unknown>[] = [];
  for (let index = 0; index < events; index++) {
    const due = started + (index * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    inFlight.push(publish().then(() => acks.push(performance.now() - sent)));
  }
  await Promise.all(inFlight);
  return { events, acks };
}

async function measureLatency(setup: string, publisher: string, receivers: Receivers, subscribers: number, publish: () => Promise<unknown>): Promise<void> {
  await receivers.reset();
  const { events, acks } = await paced(publish);
  await receivers.waitForReceipts(events * subscribers, 20_000);
  const sorted = [...receivers.latencies].sort((a, b) => a - b);
  const sortedAcks = acks.sort((a, b) => a - b);
  const row: LatencyRow = {
    setup,
    publisher,
    events,
    receipts: receivers.receipts,
    expected: events * subscribers,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    ackP50: percentile(sortedAcks, 50),
    ackP99: percentile(sortedAcks, 99),
  };
  latencyRows.push(row);
  log(
    `${setup} / ${publisher}: ${row.receipts}/${row.expected} receipts, p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms, max ${row.max.toFixed(1)} ms; ack p50 ${row.ackP50?.toFixed(2)} p99 ${row.ackP99?.toFixed(2)} ms`,
  );
}

async function measureBurst(setup: string, apps: AppProcess[], receivers: Receivers, subscribers: number): Promise<void> {
  await receivers.reset();
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < BURST) {
      next++;
      await postNote(apps[0]!, 'burst');
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await receivers.waitForReceipts(BURST * subscribers, 60_000);
  const seconds = (performance.now() - started) / 1000;
  const row: ThroughputRow = { setup, events: BURST, seconds, perInstance: receivers.perInstance.map((count) => count / seconds) };
  throughputRows.push(row);
  log(
    `${setup} burst: ${BURST} events to ${subscribers} subscribers in ${seconds.toFixed(2)} s; delivered/s per instance ${row.perInstance.map((n) => Math.round(n)).join(', ')}`,
  );
}

async function measureIdleMemory(setup: string, app: AppProcess): Promise<void> {
  // Warm up the stream path, then take the baseline.
  const warm = await Promise.all(Array.from({ length: 50 }, () => SseClient.open({ port: app.port, path: EVENTS_PATH, keep: false })));
  for (const client of warm) client.close();
  await sleep(1_000);
  const baseline = app.rssKiB();
  const clients: SseClient[] = [];
  for (let index = 0; index < IDLE; index += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, IDLE - index) }, () => SseClient.open({ port: app.port, path: EVENTS_PATH, keep: false })),
    );
    for (const client of batch) if (client.status !== 200) throw new Error(`idle stream refused: ${client.status}`);
    clients.push(...batch);
  }
  await sleep(2_000);
  const open = app.rssKiB();
  const row: MemoryRow = { setup, connections: IDLE, baselineKiB: baseline, openKiB: open, perConnectionKiB: (open - baseline) / IDLE };
  memoryRows.push(row);
  log(`${setup}: ${IDLE} idle streams, RSS ${baseline} -> ${open} KiB, ${row.perConnectionKiB.toFixed(2)} KiB per connection`);
  for (const client of clients) client.close();
  await sleep(500);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function runMemory(build: Build): Promise<void> {
  const setup = `memory, 1 instance${build.tag}`;
  const [app] = await startInstances(build, 1, {});
  const receivers = new Receivers();
  try {
    await receivers.open([app!], SUBSCRIBERS);
    for (let index = 0; index < 20; index++) await postNote(app!, String(wallNow()));
    await sleep(500);
    await measureLatency(setup, 'POST /api/v1/notes', receivers, SUBSCRIBERS, () => postNote(app!, String(wallNow())));
    await measureBurst(setup, [app!], receivers, SUBSCRIBERS);
    await receivers.close();
    await sleep(500);
    await measureIdleMemory(setup, app!);
  } finally {
    await receivers.close();
    await app!.stop();
  }
}

async function runRedis(kind: 'standalone' | 'cluster', build: Build): Promise<void> {
  const standalone = kind === 'standalone' ? await startStandalone() : undefined;
  const cluster = kind === 'cluster' ? await startCluster() : undefined;
  const env: Record<string, string> = standalone ? { REDIS_URL: standalone.url } : { REDIS_CLUSTER_NODES: cluster!.nodeList };
  const setup = `${kind} Redis, 3 instances${build.tag}`;
  const apps = await startInstances(build, 3, env);
  const settings = readRedisSettings(env) as Connected;
  const direct = createRealtimePublisher(settings, 0);
  const durable = kind === 'cluster' ? createRealtimePublisher(settings, 1) : undefined;
  const receivers = new Receivers();
  try {
    await receivers.open(apps, SUBSCRIBERS);
    for (let index = 0; index < 20; index++) await postNote(apps[0]!, String(wallNow()));
    await sleep(500);
    await measureLatency(setup, 'POST /api/v1/notes', receivers, SUBSCRIBERS, () => postNote(apps[0]!, String(wallNow())));
    await measureLatency(setup, 'transport publish', receivers, SUBSCRIBERS, () => direct.publish('notes', 'message', { at: wallNow() }));
    if (durable) {
      await measureLatency(setup, 'transport publish + WAIT 1 replica', receivers, SUBSCRIBERS, () => durable.publish('notes', 'message', { at: wallNow() }));
    }
    await measureBurst(setup, apps, receivers, SUBSCRIBERS);
    await receivers.close();
    await sleep(500);
    if (kind === 'standalone') await measureIdleMemory(`standalone Redis, 1 of 3 instances${build.tag}`, apps[1]!);
  } finally {
    await receivers.close();
    await Promise.all(apps.map((app) => app.stop()));
    await direct.close();
    await durable?.close();
    await standalone?.close();
    await cluster?.close();
  }
}

function fmt(ms: number | undefined): string {
  return ms === undefined || Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

function report(): string {
  const lines: string[] = [];
  lines.push(`Publish-to-receive latency, ${SUBSCRIBERS} subscribers (channel \`notes\`), ${RATE} events/s for ${SECONDS} s (ms):`, '');
  lines.push('| setup | published by | receipts | p50 | p99 | max | publish ack p50 / p99 |', '|---|---|---|---|---|---|---|');
  for (const row of latencyRows) {
    lines.push(
      `| ${row.setup} | ${row.publisher} | ${row.receipts} / ${row.expected} | ${fmt(row.p50)} | ${fmt(row.p99)} | ${fmt(row.max)} | ${fmt(row.ackP50)} / ${fmt(row.ackP99)} |`,
    );
  }
  lines.push('', `Throughput: a burst of ${BURST} notes (16 concurrent POSTs to instance 1), every subscriber receives every event:`, '');
  lines.push('| setup | seconds until all delivered | events delivered/s, per instance |', '|---|---|---|');
  for (const row of throughputRows) {
    lines.push(`| ${row.setup} | ${row.seconds.toFixed(2)} | ${row.perInstance.map((n) => Math.round(n).toLocaleString('en-US')).join(' / ')} |`);
  }
  lines.push('', 'Memory: idle streams on one instance (RSS from /proc, after 2 s):', '');
  lines.push('| setup | streams | RSS before | RSS with streams | per stream |', '|---|---|---|---|---|');
  for (const row of memoryRows) {
    lines.push(
      `| ${row.setup} | ${row.connections.toLocaleString('en-US')} | ${(row.baselineKiB / 1024).toFixed(1)} MiB | ${(row.openKiB / 1024).toFixed(1)} MiB | ${row.perConnectionKiB.toFixed(2)} KiB |`,
    );
  }
  return lines.join('\n');
}

/** Whether every 3-instance row met the p99 target. */
function targetLine(): string {
  const rows = latencyRows.filter((row) => row.setup.includes('3 instances') && !row.setup.endsWith(BASELINE_TAG));
  const worst = Math.max(...rows.map((row) => row.p99));
  const missed = rows.filter((row) => !(row.p99 < 25));
  return `Target, p99 < 25 ms with 3 instances: ${missed.length === 0 ? 'met' : 'not met'} (worst p99 ${fmt(worst)} ms over ${rows.length} rows${missed.length ? `; missed by ${missed.map((row) => `${row.setup} / ${row.publisher}`).join(', ')}` : ''}).`;
}

/** This build's figures over the baseline's (medians over rounds), for each setup both ran. */
function comparison(label: string): string {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  /** Rows of both builds grouped by `key` of this build's setup name; medians of `value`. */
  const pair = <R extends { setup: string }>(rows: R[], key: (row: R) => string, value: (row: R) => number) => {
    const untagged = (row: R) => key({ ...row, setup: row.setup.endsWith(BASELINE_TAG) ? row.setup.slice(0, -BASELINE_TAG.length) : row.setup });
    const out: Array<{ key: string; ours: number; base: number }> = [];
    for (const name of new Set(rows.filter((row) => !row.setup.endsWith(BASELINE_TAG)).map(key))) {
      const ours = rows.filter((row) => !row.setup.endsWith(BASELINE_TAG) && key(row) === name).map(value);
      const base = rows.filter((row) => row.setup.endsWith(BASELINE_TAG) && untagged(row) === name).map(value);
      if (base.length > 0) out.push({ key: name, ours: median(ours), base: median(base) });
    }
    return out;
  };
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const lines = [
    `This build against ${label}, medians over ${ROUNDS} round(s); below 1.00x is lower (better) for latency and memory, above 1.00x is higher (better) for throughput:`,
    '',
  ];
  lines.push('| setup | published by | p50 this / baseline (ms) | p50 ratio | p99 this / baseline (ms) | p99 ratio |', '|---|---|---|---|---|---|');
  const p50 = pair(
    latencyRows,
    (row) => `${row.setup}|${row.publisher}`,
    (row) => row.p50,
  );
  const p99 = new Map(
    pair(
      latencyRows,
      (row) => `${row.setup}|${row.publisher}`,
      (row) => row.p99,
    ).map((entry) => [entry.key, entry]),
  );
  for (const entry of p50) {
    const [setup, publisher] = entry.key.split('|');
    const tail = p99.get(entry.key)!;
    lines.push(
      `| ${setup} | ${publisher} | ${fmt(entry.ours)} / ${fmt(entry.base)} | ${ratio(entry.ours, entry.base)} | ${fmt(tail.ours)} / ${fmt(tail.base)} | ${ratio(tail.ours, tail.base)} |`,
    );
  }
  lines.push('', '| setup | delivered/s per instance, this / baseline (mean) | ratio |', '|---|---|---|');
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  for (const entry of pair(
    throughputRows,
    (row) => row.setup,
    (row) => mean(row.perInstance),
  )) {
    lines.push(
      `| ${entry.key} | ${Math.round(entry.ours).toLocaleString('en-US')} / ${Math.round(entry.base).toLocaleString('en-US')} | ${ratio(entry.ours, entry.base)} |`,
    );
  }
  lines.push('', '| setup | RSS per idle stream, this / baseline | ratio |', '|---|---|---|');
  for (const entry of pair(
    memoryRows,
    (row) => row.setup,
    (row) => row.perConnectionKiB,
  )) {
    lines.push(`| ${entry.key} | ${entry.ours.toFixed(2)} / ${entry.base.toFixed(2)} KiB | ${ratio(entry.ours, entry.base)} |`);
  }
  return lines.join('\n');
}

function readingNotes(): string[] {
  return [
    'Reading the tables:',
    '- "POST /api/v1/notes" is the whole path: HTTP request, note stored, event appended to the channel log and announced, fanned out by every instance to its subscribers. "transport publish" appends straight into the log from the benchmark process (what `realtime.publish` costs in an action).',
    '- "+ WAIT 1 replica": publish resolves once a replica holds the event (the default on a cluster, `SSE_PUBLISH_WAIT_REPLICAS=1`), so an acknowledged event survives a master failover; it moves the publish acknowledgement, not delivery.',
    '- Everything (Redis, 3 apps, 4 receiver processes, the publisher and whatever else runs on the machine) shares two cores: latency includes waiting for a CPU. The "publish ack" column is the tell: it is one Redis round trip (about 1 ms when idle), so when its p99 is in the hundreds of ms, so is the delivery p99, and the < 25 ms target cannot be judged from that run. Compare rows of one run, not runs.',
    '- Burst: 500 events x 1,000 subscribers = 500,000 deliveries; the receiver processes are parsing on the same two cores, so "delivered/s" is a floor for what an instance can write (the apps run with `SSE_MAX_BUFFERED_BYTES` at 8 MiB so that lagging receivers are not disconnected mid-burst).',
    "- Method: until 2026-11-27 10:40 UTC the subscribers were the tests' full EventSource client (parsing every field, `JSON.parse` of every event) and measured p99 36-53 ms with p50 12-19 ms: with 1,000 of them and the 3 apps on two cores, the receivers' own parsing was most of the latency. With the minimal receivers the same code measured p99 17.6-24.5 ms (one run); encoding each event's frame once for all single-channel streams (instead of once per connection) then brought it to the figures above.",
    "- Per stream: an idle connection costs its socket, node's request/response objects and one small connection record; no timer or closure per connection (one heartbeat interval serves them all).",
    '',
  ];
}

function writeSection(heading: string, body: string): void {
  const cpu = cpus();
  const baselineArgs = args.baseline ? ` --baseline ${args.baseline} --rounds ${ROUNDS} --setups ${SETUPS.join(',')}` : '';
  const section = [
    heading,
    '',
    `Command: \`npm run bench:sse -- --subscribers ${SUBSCRIBERS} --seconds ${SECONDS} --rate ${RATE} --idle ${IDLE} --burst ${BURST}${baselineArgs}\``,
    `Date: ${new Date().toISOString()}. Machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (shared machine: other work was running).`,
    args.baseline
      ? `Each setup ran on this build and on the baseline back to back, the order alternating by round; rows tagged [baseline] are the baseline's. The setups and receivers are those of \`## Realtime (SSE)\`, which has the targets and how to read the tables.`
      : "Targets: publish-to-receive p99 < 25 ms on loopback with 3 instances and 1,000 subscribers; < 20 KB RSS per idle stream with 10,000 open. App instances are child processes (`node --import tsx src/server.ts`); Redis 7 runs as real processes on loopback; subscribers are raw sockets in 4 worker processes (bench/sse-receivers.ts) that take the time when bytes arrive and only look for frame ends and the sender's time (the stream format is checked by the tests); the sender puts its wall-clock time (sub-millisecond) in each event.",
    '',
    ...(args.baseline ? [] : [targetLine(), '']),
    body,
    '',
    ...(args.baseline ? [] : readingNotes()),
  ].join('\n');
  writeBenchmarkSection(section);
}

const builds: Build[] = [{ tag: '', startApp }];
let baselineLabel: string | undefined;
if (args.baseline) {
  const base = baselineBuild(args.baseline);
  baselineLabel = base.label;
  const support = (await import(pathToFileURL(join(base.root, 'templates/test/support/app-process.ts')).href)) as { startApp: typeof startApp };
  builds.push({ tag: BASELINE_TAG, startApp: support.startApp });
}
for (let round = 0; round < ROUNDS; round++) {
  // Each setup on both builds back to back; which goes first alternates by round.
  const order = round % 2 === 0 ? builds : [...builds].reverse();
  for (const setup of SETUPS) {
    for (const build of order) {
      if (setup === 'memory') await runMemory(build);
      else if (setup === 'standalone' || setup === 'cluster') await runRedis(setup, build);
      else throw new Error(`unknown setup ${setup}; known: memory, standalone, cluster`);
    }
  }
}
const body = baselineLabel ? `${comparison(baselineLabel)}\n\n${report()}` : report();
log(`\n${body}`);
if (!args['no-write']) {
  const heading = baselineLabel ? '## Realtime (SSE): this build against a baseline' : '## Realtime (SSE)';
  writeSection(heading, body);
  log(`\nBENCHMARKS.md: ${heading} updated`);
}
process.exit(0);
