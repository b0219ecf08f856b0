/**
 * The generated nginx.conf at the edge, for real: nginx in front of a
 * stand-in app that records what reaches it and holds streams open. Checks
 * what a hostile or greedy client can do: forge access log fields or request
 * ids, claim another address, hold connections, flood a probe.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NginxProcess, startNginx } from './support/nginx-process.js';
import { renderProjectFiles } from './support/render-project-files.js';

/** A loopback /24 of its own: the stand-in app takes app1's port 3000 there. */
const SUBNET = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}`;
const APP_ADDRESS = `${SUBNET}.2`;
const PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'";

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

let source: string;
let app: Server;
let nginx: NginxProcess;
const seen: Seen[] = [];
const sockets: Socket[] = [];

/** The stand-in app: streams and `/api/v1/hold` stay open, `/` is a page with its own policy, the rest answers JSON. */
function startApp(): Promise<Server> {
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    if (req.url?.startsWith('/api/v1/sse/') || req.url === '/api/v1/hold') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
      return;
    }
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': PAGE_POLICY, 'x-content-type-options': 'nosniff' });
      res.end('<!doctype html><title>page</title>');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': String(req.headers['x-request-id']) });
    res.end('{"data":{},"error":null}');
  });
  return new Promise((resolve) => server.listen(3000, APP_ADDRESS, () => resolve(server)));
}

beforeAll(async () => {
  const dir = await renderProjectFiles({ redis: 'standalone', instances: 1 }, (target) => target === 'infra/nginx/nginx.conf');
  source = await readFile(path.join(dir, 'infra', 'nginx', 'nginx.conf'), 'utf8');
  app = await startApp();
  nginx = await startNginx(source, { app1: APP_ADDRESS });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await nginx?.stop();
  await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
  app?.closeAllConnections();
});

interface Answer {
  status: number;
  /** Header lines as sent, names lower-cased, repeated names kept. */
  headers: Array<[string, string]>;
  body: string;
}

/**
 * One request written byte for byte from `from` (a loopback address): node's
 * client refuses control characters in headers, a hostile client does not.
 * `hold` resolves at the response head and leaves the connection open.
 */
function request(target: number, from: string, requestPath: string, headers: Array<[string, string]> = [], hold = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: target, localAddress: from });
    sockets.push(socket);
    let text = '';
    const answer = (): Answer | undefined => {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      return {
        status: Number(statusLine.split(' ')[1]),
        headers: lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
        body: text.slice(end + 4),
      };
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const head = answer();
      if (hold && head) resolve(head);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const head = answer();
      if (head) resolve(head);
      else reject(new Error(`no answer to ${requestPath}: ${JSON.stringify(text)}`));
    });
    const lines = [`GET ${requestPath} HTTP/1.1`, 'Host: edge.test', ...(hold ? [] : ['Connection: close']), ...headers.map(([n, v]) => `${n}: ${v}`)];
    socket.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
  });
}

const header = (answer: Answer, name: string) => answer.headers.filter(([n]) => n === name).map(([, value]) => value);

describe('nginx.conf at the edge', () => {
  it('writes one JSON object per request: quotes, spaces and ESC bytes from the client cannot forge a field', async () => {
    const hostile: Array<[string, string]> = [
      ['X-Request-Id', 'evil" rid=forged status=200'],
      ['User-Agent', 'agent "quoted", with spaces", "status":500, and a \\ backslash'],
    ];
    const answer = await request(nginx.port, '127.0.0.31', '/api/v1/echo?q=%22x%22', hostile);
    const appSaw = seen.at(-1)!;
    // Control bytes (a terminal escape sequence) in the one header nginx replaces before the app sees it.
    const escOnly = await request(nginx.port, '127.0.0.31', '/api/v1/echo', [['X-Request-Id', 'esc\x1b]0;title\x07 id\x1b[2J']]);
    await expect.poll(() => nginx.accessLog().filter((line) => line.remote_addr === '127.0.0.31').length).toBe(2);
    const lines = nginx.accessLog();
    expect(lines.filter((line) => 'raw' in line)).toEqual([]);
    const [first, second] = lines.filter((line) => line.remote_addr === '127.0.0.31');
    expect(Object.keys(first!).sort()).toEqual(
      [
        'time',
        'remote_addr',
        'request',
        'status',
        'bytes_sent',
        'request_time',
        'upstream',
        'upstream_status',
        'upstream_time',
        'request_id',
        'client_request_id',
        'traceparent',
        'user_agent',
      ].sort(),
    );
    expect(first).toMatchObject({
      status: 200,
      request: 'GET /api/v1/echo?q=%22x%22 HTTP/1.1',
      client_request_id: hostile[0]![1],
      user_agent: hostile[1]![1],
      upstream: `${APP_ADDRESS}:3000`,
    });
    expect(second).toMatchObject({ client_request_id: 'esc\x1b]0;title\x07 id\x1b[2J' });
    // ...written escaped (\u001B), never as the raw byte a terminal would act on.
    expect(nginx.output()).not.toContain('\x1b');
    expect(nginx.output()).toContain('esc\\u001B]0;title\\u0007 id\\u001B[2J');
    // The id nginx made is the one the app got and answered with, and the one logged.
    expect(first!.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(appSaw.headers['x-request-id']).toBe(first!.request_id);
    expect(header(answer, 'x-request-id')).toEqual([first!.request_id]);
    expect(escOnly.status).toBe(200);
  });

  it("replaces a caller's X-Request-Id with its own, and sends the app the address it sees, not the caller's X-Forwarded-For", async () => {
    await request(nginx.port, '127.0.0.32', '/api/v1/echo', [
      ['X-Request-Id', 'chosen-by-the-caller'],
      ['X-Forwarded-For', '6.6.6.6, 10.0.0.1'],
      ['X-Real-IP', '6.6.6.6'],
    ]);
    const { headers } = seen.at(-1)!;
    expect(headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(headers['x-forwarded-for']).toBe('127.0.0.32');
    expect(headers['x-real-ip']).toBe('127.0.0.32');
  });

  it("passes a caller's W3C trace context on to the app unchanged and logs its traceparent", async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const tracestate = 'vendor=opaque';
    await request(nginx.port, '127.0.0.50', '/api/v1/echo', [
      ['traceparent', traceparent],
      ['tracestate', tracestate],
    ]);
    expect(seen.at(-1)!.headers).toMatchObject({ traceparent, tracestate });
    await request(nginx.port, '127.0.0.50', '/api/v1/echo');
    // None sent: none passed on (no empty header), and an empty field in the log.
    expect(seen.at(-1)!.headers.traceparent).toBeUndefined();
    expect(seen.at(-1)!.headers.tracestate).toBeUndefined();
    await expect.poll(() => nginx.accessLog().filter((line) => line.remote_addr === '127.0.0.50').length).toBe(2);
    expect(
      nginx
        .accessLog()
        .filter((line) => line.remote_addr === '127.0.0.50')
        .map((line) => line.traceparent),
    ).toEqual([traceparent, '']);
  });

  it('caps open streams per client address, and connections per address over the whole server', async () => {
    const stream = (from: string) => request(nginx.port, from, '/api/v1/sse/events?channels=notes', [], true);
    const streams = await Promise.all(Array.from({ length: 40 }, () => stream('127.0.0.33')));
    const statuses = streams.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(32);
    expect(statuses.filter((status) => status === 429)).toHaveLength(8);
    // Another address is not affected.
    expect((await stream('127.0.0.34')).status).toBe(200);

    // The whole server: 32 streams plus other held requests reach 128 per address, then 429.
    const held = await Promise.all([
      ...Array.from({ length: 32 }, () => stream('127.0.0.35')),
      ...Array.from({ length: 100 }, () => request(nginx.port, '127.0.0.35', '/api/v1/hold', [], true)),
    ]);
    expect(held.filter((answer) => answer.status === 200)).toHaveLength(128);
    expect(held.filter((answer) => answer.status === 429)).toHaveLength(4);
    expect((await request(nginx.port, '127.0.0.35', '/api/v1/echo')).status).toBe(429);
    expect((await request(nginx.port, '127.0.0.36', '/api/v1/echo')).status).toBe(200);
  });

  it('rate-limits /health/live per client address like the API', async () => {
    // 400 probes as fast as 8 connections go (below the connection cap): past the burst of 200, 429.
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 50; i++) statuses.push((await request(nginx.port, '127.0.0.37', '/health/live')).status);
      }),
    );
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(200);
    expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
    expect((await request(nginx.port, '127.0.0.38', '/health/live')).status).toBe(200);
  });

  it("adds the security headers to its own answers, and leaves the app's alone: each header once", async () => {
    for (const own of [await request(nginx.port, '127.0.0.39', '/metrics'), await request(nginx.port, '127.0.0.39', '/health')]) {
      expect(own.status).toBe(404);
      expect(header(own, 'x-content-type-options')).toEqual(['nosniff']);
      expect(header(own, 'referrer-policy')).toEqual(['no-referrer']);
      expect(header(own, 'content-security-policy')).toEqual(["frame-ancestors 'none'"]);
    }
    const page = await request(nginx.port, '127.0.0.39', '/');
    expect(page.status).toBe(200);
    expect(header(page, 'content-security-policy')).toEqual([PAGE_POLICY]);
    expect(header(page, 'x-content-type-options')).toEqual(['nosniff']);
  });

  it('documents a real_ip setup for a trusted balancer that, uncommented, takes the client address from it', async () => {
    const commented = /^(\s*)#\s+((?:set_real_ip_from|real_ip_header|real_ip_recursive)\s[^;]*;)/gm;
    expect([...source.matchAll(commented)].map((match) => match[2]!.split(/\s+/)[0])).toEqual(['set_real_ip_from', 'real_ip_header', 'real_ip_recursive']);
    // The balancer here is every loopback address.
    const trusting = source.replace(commented, '$1$2').replace('set_real_ip_from 10.0.0.0/8;', 'set_real_ip_from 127.0.0.0/8;');
    const behindBalancer = await startNginx(trusting, { app1: APP_ADDRESS });
    try {
      await request(behindBalancer.port, '127.0.0.40', '/api/v1/echo', [['X-Forwarded-For', '203.0.113.9']]);
      expect(seen.at(-1)!.headers['x-forwarded-for']).toBe('203.0.113.9');
      await expect.poll(() => behindBalancer.accessLog().at(-1)?.remote_addr).toBe('203.0.113.9');
      // Limits now apply per client behind the balancer, not to the balancer.
      const stream = (client: string) => request(behindBalancer.port, '127.0.0.41', '/api/v1/sse/events', [['X-Forwarded-For', client]], true);
      const one = await Promise.all(Array.from({ length: 33 }, () => stream('203.0.113.10')));
      expect(one.filter((answer) => answer.status === 429)).toHaveLength(1);
      expect((await stream('203.0.113.11')).status).toBe(200);
    } finally {
      await behindBalancer.stop();
    }
  });
});
