/**
 * The operations layer as `createApp` wires it (in-memory mode): send-time
 * compression on real responses, SSE left alone, health routes outside the
 * API base path, metrics fed by the kernel, the cache and the SSE processor.
 */
import { request, type IncomingMessage } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/volt/index.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { serve } from '../support/serve.js';
import { SseClient } from '../support/sse-client.js';

let app: App;
let port: number;
beforeAll(async () => {
  const config = loadConfig({ NODE_ENV: 'test', INSTANCE_ID: 'ops-app', BASE_PATH: '/v2', METRICS_TOKEN: 'token-token-token-token', TRUST_REQUEST_ID: 'true' });
  app = createApp({ ...config, version: '9.9.9' }, { logger: silentLogger });
  ({ port } = await serve(app.server));
});
afterAll(async () => {
  await app?.close();
});

function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; raw: Buffer }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, raw: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const postNote = (text: string) => call('POST', '/v2/notes', { 'content-type': 'application/json' }, JSON.stringify({ text }));
const scrape = async () => parsePrometheusText(await app.metrics.registry.metrics()).samples;

describe('operations in the composed app', () => {
  it('serves health outside the API base path, with instance id, version and request id', async () => {
    const health = await call('GET', '/health', { authorization: 'Bearer token-token-token-token' });
    expect(health.status).toBe(200);
    expect(health.headers['x-instance-id']).toBe('ops-app');
    expect(health.headers['x-request-id']).toBeTruthy();
    expect(JSON.parse(health.raw.toString())).toMatchObject({ status: 'pass', version: '9.9.9', serviceId: 'ops-app' });
    expect((await call('GET', '/health/ready')).status).toBe(200);
    const api = await call('GET', '/v2/ping', { 'x-request-id': 'from-nginx-1' });
    expect(api.status).toBe(200);
    expect(api.headers['x-instance-id']).toBe('ops-app');
    expect(api.headers['x-request-id']).toBe('from-nginx-1');
    expect((await call('GET', '/metrics')).status).toBe(401);
    expect((await call('GET', '/metrics', { authorization: 'Bearer token-token-token-token' })).status).toBe(200);
  });

  it('compresses a large JSON list with gzip or br and leaves a small answer alone', async () => {
    for (let i = 0; i < 30; i++) expect((await postNote(`note ${i} `.padEnd(300, 'abcdefghij klmnop qrstuv wxyz '))).status).toBe(201);
    const identity = await call('GET', '/v2/notes');
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.raw.length).toBeGreaterThan(1024);
    const gzip = await call('GET', '/v2/notes', { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers['x-instance-id']).toBe('ops-app');
    expect(gunzipSync(gzip.raw).equals(identity.raw)).toBe(true);
    const br = await call('GET', '/v2/notes', { 'accept-encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.raw).equals(identity.raw)).toBe(true);
    const small = await call('GET', '/v2/ping', { 'accept-encoding': 'gzip, br' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.raw.toString())).toEqual({ data: { pong: true }, error: null });
  });

  it('never compresses the SSE stream: each event arrives before the next is published', async () => {
    const stream = await SseClient.open({ port, path: '/v2/sse/events?channels=notes', headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['content-encoding']).toBeUndefined();
    expect(stream.headers['x-instance-id']).toBe('ops-app');
    expect(stream.headers['x-request-id']).toEqual(expect.any(String));
    await expect.poll(async () => sampleValue(await scrape(), 'sse_active_connections')).toBe(1);
    const before = sampleValue(await scrape(), 'sse_events_total', { type: 'note.created' }) ?? 0;
    for (let i = 1; i <= 3; i++) {
      expect((await postNote(`streamed ${i}`)).status).toBe(201);
      await stream.waitFor((c) => c.events.filter((e) => e.event === 'note.created').length === i, 5_000, `event ${i}`);
    }
    const texts = stream.events.filter((e) => e.event === 'note.created').map((e) => JSON.parse(e.data) as { text?: string; data?: { text: string } });
    expect(JSON.stringify(texts)).toContain('streamed 3');
    expect(sampleValue(await scrape(), 'sse_events_total', { type: 'note.created' })).toBe(before + 3);
    stream.close();
    await expect.poll(async () => sampleValue(await scrape(), 'sse_active_connections')).toBe(0);
  });

  it('labels request durations with route patterns from the kernel', async () => {
    await call('GET', '/v2/notes/1');
    await call('GET', '/v2/notes/2');
    await call('GET', '/v2/nope');
    const samples = await scrape();
    expect(sampleValue(samples, 'http_request_duration_ms_count', { route: '/v2/notes/:id', method: 'GET', status: '200' })).toBe(2);
    expect(sampleValue(samples, 'http_request_duration_ms_count', { route: 'unmatched', status: '404' })).toBe(1);
    expect(sampleValue(samples, 'http_request_duration_ms_count', { route: '/health', method: 'GET' })).toBeGreaterThanOrEqual(1);
    expect(samples.every((s) => s.labels.instance === 'ops-app')).toBe(true);
  });
});
