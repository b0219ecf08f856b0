import { request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createHealth } from '../../src/scaling/http/health.js';
import { startMetricsServer } from '../../src/scaling/http/metrics-endpoint.js';
import { withOperations } from '../../src/scaling/http/operations-listener.js';
import { createLogger } from '../../src/scaling/logger.js';
import { createMetrics } from '../../src/scaling/metrics/index.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { httpRequest } from '../support/http-request.js';
import { serve, type Served } from '../support/serve.js';

const TOKEN = 'a-very-long-metrics-token';
const health = createHealth({ serviceId: 'metrics-test', version: '1' });
const metrics = createMetrics({ instanceId: 'metrics-test' });
const lines: Array<Record<string, unknown>> = [];
const logger = createLogger({
  level: 'info',
  instanceId: 'metrics-test',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  }),
});

// Stand-in kernel: two routes and the route pattern it matched, as the kernel reports it.
const ROUTE = Symbol('route');
type Req = IncomingMessage & { [ROUTE]?: string };
/** Request ids the stand-in kernel has received. */
const received = new Set<string>();
function kernel(req: Req, res: ServerResponse): void {
  received.add(String(req.headers['x-request-id']));
  if (req.url?.startsWith('/api/v1/notes/')) {
    req[ROUTE] = '/api/v1/notes/:id';
    // `gone` answers late enough for its client to have left, however slow the machine.
    const delayMs = req.url.endsWith('/gone') ? 2_000 : 30;
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{},"error":null}'), delayMs);
    return;
  }
  res.writeHead(404).end();
}

let app: Served;
let appPort: number;
let metricsServer: Server;
let metricsPort: number;
beforeAll(async () => {
  const ops = withOperations(kernel as (req: IncomingMessage, res: ServerResponse) => void, {
    instanceId: 'metrics-test',
    health,
    metrics,
    logger,
    metricsToken: TOKEN,
    // As behind nginx: the request ids below come from the proxy.
    trustRequestId: true,
    routeOf: (req) => (req as Req)[ROUTE],
  });
  app = await serve(ops.listener);
  appPort = app.port;
  metricsServer = await startMetricsServer({ registry: metrics.registry, health, port: 0, host: '127.0.0.1' });
  metricsPort = (metricsServer.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
  await new Promise((resolve) => metricsServer.close(resolve));
});

const get = (port: number, path: string, headers: Record<string, string> = {}) => httpRequest(port, path, { headers });

async function scrape() {
  const res = await get(metricsPort, '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(res.body).samples;
}

describe('/metrics', () => {
  it('serves parseable text on its own port, every series labelled with the instance', async () => {
    const samples = await scrape();
    expect(samples.length).toBeGreaterThan(50);
    expect(samples.every((s) => s.labels.instance === 'metrics-test')).toBe(true);
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect((await get(metricsPort, '/other')).status).toBe(404);
  });

  it('counts requests by route pattern, method and status, and the values move', async () => {
    const route = { route: '/api/v1/notes/:id', method: 'GET', status: '200' };
    const before = sampleValue(await scrape(), 'http_request_duration_ms_count', route) ?? 0;
    await Promise.all(['a', 'b', 'c'].map((id) => get(appPort, `/api/v1/notes/${id}`)));
    await get(appPort, '/nowhere');
    const samples = await scrape();
    expect(sampleValue(samples, 'http_request_duration_ms_count', route)).toBe(before + 3);
    // Each took >= 30 ms: none in the 25 ms bucket, all in the 50 ms one (loopback).
    expect(sampleValue(samples, 'http_request_duration_ms_bucket', { ...route, le: '25' })).toBe(0);
    expect(sampleValue(samples, 'http_request_duration_ms_sum', route)).toBeGreaterThanOrEqual(90);
    expect(sampleValue(samples, 'http_request_duration_ms_count', { route: 'unmatched', status: '404' })).toBe(1);
    // The raw paths never become labels.
    expect(samples.some((s) => s.labels.route?.includes('/notes/a'))).toBe(false);
  });

  it('is served on the main port only with the bearer token', async () => {
    expect((await get(appPort, '/metrics')).status).toBe(401);
    expect((await get(appPort, '/metrics', { authorization: 'Bearer wrong-token-of-some-len' })).status).toBe(401);
    const ok = await get(appPort, '/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(sampleValue(parsePrometheusText(ok.body).samples, 'sse_active_connections')).toBe(0);
  });

  it('takes the auth scheme in any case, as RFC 9110 says, and nothing but the exact token', async () => {
    for (const authorization of [`bearer ${TOKEN}`, `BEARER ${TOKEN}`, `bEaReR ${TOKEN}`, `Bearer  ${TOKEN}`]) {
      expect((await get(appPort, '/metrics', { authorization })).status, authorization).toBe(200);
    }
    for (const authorization of [`Bearer${TOKEN}`, `Token ${TOKEN}`, `Bearer ${TOKEN.slice(1)}`, `Bearer ${TOKEN}${TOKEN}`, 'Bearer ']) {
      expect((await get(appPort, '/metrics', { authorization })).status, JSON.stringify(authorization)).toBe(401);
    }
  });

  it('listens on loopback unless METRICS_HOST says otherwise', () => {
    expect(loadConfig({}).metricsHost).toBe('127.0.0.1');
    expect(loadConfig({ METRICS_HOST: '0.0.0.0' }).metricsHost).toBe('0.0.0.0');
    expect((metricsServer.address() as AddressInfo).address).toBe('127.0.0.1');
  });
});

describe('request log', () => {
  it('writes one JSON line per request with id, method, path, status, duration and instance', async () => {
    lines.length = 0;
    // The probe first: had it been logged, its line would be in the same batch as the request's.
    await get(appPort, '/health/live');
    const res = await get(appPort, '/api/v1/notes/42?secret=1', { 'x-request-id': 'trace-42' });
    expect(res.headers['x-request-id']).toBe('trace-42');
    await expect.poll(() => lines.some((l) => l.reqId === 'trace-42')).toBe(true);
    const requestLines = lines.filter((l) => l.msg === 'request' && l.reqId === 'trace-42');
    expect(requestLines).toHaveLength(1);
    // Probes are logged at debug, below LOG_LEVEL=info.
    expect(lines.some((l) => l.path === '/health/live')).toBe(false);
    expect(requestLines[0]).toMatchObject({
      level: 'info',
      instance: 'metrics-test',
      reqId: 'trace-42',
      method: 'GET',
      path: '/api/v1/notes/42',
      route: '/api/v1/notes/:id',
      status: 200,
    });
    expect(requestLines[0]!.durationMs).toBeGreaterThanOrEqual(25);
  });

  it('marks a request the client abandoned before the response', async () => {
    lines.length = 0;
    const req = request({ host: '127.0.0.1', port: appPort, path: '/api/v1/notes/gone', headers: { 'x-request-id': 'abandoned-1' } });
    req.on('error', () => {});
    req.end();
    await expect.poll(() => received.has('abandoned-1'), { interval: 5 }).toBe(true);
    req.destroy();
    await expect.poll(() => lines.find((l) => l.reqId === 'abandoned-1'), { timeout: 2_000 }).toMatchObject({ aborted: true, route: '/api/v1/notes/:id' });
  });
});
