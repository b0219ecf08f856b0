// The kernel with the default middleware stack, as src/app.ts composes it:
// send-time compression, request ids, the duration histogram and one request
// log line at info (written to /dev/null through the production buffered
// destination), health routes in front, cross-site writes refused. Compiled template from VOLT_DIST.
// Variants: STACK_COMPRESSION=0, STACK_LOGS=0, STACK_METRICS=0, STACK_LOG_DEST=noop
// (request lines built but handed to a destination that drops them);
// STACK_EAGER_COMPRESSION=1 puts the `compression` package in front of every
// request instead (the usual middleware placement), for comparison.
// STACK_SEED_NOTES=N creates N notes of varied text (GET /api/v1/notes lists
// the newest 50: ~20 KB of JSON). STACK_REALTIME=1 adds the in-memory realtime
// transport (POST /api/v1/notes then publishes its two events, as in the app).
// STACK_TRACING=1 starts tracing as server.ts does (Node.js >= 22.15; the
// OTEL_* variables come from the environment). Prints {"port":N}.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import compression from 'compression';

const dist = process.env.VOLT_DIST;
if (!dist) throw new Error('VOLT_DIST is not set');
const load = (file) => import(pathToFileURL(join(dist, file)).href);

const { AppRouter } = await load('volt.router.js');
const { createMemoryStore } = await load('scaling/store/memory-store.js');
const { createNotesRepository } = await load('features/notes/notes.repository.js');
const { createAuthService } = await load('features/auth/auth.service.js');
const { loadConfig } = await load('config.js');
const { attachJobQueue, silentLogger } = await load('volt/index.js');
const { volt } = await load('volt.js');
const { createCompressor } = await load('scaling/http/compression.js');
const { withCsrfProtection } = await load('scaling/http/csrf.js');
const { createHealth } = await load('scaling/http/health.js');
const { withOperations } = await load('scaling/http/operations-listener.js');
const { HeaderAddingResponse } = await load('scaling/http/header-adding-response.js');
const { createMetrics } = await load('scaling/metrics/index.js');
const { asyncDestination, createLogger } = await load('scaling/logger.js');
const { createRealtimeTransport } = await load('scaling/realtime/index.js');
const { channels } = await load('features/index.js');
const { startTracing } = await load('scaling/tracing/index.js');

const on = (name) => process.env[name] !== '0';
const instanceId = 'bench-1';
const tracing = process.env.STACK_TRACING === '1' ? await startTracing({ serviceName: 'bench', serviceVersion: 'bench', instanceId }) : undefined;
const realtime =
  process.env.STACK_REALTIME === '1'
    ? createRealtimeTransport({ settings: loadConfig({}).realtime, redis: null, channels, instanceId, tracing: tracing?.realtime })
    : undefined;
const store = createMemoryStore();
const notes = createNotesRepository(store);
// Tokens signed with AUTH_SECRET (the bench's) verify, as with the app's own settings.
const auth = createAuthService(loadConfig({ AUTH_SECRET: process.env.AUTH_SECRET }).auth, undefined);

// Varied words (seeded), so compression sees text rather than one repeated string.
const WORDS =
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no out up into do any time more some my than about could only other new them may its these two like then first see use way been find long down day did get come made part over also after back where most know take year good work well people through'.split(
    ' ',
  );
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const sentence = (length) => {
  let text = '';
  while (text.length < length) text += `${WORDS[Math.floor(rand() * WORDS.length)]} `;
  return text.slice(0, length);
};
for (let i = 0; i < Number(process.env.STACK_SEED_NOTES ?? 0); i++) await notes.create(sentence(330), instanceId, null);

const router = AppRouter.instance({
  store,
  logger: silentLogger,
  services: { store, logger: silentLogger, instanceId, auth, notes },
  config: { basePATH: '/api/v1', instanceId, exposeErrors: false },
  ...(realtime ? { realtime } : {}),
  ...(on('STACK_COMPRESSION') && process.env.STACK_EAGER_COMPRESSION !== '1' ? { compress: createCompressor({ thresholdBytes: 1024 }) } : {}),
});

let listener;
if (process.env.STACK_EAGER_COMPRESSION === '1') {
  const middleware = compression({ threshold: 1024 });
  listener = (req, res) => {
    res.setHeader('x-instance-id', instanceId);
    middleware(req, res, () => router.listener(req, res));
  };
} else {
  listener = withOperations(withCsrfProtection(router.listener, { trustedOrigins: [] }), {
    instanceId,
    health: createHealth({ serviceId: instanceId, version: 'bench' }),
    metrics: on('STACK_METRICS') ? createMetrics({ instanceId }) : undefined,
    logger: on('STACK_LOGS')
      ? createLogger({
          level: 'info',
          instanceId,
          destination: process.env.STACK_LOG_DEST === 'noop' ? { write() {} } : asyncDestination('/dev/null'),
          mixin: tracing?.logFields,
        })
      : undefined,
    routeOf: router.matchedRoute,
    tracing: tracing?.requests,
  }).listener;
}

// POST /api/v1/notes schedules a background job: this server measures the
// kernel (as the other servers do the route's work), so the job queue takes
// the job and does nothing (bench/jobs.ts measures jobs).
attachJobQueue(volt.jobs, { add: async () => '0' });

// The node:http limits src/app.ts sets (request timeouts, connection cap), from the build's config.
const { http } = (await load('config.js')).loadConfig({});
const server = createServer(
  {
    keepAliveTimeout: http.keepAliveTimeoutMs,
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    connectionsCheckingInterval: http.timeoutCheckMs,
    ServerResponse: HeaderAddingResponse,
  },
  listener,
);
server.maxConnections = http.maxConnections;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));

// Exit normally on a signal so --cpu-prof can write its profile.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
