import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { createHealth, type Health } from '../../src/scaling/http/health.js';
import { startMetricsServer } from '../../src/scaling/http/metrics-endpoint.js';
import { withOperations, type OperationsOptions } from '../../src/scaling/http/operations-listener.js';
import { createMetrics } from '../../src/scaling/metrics/index.js';
import { httpRequest, rawHttpRequest } from '../support/http-request.js';
import { serve, type Served } from '../support/serve.js';

function kernel(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"data":null,"error":{"code":"NOT_FOUND"}}');
}

const servers: Served[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((served) => served.close()));
});

const TOKEN = 'health-details-token-0123';

async function serveHealth(health: Health, options: Partial<OperationsOptions> = {}): Promise<number> {
  const operations = withOperations(kernel, { instanceId: 'health-test', health, metricsToken: TOKEN, ...options });
  const served = await serve(operations.listener);
  served.server.on('clientError', operations.clientError);
  servers.push(served);
  return served.port;
}

/** The full report, as the token holder gets it on the public port. */
const details = { authorization: `Bearer ${TOKEN}` };

const call = (port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}) => httpRequest(port, path, options);

describe('health routes', () => {
  it('answers liveness cheaply, with the instance id, outside any API base path', async () => {
    const port = await serveHealth(createHealth({ serviceId: 'health-test', version: '1.2.3' }));
    const live = await call(port, '/health/live');
    expect(live.status).toBe(200);
    expect(live.headers['content-type']).toBe('application/health+json');
    expect(live.headers['x-instance-id']).toBe('health-test');
    expect(JSON.parse(live.body)).toEqual({ status: 'pass' });
    const head = await call(port, '/health/live', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    // Anything else goes to the kernel, with the instance id too.
    const other = await call(port, '/health/nope');
    expect(other.status).toBe(404);
    expect(other.headers['x-instance-id']).toBe('health-test');
  });

  it('reports checks in the health+json draft format, including added ones', async () => {
    const health = createHealth({ serviceId: 'health-test', version: '1.2.3' });
    health.addCheck('database:connection', async () => ({
      componentId: 'db',
      componentType: 'datastore',
      status: 'warn',
      observedValue: 250,
      observedUnit: 'ms',
    }));
    expect(() => health.addCheck('database:connection', () => ({ status: 'pass' }))).toThrow(/already registered/);
    const port = await serveHealth(health);
    const res = await call(port, '/health', { headers: details });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/health+json');
    const report = JSON.parse(res.body);
    expect(report).toMatchObject({ status: 'warn', version: '1.2.3', serviceId: 'health-test' });
    expect(report.checks['database:connection']).toEqual([
      { componentId: 'db', componentType: 'datastore', status: 'warn', observedValue: 250, observedUnit: 'ms', time: expect.any(String) },
    ]);
    expect(Date.parse(report.checks['database:connection'][0].time)).not.toBeNaN();
    expect(report.checks['memory:utilization'][0]).toMatchObject({ status: 'pass', observedUnit: 'bytes' });
    expect(report.checks['memory:utilization'][0].observedValue).toBeGreaterThan(1_000_000);
    expect(report.checks.uptime[0]).toMatchObject({ status: 'pass', observedUnit: 's' });
    expect(report.checks['redis:connection']).toBeUndefined();
  });

  it('turns a throwing check into a failing report (503) instead of an error', async () => {
    const health = createHealth({ serviceId: 'health-test', version: '1' });
    health.addCheck('queue:connection', () => {
      throw new Error('queue down');
    });
    const port = await serveHealth(health);
    const res = await call(port, '/health', { headers: details });
    expect(res.status).toBe(503);
    const report = JSON.parse(res.body);
    expect(report.status).toBe('fail');
    expect(report.checks['queue:connection'][0]).toMatchObject({ status: 'fail', output: 'queue down' });
  });

  it('fails readiness while draining, and tells keep-alive clients to go', async () => {
    const health = createHealth({ serviceId: 'health-test', version: '1' });
    const port = await serveHealth(health);
    expect((await call(port, '/health/ready')).status).toBe(200);
    health.startDraining();
    const ready = await call(port, '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ status: 'fail', output: 'draining' });
    expect(ready.headers.connection).toBe('close');
    expect((await call(port, '/health/live')).status).toBe(200);
    expect(JSON.parse((await call(port, '/health', { headers: details })).body).checks['shutdown:draining'][0].status).toBe('fail');
  });

  it('gives the public port the status only; version, memory and timings go to the token holder and the metrics port', async () => {
    const health = createHealth({ serviceId: 'health-test', version: '1.2.3' });
    health.addCheck('queue:connection', () => ({ status: 'warn', observedValue: 12, observedUnit: 'ms', output: 'queue at 10.0.0.7 slow' }));
    const port = await serveHealth(health);
    const anonymous = await call(port, '/health');
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers['content-type']).toBe('application/health+json');
    expect(JSON.parse(anonymous.body)).toEqual({ status: 'warn' });
    for (const authorization of ['Bearer wrong-token-of-the-same-size', `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN}x`]) {
      expect(JSON.parse((await call(port, '/health', { headers: { authorization } })).body), authorization).toEqual({ status: 'warn' });
    }
    // The auth scheme is case-insensitive (RFC 9110): bearer, BEARER and Bearer all work.
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const report = JSON.parse((await call(port, '/health', { headers: { authorization: `${scheme} ${TOKEN}` } })).body);
      expect(report, scheme).toMatchObject({ status: 'warn', version: '1.2.3', serviceId: 'health-test' });
      expect(report.checks['memory:utilization'][0].observedValue, scheme).toBeGreaterThan(0);
    }
    // Without a token configured, nobody gets details on the public port.
    const noToken = await serveHealth(health, { metricsToken: undefined });
    expect(JSON.parse((await call(noToken, '/health', { headers: details })).body)).toEqual({ status: 'warn' });
    // A draining instance says so with its status code.
    health.startDraining();
    const draining = await call(port, '/health');
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body)).toEqual({ status: 'fail' });

    // The private metrics port has the full report for anyone who can reach it.
    const metricsServer = await startMetricsServer({
      registry: createMetrics({ instanceId: 'health-test', defaultMetrics: false }).registry,
      health,
      port: 0,
      host: '127.0.0.1',
    });
    try {
      const full = await call((metricsServer.address() as AddressInfo).port, '/health');
      expect(full.status).toBe(503);
      expect(full.headers['content-type']).toBe('application/health+json');
      const report = JSON.parse(full.body);
      expect(report).toMatchObject({ status: 'fail', version: '1.2.3', serviceId: 'health-test' });
      expect(report.checks['queue:connection'][0]).toMatchObject({ output: 'queue at 10.0.0.7 slow', observedValue: 12 });
    } finally {
      await new Promise((resolve) => metricsServer.close(resolve));
    }
  });
});

describe('request ids', () => {
  it("replaces a caller's X-Request-Id unless it is configured as trusted", async () => {
    const port = await serveHealth(createHealth({ serviceId: 'h', version: '1' }));
    for (const given of ['abc-123_XYZ.9', 'evil" rid=forged', 'with space']) {
      const res = await rawHttpRequest(port, '/health/live', [['X-Request-Id', given]]);
      expect(res.headers['x-request-id'], given).toMatch(/^health-test-[0-9a-f]{8}-[0-9a-z]+$/);
    }
  });

  it("refuses control characters in any header before a request exists (node's parser): a JSON 400, no id echoed", async () => {
    for (const trustRequestId of [false, true]) {
      const port = await serveHealth(createHealth({ serviceId: 'h', version: '1' }), { trustRequestId });
      const res = await rawHttpRequest(port, '/health/live', [['X-Request-Id', 'esc\x1b[31mred']]);
      expect(res.status).toBe(400);
      expect(res.headers['x-request-id']).toBeUndefined();
      expect(JSON.parse(res.body)).toMatchObject({ data: null, error: { code: 'BAD_REQUEST' } });
    }
  });

  it('when trusted (behind nginx), echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const port = await serveHealth(createHealth({ serviceId: 'h', version: '1' }), { trustRequestId: true });
    const kept = await call(port, '/health/live', { headers: { 'x-request-id': 'abc-123_XYZ.9' } });
    expect(kept.headers['x-request-id']).toBe('abc-123_XYZ.9');
    // Header names are case-insensitive on the wire.
    const mixedCase = await call(port, '/health/live', { headers: { 'X-Request-ID': 'Trace-From-Proxy' } });
    expect(mixedCase.headers['x-request-id']).toBe('Trace-From-Proxy');
    for (const bad of ['has space', 'x'.repeat(200), 'quote"', 'evil" rid=forged', 'tab\there', '']) {
      const res = await rawHttpRequest(port, '/health/live', [['X-Request-Id', bad]]);
      expect(res.headers['x-request-id']).not.toBe(bad);
      expect(res.headers['x-request-id']).toMatch(/^health-test-[0-9a-f]{8}-[0-9a-z]+$/);
    }
    const a = await call(port, '/health/live');
    const b = await call(port, '/health/live');
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });
});
