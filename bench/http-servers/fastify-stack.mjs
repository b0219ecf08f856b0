// Fastify 5 with the equivalent of the template's default stack, as a fastify
// user would assemble it: @fastify/compress (threshold 1 KB), the request id
// from X-Request-Id echoed back, one pino line per request at info (through
// the same buffered destination, to /dev/null) and the same prom-client
// duration histogram observed in an onResponse hook; the same routes as
// fastify.mjs (fastify-routes.mjs). Prints {"port":N}.
import compress from '@fastify/compress';
import Fastify, { LogController } from 'fastify';
import { pino } from 'pino';
import { Histogram, Registry } from 'prom-client';
import { addBenchRoutes } from './fastify-routes.mjs';

const INSTANCE = 'bench-1';
let counter = 0;
const registry = new Registry();
registry.setDefaultLabels({ instance: INSTANCE });
const duration = new Histogram({
  name: 'http_request_duration_ms',
  help: 'HTTP request duration in milliseconds',
  labelNames: ['route', 'method', 'status'],
  buckets: [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
  registers: [registry],
});

const app = Fastify({
  loggerInstance: pino(
    { level: 'info', base: { instance: INSTANCE, pid: process.pid }, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ dest: '/dev/null', sync: false, minLength: 4096, periodicFlush: 250 }),
  ),
  // One line per request (below), not fastify's two.
  logController: new LogController({ disableRequestLogging: true }),
  requestIdHeader: 'x-request-id',
  genReqId: () => `${INSTANCE}-${(++counter).toString(36)}`,
});
await app.register(compress, { threshold: 1024 });

app.addHook('onRequest', async (req, reply) => {
  reply.header('x-request-id', req.id);
});
app.addHook('onResponse', async (req, reply) => {
  const route = req.routeOptions.url ?? 'unmatched';
  duration.observe({ route, method: req.method, status: String(reply.statusCode) }, reply.elapsedTime);
  req.log.info({ method: req.method, path: req.url.split('?')[0], route, status: reply.statusCode, durationMs: reply.elapsedTime }, 'request');
});

addBenchRoutes(app, INSTANCE);

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`);

// Exit normally on a signal so --cpu-prof can write its profile.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
