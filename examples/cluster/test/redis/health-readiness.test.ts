import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealth } from '../../src/scaling/http/health.js';
import { withOperations } from '../../src/scaling/http/operations-listener.js';
import { createMetrics } from '../../src/scaling/metrics/index.js';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { startStandalone, type StandaloneRedis } from '../support/redis-servers.js';
import { httpRequest } from '../support/http-request.js';
import { serve, type Served } from '../support/serve.js';

const TOKEN = 'readiness-test-token';
/** The detailed report is for the token holder on the public port. */
const get = (port: number, path: string) => httpRequest(port, path, path === '/health' ? { headers: { authorization: `Bearer ${TOKEN}` } } : {});

describe('readiness follows a real Redis', () => {
  let redis: StandaloneRedis;
  let connections: RedisConnections;
  let served: Served;
  let port: number;
  const metrics = createMetrics({ instanceId: 'ready-test', defaultMetrics: false });
  const redisUp = async () => sampleValue(parsePrometheusText(await metrics.registry.metrics()).samples, 'redis_connection_up', { connection: 'command' });

  beforeAll(async () => {
    redis = await startStandalone();
    connections = createRedisConnections({ mode: 'standalone', url: redis.url }, { maxRetriesPerRequest: 1, metrics });
    const health = createHealth({ serviceId: 'ready-test', version: '1', redis: { connections, timeoutMs: 300 } });
    const ops = withOperations((_req, res) => res.writeHead(404).end(), { instanceId: 'ready-test', health, metrics, metricsToken: TOKEN });
    served = await serve(ops.listener);
    port = served.port;
  });
  afterAll(async () => {
    await served?.close();
    await connections?.quit();
    await redis?.close();
  });

  it('is ready with Redis up, 503 while it is stopped, ready again once it returns', async () => {
    await expect.poll(() => get(port, '/health/ready').then((r) => r.status), { timeout: 5_000 }).toBe(200);
    expect(await redisUp()).toBe(1);

    await redis.node.stop();
    const down = await get(port, '/health/ready');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toEqual({ status: 'fail', output: 'redis unreachable' });
    const report = await get(port, '/health');
    expect(report.status).toBe(503);
    expect(JSON.parse(report.body).checks['redis:connection'][0]).toMatchObject({ componentId: 'redis', status: 'fail' });
    // Liveness does not depend on Redis: restarting the process would not help.
    expect((await get(port, '/health/live')).status).toBe(200);
    await expect.poll(redisUp, { timeout: 5_000 }).toBe(0);

    await redis.node.start();
    await expect.poll(() => get(port, '/health/ready').then((r) => r.status), { timeout: 15_000 }).toBe(200);
    expect(JSON.parse((await get(port, '/health')).body).checks['redis:connection'][0].status).toBe('pass');
    expect(await redisUp()).toBe(1);
  });

  it('is 503 within the timeout when Redis hangs (process paused), then recovers', async () => {
    const pid = redis.node.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = performance.now();
      const res = await get(port, '/health/ready');
      expect(res.status).toBe(503);
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await expect.poll(() => get(port, '/health/ready').then((r) => r.status), { timeout: 15_000 }).toBe(200);
  });
});
