/**
 * The default middleware stack (compression, metrics, request id, request
 * logs) against the bare kernel and raw node:http, and a 20 KB JSON response
 * with and without compression.
 *
 *   npx tsx bench/middleware-stack.ts [--duration 10] [--rounds 3] [--connections 50]
 *
 * Each server runs in its own process; the load generator (autocannon) runs
 * here, and the scenarios alternate round by round so that noise from other
 * work on the machine spreads over all of them. Medians are reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import compression from 'compression';
import { Volt, silentLogger } from '../templates/src/volt/index.js';
import { createCompressor } from '../templates/src/scaling/http/compression.js';
import { createHealth } from '../templates/src/scaling/http/health.js';
import { withOperations } from '../templates/src/scaling/http/operations-listener.js';
import { asyncDestination, createLogger } from '../templates/src/scaling/logger.js';
import { createMetrics } from '../templates/src/scaling/metrics/index.js';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

// autocannon ships no types: the part used here.
interface AutocannonResult {
  requests: { average: number; total: number };
  throughput: { total: number };
  latency: { p99: number };
  errors: number;
  non2xx: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
}) => Promise<AutocannonResult>;

/** ~20 KB of JSON, the shape of a list endpoint. */
function largePayload() {
  const items = [];
  for (let i = 0; i < 170; i++) {
    items.push({ id: `note-${i}`, title: `Note number ${i}`, body: 'Lorem ipsum dolor sit amet, consectetur adipiscing.', tags: ['work', 'ideas'], updatedAt: 1_764_000_000_000 + i });
  }
  return items;
}
const LARGE = largePayload();

function kernelRouter(extra: { compress?: ReturnType<typeof createCompressor>; headers?: Record<string, string> } = {}) {
  const volt = Volt.context({}).logger(silentLogger).config({ basePATH: '/api/v1' }).create();
  const ping = volt.controller({
    name: 'ping',
    path: '/',
    actions: {
      ping: volt.query({ path: '/ping', handler: ({ response }) => response.success({ pong: true }) }),
      large: volt.query({ path: '/large', handler: ({ response }) => response.success(LARGE) }),
    },
  });
  return volt.router({ controllers: { ping }, ...extra });
}

/** The default stack as `src/app.ts` composes it. */
function stack(options: { compress: boolean; logs: boolean; metrics: boolean }): Listener {
  const instanceId = 'bench-1';
  const router = kernelRouter({
    headers: { 'x-instance-id': instanceId },
    ...(options.compress ? { compress: createCompressor({ thresholdBytes: 1024 }) } : {}),
  });
  const ops = withOperations(router.listener, {
    instanceId,
    health: createHealth({ serviceId: instanceId, version: 'bench' }),
    metrics: options.metrics ? createMetrics({ instanceId }) : undefined,
    logger: options.logs ? createLogger({ level: 'info', instanceId, destination: asyncDestination('/dev/null') }) : undefined,
    routeOf: router.matchedRoute,
  });
  return ops.listener;
}

const SCENARIOS: Record<string, () => Listener> = {
  raw: () => (req, res) => {
    const body = JSON.stringify({ data: req.url === '/api/v1/large' ? LARGE : { pong: true }, error: null });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  },
  kernel: () => kernelRouter().listener,
  stack: () => stack({ compress: true, logs: true, metrics: true }),
  'stack-no-logs': () => stack({ compress: true, logs: false, metrics: true }),
  'stack-no-compression': () => stack({ compress: false, logs: true, metrics: true }),
  /** The `compression` package as ordinary middleware in front of every request. */
  'kernel+compression-middleware': () => {
    const router = kernelRouter();
    const middleware = compression({ threshold: 1024 });
    return (req, res) => middleware(req as never, res as never, () => router.listener(req, res));
  },
};

// ---- child: serve one scenario, print the port
async function serve(name: string): Promise<void> {
  const make = SCENARIOS[name];
  if (!make) throw new Error(`unknown scenario ${name}`);
  const listener = make();
  // CPU time of this server process: CPU per request is steadier than
  // requests/s on a machine shared with other work.
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.url === '/__cpu') {
      const { user, system } = process.cpuUsage();
      res.end(String(user + system));
    } else listener(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A normal exit on SIGTERM, so `node --cpu-prof` can write its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

// ---- parent: start servers, alternate runs, print medians
interface Run {
  rps: number;
  /** Server CPU time per response, microseconds. */
  cpuUs: number;
  bytesPerResponse: number;
  p99: number;
  errors: number;
}

function startServer(name: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve({ port: Number(chunk.toString().trim()), child }));
  });
}

async function serverCpu(port: number): Promise<number> {
  return Number(await (await fetch(`http://127.0.0.1:${port}/__cpu`)).text());
}

async function load(port: number, path: string, duration: number, connections: number, headers: Record<string, string>): Promise<Run> {
  const cpuBefore = await serverCpu(port);
  const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections, duration, headers });
  const cpu = (await serverCpu(port)) - cpuBefore;
  const responses = result.requests.total || 1;
  return {
    rps: result.requests.average,
    cpuUs: Math.round((cpu / responses) * 10) / 10,
    bytesPerResponse: Math.round(result.throughput.total / responses),
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface Case {
  label: string;
  scenario: string;
  path: string;
  headers?: Record<string, string>;
}

export async function runMiddlewareBench(options: { duration: number; rounds: number; connections: number; cases: Case[] }) {
  const names = [...new Set(options.cases.map((c) => c.scenario))];
  const servers = new Map<string, { port: number; child: ChildProcess }>();
  try {
    for (const name of names) servers.set(name, await startServer(name));
    const runs = new Map<string, Run[]>(options.cases.map((c) => [c.label, []]));
    for (const c of options.cases) await load(servers.get(c.scenario)!.port, c.path, 1, options.connections, c.headers ?? {}); // warm-up
    for (let round = 1; round <= options.rounds; round++) {
      for (const c of options.cases) {
        const run = await load(servers.get(c.scenario)!.port, c.path, options.duration, options.connections, c.headers ?? {});
        runs.get(c.label)!.push(run);
        console.error(`round ${round} ${c.label}: ${Math.round(run.rps)} req/s, ${run.cpuUs} µs CPU/response, ${run.bytesPerResponse} B/response, p99 ${run.p99} ms${run.errors ? `, ${run.errors} errors` : ''}`);
      }
    }
    return options.cases.map((c) => {
      const list = runs.get(c.label)!;
      return {
        label: c.label,
        rps: Math.round(median(list.map((r) => r.rps))),
        all: list.map((r) => Math.round(r.rps)),
        cpuUs: median(list.map((r) => r.cpuUs)),
        bytesPerResponse: median(list.map((r) => r.bytesPerResponse)),
        p99: median(list.map((r) => r.p99)),
        errors: list.reduce((n, r) => n + r.errors, 0),
      };
    });
  } finally {
    for (const { child } of servers.values()) child.kill();
  }
}

const ENCODINGS = { 'accept-encoding': 'gzip, deflate, br' };
export const MIDDLEWARE_CASES: Case[] = [
  { label: 'ping: raw node:http', scenario: 'raw', path: '/api/v1/ping', headers: ENCODINGS },
  { label: 'ping: bare kernel', scenario: 'kernel', path: '/api/v1/ping', headers: ENCODINGS },
  { label: 'ping: default stack', scenario: 'stack', path: '/api/v1/ping', headers: ENCODINGS },
  { label: 'ping: default stack, no request logs', scenario: 'stack-no-logs', path: '/api/v1/ping', headers: ENCODINGS },
  { label: 'ping: kernel + compression as middleware', scenario: 'kernel+compression-middleware', path: '/api/v1/ping', headers: ENCODINGS },
  { label: '20 KB: default stack, compressed (gzip)', scenario: 'stack', path: '/api/v1/large', headers: { 'accept-encoding': 'gzip' } },
  { label: '20 KB: default stack, compressed (br)', scenario: 'stack', path: '/api/v1/large', headers: { 'accept-encoding': 'br' } },
  { label: '20 KB: default stack, compression off', scenario: 'stack-no-compression', path: '/api/v1/large', headers: ENCODINGS },
  { label: '20 KB: raw node:http', scenario: 'raw', path: '/api/v1/large', headers: ENCODINGS },
];

export function formatTable(results: Awaited<ReturnType<typeof runMiddlewareBench>>): string {
  const raw = results.find((r) => r.label === 'ping: raw node:http');
  const lines = [
    '| case | req/s (median) | runs | req/s vs raw | server CPU µs/response | CPU vs raw | bytes/response | p99 ms |',
    '|---|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const ping = raw !== undefined && r.label.startsWith('ping');
    const ratio = ping ? `${(r.rps / raw.rps).toFixed(2)}x` : '';
    const cpuRatio = ping ? `${(raw.cpuUs / r.cpuUs).toFixed(2)}x` : '';
    lines.push(`| ${r.label} | ${r.rps} | ${r.all.join(', ')} | ${ratio} | ${r.cpuUs} | ${cpuRatio} | ${r.bytesPerResponse} | ${r.p99} |`);
  }
  return lines.join('\n');
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      /** Only the cases whose label contains this text, e.g. `ping` or `20 KB`. */
      only: { type: 'string' },
    },
  });
  if (values.serve) {
    await serve(values.serve);
  } else {
    const results = await runMiddlewareBench({
      duration: Number(values.duration),
      rounds: Number(values.rounds),
      connections: Number(values.connections),
      cases: MIDDLEWARE_CASES.filter((c) => values.only === undefined || c.label.includes(values.only)),
    });
    console.log(formatTable(results));
  }
}
