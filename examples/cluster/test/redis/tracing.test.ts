/**
 * OpenTelemetry traces from app processes on real Redis, exported over
 * OTLP/HTTP to a receiver in this process: the server span of
 * `POST /api/v1/notes` (continuing the caller's `traceparent`, as nginx passes
 * it), its Redis commands, the publish of its event and the event's delivery
 * on another instance, and the trace ids in the log lines. Tracing off loads
 * no OpenTelemetry module at all, and on a Node.js too old for the SDK,
 * tracing on stops the app at start with a message that says why.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../support/app-process.js';
import { httpRequest } from '../support/http-request.js';
import { SpanKinds, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { startStandalone, type StandaloneRedis } from '../support/redis-servers.js';
import { SseClient } from '../support/sse-client.js';
import { nodeForTracing } from '../support/tracing-node.js';
import { assertTracingRuntime } from '../../src/scaling/tracing/index.js';

const execFileAsync = promisify(execFile);
const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const MODULE_LOG = path.join(projectRoot, 'test', 'support', 'module-log.mjs');
const tracingNode = nodeForTracing();
// In CI nothing is skipped: a missing TRACING_TEST_NODE fails here.
if ('missing' in tracingNode && process.env.CI) throw new Error(tracingNode.missing);
const describeTraced = 'missing' in tracingNode ? describe.skip : describe;

function runsTracing(nodeVersion: string): boolean {
  try {
    assertTracingRuntime(nodeVersion);
    return true;
  } catch {
    return false;
  }
}

/** A caller's trace (what nginx passes on from a client or an upstream proxy). */
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

const isOpenTelemetry = (module: string) => /[\\/]node_modules[\\/](@opentelemetry[\\/]|import-in-the-middle[\\/]|require-in-the-middle[\\/])/.test(module);

function logLines(app: AppProcess): Array<Record<string, unknown>> {
  return app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitForLine(app: AppProcess, check: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = logLines(app).find(check);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no log line with ${what} within 10 s:\n${app.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeTraced('tracing on (OTLP/HTTP to a receiver, Node.js >= 22.15)', () => {
  const node = 'path' in tracingNode ? tracingNode.path : process.execPath;
  const scratch = mkdtempSync(path.join(tmpdir(), 'tracing-test-'));
  let redis: StandaloneRedis;
  let receiver: OtlpReceiver;
  let publisher: AppProcess;
  let subscriber: AppProcess;
  let stream: SseClient;

  beforeAll(async () => {
    [redis, receiver] = await Promise.all([startStandalone(), startOtlpReceiver()]);
    const env = {
      REDIS_URL: redis.url,
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      // The receiver reads JSON; the default http/protobuf goes through the same SDK and exporter base.
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'notes-api',
      // Export every 100 ms instead of every 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    [publisher, subscriber] = await Promise.all([
      startApp('traced-1', { ...env, MODULE_LOG_FILE: path.join(scratch, 'traced-modules.txt') }, { node, imports: [MODULE_LOG] }),
      startApp('traced-2', env, { node }),
    ]);
    stream = await SseClient.open({ port: subscriber.port, path: '/api/v1/sse/events?channels=notes' });
  }, 60_000);

  afterAll(async () => {
    stream?.close();
    await Promise.all([publisher?.stop(), subscriber?.stop()]);
    await Promise.all([receiver?.close(), redis?.close()]);
    rmSync(scratch, { recursive: true, force: true });
  }, 30_000);

  it('POST /api/v1/notes: the server span continues the caller trace; Redis commands, the publish and its delivery on another instance belong to it; the log line names it', async () => {
    const answer = await httpRequest(publisher.port, '/api/v1/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
      body: JSON.stringify({ text: 'traced note' }),
    });
    expect(answer.status).toBe(201);
    const noteId = (JSON.parse(answer.body) as { data: { id: number } }).data.id;
    await stream.waitFor((client) => client.envelopes().some((event) => event.type === 'note.created'), 10_000, 'the note.created event');

    const inTrace = (spans: ReceivedSpan[]) => spans.filter((span) => span.traceId === CALLER_TRACE);
    const has = (spans: ReceivedSpan[], kind: number, destination?: string) =>
      inTrace(spans).some((span) => span.kind === kind && (destination === undefined || span.attributes['messaging.destination.name'] === destination));
    await receiver.waitFor(
      (spans) => has(spans, SpanKinds.SERVER) && has(spans, SpanKinds.PRODUCER, 'revalidate') && has(spans, SpanKinds.CONSUMER, 'notes'),
      15_000,
      'the server span, both publishes and the delivery in the caller trace',
    );
    const trace = inTrace(receiver.spans);
    const byId = new Map(trace.map((span) => [span.spanId, span]));

    // The server span: child of the caller's span, named by the route template, with its status.
    const server = trace.find((span) => span.kind === SpanKinds.SERVER)!;
    expect(server).toMatchObject({ name: 'POST /api/v1/notes', parentSpanId: CALLER_SPAN, statusCode: 0 });
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/api/v1/notes',
      'url.path': '/api/v1/notes',
      'http.response.status_code': 201,
      'http.request.id': answer.headers['x-request-id'],
    });
    expect(server.resource).toMatchObject({ 'service.name': 'notes-api', 'service.instance.id': 'traced-1' });

    // Every span of the request descends from the server span.
    const descendsFromServer = (span: ReceivedSpan) => {
      for (let current: ReceivedSpan | undefined = span; current; current = byId.get(current.parentSpanId ?? '')) {
        if (current === server) return true;
      }
      return false;
    };

    // Redis commands (ioredis instrumentation): the note's writes and the event's append script.
    const redisSpans = trace.filter((span) => span.kind === SpanKinds.CLIENT && span.attributes['db.system.name'] === 'redis');
    expect(redisSpans.length).toBeGreaterThanOrEqual(3);
    for (const span of redisSpans) {
      expect(descendsFromServer(span), `${span.name} is in the request`).toBe(true);
      expect(span.scope).toBe('@opentelemetry/instrumentation-ioredis');
      expect(span.resource['service.instance.id']).toBe('traced-1');
    }
    expect(redisSpans.map((span) => span.name)).toEqual(expect.arrayContaining(['evalsha']));
    // Keys, never values: the note's text is in no span.
    for (const span of trace) expect(JSON.stringify(span.attributes)).not.toContain('traced note');
    const append = redisSpans.find((span) => span.name === 'evalsha' && String(span.attributes['db.query.text']).includes('sse:{notes}'));
    expect(append?.attributes['db.query.text']).toMatch(/^evalsha [0-9a-f]{40} 2 sse:\{notes\} sse:\{notes\}:sent:\S+ \[\d+ other arguments\]$/);

    // The publish of note.created: a child of the server span, with the id clients see, and its append in it.
    const received = stream.envelopes().find((event) => event.type === 'note.created')!;
    expect(received.data).toMatchObject({ id: noteId });
    const publishes = trace.filter((span) => span.kind === SpanKinds.PRODUCER);
    const publish = publishes.find((span) => span.attributes['sse.event.type'] === 'note.created')!;
    expect(publish).toMatchObject({ name: 'realtime publish', parentSpanId: server.spanId });
    expect(publish.attributes).toMatchObject({ 'messaging.destination.name': 'notes', 'messaging.message.id': received.id });
    expect(redisSpans.some((span) => span.parentSpanId === publish.spanId && span.name === 'evalsha')).toBe(true);
    // The revalidation the response asks for (notes.list) is published inside the request too.
    expect(publishes.some((span) => span.attributes['messaging.destination.name'] === 'revalidate' && descendsFromServer(span))).toBe(true);

    // Delivery on the other instance: in the same trace, under the publish and linked to it.
    const deliver = trace.find((span) => span.kind === SpanKinds.CONSUMER && span.attributes['messaging.message.id'] === received.id)!;
    expect(deliver).toMatchObject({ name: 'realtime deliver', parentSpanId: publish.spanId });
    expect(deliver.links).toEqual([expect.objectContaining({ traceId: CALLER_TRACE, spanId: publish.spanId })]);
    expect(deliver.attributes).toMatchObject({ 'messaging.destination.name': 'notes', 'sse.streams': 1 });
    expect(deliver.resource['service.instance.id']).toBe('traced-2');

    // What clients receive is unchanged: the envelope has no trace field.
    expect(Object.keys(received).sort()).toEqual(['channel', 'data', 'id', 'type']);

    // The request log line leads to the trace.
    const line = await waitForLine(publisher, (entry) => entry.msg === 'request' && entry.reqId === answer.headers['x-request-id'], 'the POST request');
    expect(line).toMatchObject({ route: '/api/v1/notes', status: 201, trace_id: CALLER_TRACE, span_id: server.spanId, trace_flags: '01' });
    expect(receiver.rejected).toEqual([]);
  });

  it('a request without traceparent starts its own trace; spans are named by route template, or by method alone when no route matched', async () => {
    const created = await httpRequest(publisher.port, '/api/v1/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'second' }),
    });
    const id = (JSON.parse(created.body) as { data: { id: number } }).data.id;
    const found = await httpRequest(publisher.port, `/api/v1/notes/${id}`);
    const missing = await httpRequest(publisher.port, '/no/such/path');
    expect([created.status, found.status, missing.status]).toEqual([201, 200, 404]);

    const serverSpanOf = (requestId: unknown) =>
      receiver.spans.find((span) => span.kind === SpanKinds.SERVER && span.attributes['http.request.id'] === requestId);
    await receiver.waitFor(() => [created, found, missing].every((answer) => serverSpanOf(answer.headers['x-request-id'])), 10_000, 'three server spans');
    const [post, get, unmatched] = [created, found, missing].map((answer) => serverSpanOf(answer.headers['x-request-id'])!);
    expect(post!.parentSpanId).toBeUndefined();
    expect(post!.traceId).not.toBe(CALLER_TRACE);
    expect(get).toMatchObject({
      name: 'GET /api/v1/notes/:id',
      attributes: expect.objectContaining({ 'http.route': '/api/v1/notes/:id', 'url.path': `/api/v1/notes/${id}` }),
    });
    expect(unmatched).toMatchObject({ name: 'GET', attributes: expect.objectContaining({ 'http.response.status_code': 404 }) });
    expect(unmatched!.attributes['http.route']).toBeUndefined();
    // Each request is a trace of its own.
    expect(new Set([post, get, unmatched].map((span) => span!.traceId)).size).toBe(3);
  });

  it('loads the OpenTelemetry SDK when tracing is on (the module list the off test relies on sees it)', async () => {
    await publisher.stop();
    const modules = readFileSync(path.join(scratch, 'traced-modules.txt'), 'utf8').split('\n');
    expect(modules.filter(isOpenTelemetry).some((module) => module.includes('@opentelemetry/sdk-node'))).toBe(true);
    expect(modules.some((module) => module.includes('/node_modules/ioredis/'))).toBe(true);
  });

  it('an error logged inside a request carries its trace ids (Redis gone: the POST fails with 500)', async () => {
    await redis.close();
    const answer = await httpRequest(subscriber.port, '/api/v1/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${CALLER_TRACE.replace(/^4/, '5')}-${CALLER_SPAN}-01` },
      body: JSON.stringify({ text: 'lost' }),
    });
    expect(answer.status).toBeGreaterThanOrEqual(500);
    const traceId = CALLER_TRACE.replace(/^4/, '5');
    const error = await waitForLine(subscriber, (entry) => entry.level === 'error' && entry.trace_id === traceId, 'an error in the failed request');
    await receiver.waitFor((spans) => spans.some((span) => span.traceId === traceId && span.kind === SpanKinds.SERVER), 10_000, 'the failed request');
    const server = receiver.spans.find((span) => span.traceId === traceId && span.kind === SpanKinds.SERVER)!;
    expect(server.statusCode).toBe(2);
    expect(server.attributes['error.type']).toBe(String(answer.status));
    // Logged inside the server span or one of its children.
    const spanIds = receiver.spans.filter((span) => span.traceId === traceId).map((span) => span.spanId);
    expect(spanIds).toContain(error.span_id);
  }, 30_000);
});

describe('tracing off', () => {
  let redis: StandaloneRedis;
  const scratch = mkdtempSync(path.join(tmpdir(), 'tracing-off-'));

  beforeAll(async () => {
    redis = await startStandalone();
  });

  afterAll(async () => {
    await redis?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('loads no OpenTelemetry SDK, exporter, instrumentation or module hook (no OTEL_EXPORTER_OTLP_ENDPOINT), and the request log line has no trace fields', async () => {
    const file = path.join(scratch, 'modules.txt');
    const app = await startApp('untraced', { REDIS_URL: redis.url, LOG_LEVEL: 'info', MODULE_LOG_FILE: file }, { imports: [MODULE_LOG] });
    try {
      const answer = await httpRequest(app.port, '/api/v1/notes', {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
        body: JSON.stringify({ text: 'untraced' }),
      });
      expect(answer.status).toBe(201);
      const line = await waitForLine(app, (entry) => entry.msg === 'request' && entry.reqId === answer.headers['x-request-id'], 'the POST request');
      expect(Object.keys(line)).toEqual(['level', 'time', 'instance', 'pid', 'reqId', 'method', 'path', 'route', 'status', 'durationMs', 'msg']);
    } finally {
      await app.stop();
    }
    const modules = readFileSync(file, 'utf8').split('\n');
    // The list is complete: the app's own modules and its dependencies, imported and required, are in it.
    expect(modules.some((module) => module.endsWith('/src/scaling/tracing/index.ts'))).toBe(true);
    expect(modules.some((module) => module.includes('/node_modules/ioredis/built/Redis.js\t'))).toBe(true);
    expect(modules.some((module) => module.includes('/node_modules/pino/'))).toBe(true);
    // No SDK, exporter, instrumentation or module hook. The one exception is the
    // no-op API, which prom-client requires for its exemplars whether tracing is on or not.
    const openTelemetry = modules.filter(isOpenTelemetry);
    expect(openTelemetry.filter((module) => !module.includes('/node_modules/@opentelemetry/api/'))).toEqual([]);
    const apiEntry = openTelemetry.find((module) => module.includes('/@opentelemetry/api/dist/index.cjs\t'));
    if (apiEntry !== undefined) expect(apiEntry.split('\t')[1]).toMatch(/\/node_modules\/prom-client\//);
  });

  // On a Node.js new enough for tracing, an older one is simulated by its reported version.
  const simulateOld = runsTracing(process.versions.node);
  it(`tracing on a Node.js older than the SDK supports stops at start and says why (${simulateOld ? 'simulated 20.19.0' : `Node.js ${process.versions.node}`})`, async () => {
    const preload = simulateOld
      ? ['--import', `data:text/javascript,Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '20.19.0' } })`]
      : [];
    const failed = await execFileAsync(process.execPath, [...preload, '--import', 'tsx', 'src/server.ts'], {
      cwd: projectRoot,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', METRICS_PORT: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
      timeout: 30_000,
    }).then(
      () => undefined,
      (error: { code?: number; stderr: string }) => error,
    );
    expect(failed, 'the app must not start').toBeDefined();
    expect(failed!.code).toBe(1);
    expect(failed!.stderr).toContain(`needs Node.js >= 22.15.0, and this is ${simulateOld ? '20.19.0' : process.versions.node}`);
    expect(failed!.stderr).toContain('unset OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(failed!.stderr.split('\n').filter(isOpenTelemetry)).toEqual([]);
  });
});
