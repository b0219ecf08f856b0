/**
 * The real entry point (`src/server.ts`) as a child process, stopped with
 * signals while it has work in flight: a request whose body is still arriving,
 * open SSE streams and an idle keep-alive connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SseClient } from '../support/sse-client.js';
import { startStandalone, type StandaloneRedis } from '../support/redis-servers.js';
import { httpRequest } from '../support/http-request.js';

const templatesDir = fileURLToPath(new URL('../..', import.meta.url));

interface Running {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  lines: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; at: number }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

async function startServer(redisUrl: string, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: templatesDir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      INSTANCE_ID: 'shutdown-app',
      LOG_LEVEL: 'info',
      REDIS_URL: redisUrl,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: performance.now() })));
  let buffered = '';
  const ports = new Promise<{ port: number; metricsPort: number }>((resolve, reject) => {
    let port = 0;
    let metricsPort = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        if (line.msg === 'listening') port = Number(new URL(String(line.url)).port);
        if (line.msg === 'metrics listening') metricsPort = Number(line.port);
        if (port && metricsPort) resolve({ port, metricsPort });
      }
    });
    void exited.then(({ code }) => reject(new Error(`server exited with ${code} before listening`)));
  });
  return { child, lines, exited, ...(await ports) };
}

const get = (port: number, path: string, agent: Agent | false = false) => httpRequest(port, path, { agent });

/**
 * POST /api/v1/notes whose body arrives in two parts: in flight until
 * `finish()`. Resolves once the server has the request (its `100 Continue`).
 */
async function slowPost(port: number): Promise<{ socket: Socket; finish(): void; response: Promise<string> }> {
  const body = JSON.stringify({ text: 'written during shutdown' });
  const socket = connect({ port, host: '127.0.0.1' });
  socket.write(
    `POST /api/v1/notes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  let received = '';
  let continued!: () => void;
  const accepted = new Promise<void>((resolve) => (continued = resolve));
  const response = new Promise<string>((resolve, reject) => {
    socket.on('data', (c: Buffer) => {
      received += c.toString();
      if (received.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) continued();
    });
    socket.on('close', () => resolve(received.replace('HTTP/1.1 100 Continue\r\n\r\n', '')));
    socket.on('error', reject);
  });
  await accepted;
  socket.write(body.slice(0, 10));
  return { socket, finish: () => socket.write(body.slice(10)), response };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('graceful shutdown of the real server process', () => {
  let redis: StandaloneRedis;
  beforeAll(async () => {
    redis = await startStandalone();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('on SIGTERM: readiness fails, in-flight work completes, streams get a short retry, idle sockets close, exit 0', async () => {
    const app = await startServer(redis.url, { SHUTDOWN_DRAIN_MS: '400', SHUTDOWN_TIMEOUT_MS: '8000' });
    await expect.poll(() => get(app.port, '/health/ready').then((r) => r.status), { timeout: 10_000 }).toBe(200);

    const keepAlive = new Agent({ keepAlive: true });
    expect((await get(app.port, '/api/v1/ping', keepAlive)).status).toBe(200);
    const idleSocket = Object.values(keepAlive.freeSockets).flat()[0]!;
    const idleClosed = new Promise<number>((resolve) => idleSocket.once('close', () => resolve(performance.now())));

    const streams = await Promise.all([1, 2].map(() => SseClient.open({ port: app.port, path: '/api/v1/sse/events?channels=notes' })));
    for (const stream of streams) expect(stream.status).toBe(200);
    await Promise.all(streams.map((s) => s.waitFor((c) => c.retry !== undefined, 5_000, 'initial retry')));
    const connectRetry = streams[0]!.retry;

    const post = await slowPost(app.port);
    const signalledAt = performance.now();
    app.child.kill('SIGTERM');

    // Drain delay: still accepting, but readiness fails so balancers move away.
    await sleep(100);
    const ready = await get(app.port, '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ status: 'fail', output: 'draining' });

    // Past the drain delay: streams end with a short retry, the slow request is still served.
    await Promise.all(streams.map((s) => s.waitFor((c) => c.ended, 5_000, 'stream end')));
    for (const stream of streams) expect(stream.retry).toBeLessThan(connectRetry!);
    expect(app.child.exitCode).toBeNull();
    await sleep(200);
    post.finish();
    const answer = await post.response;
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    expect(answer).toContain('written during shutdown');
    // It began before draining (so it was answered keep-alive); the server
    // still closed the connection right after, or `response` would not resolve.

    const { code, at } = await app.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeGreaterThanOrEqual(400);
    expect(at - signalledAt).toBeLessThan(5_000);
    expect(await idleClosed).toBeLessThan(at);
    const messages = app.lines.map((l) => l.msg);
    expect(messages).toContain('shutting down: readiness now fails');
    expect(messages).toContain('shutdown complete');
    expect(app.lines.some((l) => l.msg === 'request' && l.path === '/api/v1/notes' && l.status === 201)).toBe(true);
    keepAlive.destroy();
  });

  it('a second signal forces exit 1 at once', async () => {
    const app = await startServer(redis.url, { SHUTDOWN_DRAIN_MS: '10000', SHUTDOWN_TIMEOUT_MS: '20000' });
    app.child.kill('SIGTERM');
    await expect.poll(() => get(app.port, '/health/ready').then((r) => r.status), { timeout: 5_000 }).toBe(503);
    const secondAt = performance.now();
    app.child.kill('SIGINT');
    const { code, at } = await app.exited;
    expect(code).toBe(1);
    expect(at - secondAt).toBeLessThan(2_000);
  });

  it('exits 1 at the deadline when a request never completes', async () => {
    const app = await startServer(redis.url, { SHUTDOWN_DRAIN_MS: '0', SHUTDOWN_TIMEOUT_MS: '1000' });
    const post = await slowPost(app.port);
    const signalledAt = performance.now();
    app.child.kill('SIGTERM');
    const { code, at } = await app.exited;
    expect(code).toBe(1);
    expect(at - signalledAt).toBeGreaterThanOrEqual(950);
    expect(at - signalledAt).toBeLessThan(4_000);
    post.socket.destroy();
  });

  it('exits 0 promptly with only idle keep-alive connections open', async () => {
    const app = await startServer(redis.url, { SHUTDOWN_DRAIN_MS: '0', SHUTDOWN_TIMEOUT_MS: '10000' });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    await Promise.all([1, 2, 3, 4].map(() => get(app.port, '/api/v1/ping', agent)));
    expect(Object.values(agent.freeSockets).flat().length).toBeGreaterThanOrEqual(2);
    const signalledAt = performance.now();
    app.child.kill('SIGTERM');
    const { code, at } = await app.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(2_000);
    agent.destroy();
  });
});
