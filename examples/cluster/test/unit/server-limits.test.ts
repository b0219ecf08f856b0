/**
 * What one client may hold of an instance, straight to the app (no proxy in
 * front): a request that does not arrive in time gets 408 and its connection
 * closed, sockets and SSE streams are capped per instance.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/volt/index.js';
import { serve } from '../support/serve.js';
import { SseClient } from '../support/sse-client.js';

const apps: App[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(env: Record<string, string>): Promise<{ app: App; port: number }> {
  const app = createApp(loadConfig({ LOG_LEVEL: 'silent', METRICS_PORT: 'off', ...env }), { logger: silentLogger });
  apps.push(app);
  return { app, port: (await serve(app.server)).port };
}

interface Outcome {
  /** Everything the server sent before closing. */
  response: string;
  /** From the first byte written to the close. */
  ms: number;
}

/** Writes `bytes`, then nothing more; resolves when the server closes the connection. */
function holdOpen(port: number, bytes: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    sockets.push(socket);
    let response = '';
    let started = 0;
    socket.on('connect', () => {
      started = performance.now();
      socket.write(bytes);
    });
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ response, ms: performance.now() - started }));
  });
}

const HEADERS_TIMEOUT_MS = 600;
const REQUEST_TIMEOUT_MS = 1_200;
/** node looks for expired requests once a second (config.http.timeoutCheckMs), plus scheduling slack. */
const CHECK_MS = 1_000 + 300;

describe('node:http limits from config', () => {
  it('closes a client that sends its headers too slowly, with a 408, within HTTP_HEADERS_TIMEOUT_MS', async () => {
    const { port } = await start({ HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
    const { response, ms } = await holdOpen(port, 'GET /api/v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(response).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(response).toContain('Connection: close');
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toEqual({
      data: null,
      error: { code: 'REQUEST_TIMEOUT', message: 'The request did not arrive in time' },
    });
    expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(HEADERS_TIMEOUT_MS + CHECK_MS);
  });

  it('closes a client that sends its body too slowly, with a 408, within HTTP_REQUEST_TIMEOUT_MS', async () => {
    const { app, port } = await start({ HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
    const head = 'POST /api/v1/notes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';
    const { response, ms } = await holdOpen(port, `${head}{"text":"only the start`);
    expect(response).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(response).toContain('"code":"REQUEST_TIMEOUT"');
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS + CHECK_MS);
    // Nothing was stored from the partial body; a whole request still works.
    const created = await fetch(`http://127.0.0.1:${port}/api/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"whole"}',
    });
    expect(created.status).toBe(201);
    expect(((await (await fetch(`http://127.0.0.1:${port}/api/v1/notes`)).json()) as { data: Array<{ text: string }> }).data.map((n) => n.text)).toEqual([
      'whole',
    ]);
    expect(app.requests.inFlight).toBe(0);
  });

  it('refuses HTTP_HEADERS_TIMEOUT_MS above HTTP_REQUEST_TIMEOUT_MS, naming both', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS.*HTTP_REQUEST_TIMEOUT_MS/);
  });

  it('accepts at most HTTP_MAX_CONNECTIONS sockets; past it new ones are closed at once', async () => {
    const { port } = await start({ HTTP_MAX_CONNECTIONS: '3' });
    const held = await Promise.all(Array.from({ length: 3 }, () => SseClient.open({ port, path: '/api/v1/sse/events?channels=notes' })));
    for (const client of held) expect(client.status).toBe(200);
    const extra = await holdOpen(port, 'GET /api/v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(extra.response).toBe('');
    expect(extra.ms).toBeLessThan(1_000);
    held[0]!.close();
    await held[0]!.closed;
    await expect
      .poll(async () => (await holdOpen(port, 'GET /api/v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).response)
      .toMatch(/^HTTP\/1\.1 200 /);
    for (const client of held) client.close();
  });

  it('serves at most SSE_MAX_CONNECTIONS streams; past it an empty stream with a retry, and API requests still pass', async () => {
    const { port } = await start({ SSE_MAX_CONNECTIONS: '2', SSE_RETRY_MS: '1500' });
    const open = () => SseClient.open({ port, path: '/api/v1/sse/events?channels=notes' });
    const streams = [await open(), await open()];
    const refused = await open();
    expect(refused.status).toBe(200);
    await refused.finished;
    expect(refused.connected).toBeUndefined();
    expect(refused.retry).toBeGreaterThanOrEqual(1_500);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/ping`)).status).toBe(200);
    for (const stream of streams) stream.close();
  });
});
