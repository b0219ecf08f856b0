import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createHealth } from '../../src/scaling/http/health.js';
import { withOperations } from '../../src/scaling/http/operations-listener.js';
import { createShutdown } from '../../src/scaling/http/shutdown.js';
import { httpRequest } from '../support/http-request.js';
import { serve } from '../support/serve.js';

function kernel(req: IncomingMessage, res: ServerResponse): void {
  const delay = req.url === '/slow' ? 400 : req.url === '/stuck' ? 60_000 : 0;
  setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`done ${req.url}`), delay).unref();
}

async function start() {
  const health = createHealth({ serviceId: 's', version: '1' });
  const ops = withOperations(kernel, { instanceId: 'shutdown-test', health });
  const { server, port } = await serve(ops.listener);
  const events: string[] = [];
  let resolveExit!: (code: number) => void;
  const exited = { promise: new Promise<number>((resolve) => (resolveExit = resolve)), resolve: (code: number) => resolveExit(code) };
  return { health, ops, server, port, events, exited };
}

const get = (port: number, path: string, agent?: Agent) => httpRequest(port, path, { agent: agent ?? false });

describe('graceful shutdown', () => {
  it('fails readiness, drains, finishes in-flight work, closes idle keep-alive sockets, then resources, and exits 0', async () => {
    const app = await start();
    const shutdown = createShutdown({
      server: app.server,
      health: app.health,
      requests: app.ops,
      drainMs: 150,
      timeoutMs: 5_000,
      realtime: { close: async () => void app.events.push('realtime closed') },
      resources: [{ name: 'redis', close: async () => void app.events.push('redis quit') }],
      exit: (code) => app.exited.resolve(code),
    });
    // An idle keep-alive socket from a previous request must not hold the shutdown.
    const keepAlive = new Agent({ keepAlive: true });
    expect((await get(app.port, '/fast', keepAlive)).status).toBe(200);
    const idleSocketClosed = new Promise<void>((resolve) => {
      const sockets = Object.values(keepAlive.freeSockets).flat();
      expect(sockets).toHaveLength(1);
      sockets[0]!.once('close', () => resolve());
    });

    const slow = get(app.port, '/slow');
    await expect.poll(() => app.ops.inFlight).toBe(1);
    const started = performance.now();
    void shutdown.shutdown('test');

    // During the drain delay, readiness fails but the listener still accepts.
    const ready = await get(app.port, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers.connection).toBe('close');

    expect(await slow).toMatchObject({ status: 200, body: 'done /slow' });
    await idleSocketClosed;
    expect(await app.exited.promise).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(app.events).toEqual(['realtime closed', 'redis quit']);
    expect(app.server.listening).toBe(false);
    await expect(get(app.port, '/fast')).rejects.toThrow(/ECONNREFUSED/);
    keepAlive.destroy();
  });

  it('stops the job workers as it starts, and waits for their running jobs before closing resources', async () => {
    const app = await start();
    let finishJob!: () => void;
    const jobs = {
      stopWorkers: () => {
        app.events.push('workers stopping');
        return new Promise<void>((resolve) => (finishJob = resolve)).then(() => void app.events.push('running jobs finished'));
      },
    };
    const shutdown = createShutdown({
      server: app.server,
      health: app.health,
      requests: app.ops,
      drainMs: 100,
      timeoutMs: 5_000,
      jobs,
      realtime: { close: async () => void app.events.push('realtime closed') },
      resources: [{ name: 'redis', close: async () => void app.events.push('redis quit') }],
      exit: (code) => app.exited.resolve(code),
    });
    void shutdown.shutdown('test');
    // At once, before the drain delay: no new job starts while load balancers catch up.
    expect(app.events).toEqual(['workers stopping']);
    await expect.poll(() => app.events).toContain('realtime closed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(app.events).toEqual(['workers stopping', 'realtime closed']);
    finishJob();
    expect(await app.exited.promise).toBe(0);
    expect(app.events).toEqual(['workers stopping', 'realtime closed', 'running jobs finished', 'redis quit']);
  });

  it('exits 1 when in-flight work outlives the deadline', async () => {
    const app = await start();
    const shutdown = createShutdown({
      server: app.server,
      health: app.health,
      requests: app.ops,
      drainMs: 0,
      timeoutMs: 300,
      exit: (code) => app.exited.resolve(code),
    });
    const stuck = get(app.port, '/stuck').catch((error: Error) => error);
    await expect.poll(() => app.ops.inFlight).toBe(1);
    const started = performance.now();
    void shutdown.shutdown('test');
    expect(await app.exited.promise).toBe(1);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
    app.server.closeAllConnections();
    expect(await stuck).toBeInstanceOf(Error);
  });
});
