import { createServer, type Server } from 'node:http';
import type { Config } from './config.js';
import { auth } from './features/auth/auth.procedure.js';
import { createAuthService } from './features/auth/auth.service.js';
import { channels } from './features/index.js';
import { REGISTERED_JOBS } from './features/jobs.js';
import { createNotesRepository } from './features/notes/notes.repository.js';
import type { Note } from './features/notes/notes.schema.js';
import { instanceStatsFrom } from './features/stats/instance-stats.js';
import { createCaches, type Caches } from './scaling/cache/index.js';
import { createRedisConnections, type RedisConnections } from './scaling/redis/connections.js';
import { readRedisMemory } from './scaling/redis/memory-usage.js';
import { createRealtimeTransport, type SseProcessor } from './scaling/realtime/index.js';
import { createRedisStore } from './scaling/store/redis-store.js';
import { createLogger } from './scaling/logger.js';
import { createCompressor } from './scaling/http/compression.js';
import { withCsrfProtection } from './scaling/http/csrf.js';
import { HeaderAddingResponse } from './scaling/http/header-adding-response.js';
import { createHealth, type Health } from './scaling/http/health.js';
import { withOperations, type OperationsListener } from './scaling/http/operations-listener.js';
import type { ShutdownResource } from './scaling/http/shutdown.js';
import { createMetrics, type Metrics } from './scaling/metrics/index.js';
import { createMemoryStore } from './scaling/store/memory-store.js';
import { createJobQueue, type RunningJobQueue } from './scaling/jobs/index.js';
import type { Tracing } from './scaling/tracing/index.js';
import { attachJobQueue, type StoreAdapter, type VoltLogger } from './volt/index.js';
import { type AppContext, type RealtimeContext, volt } from './volt.js';
import { AppRouter } from './volt.router.js';
import { loadPublicFiles, withPublicFiles } from './web/public-files.js';

export interface AppOverrides {
  logger?: VoltLogger;
  store?: StoreAdapter;
  /** Started by server.ts when tracing is on (`startTracing`): spans for requests and realtime events. */
  tracing?: Tracing | undefined;
}

export interface App {
  server: Server;
  /** Every Redis connection of this instance; undefined without Redis (in-memory mode). */
  connections: RedisConnections | undefined;
  caches: Caches;
  /** SSE endpoint and fan-out: Redis Streams with Redis, an in-memory log without. */
  realtime: SseProcessor<RealtimeContext>;
  router: ReturnType<typeof AppRouter.instance>;
  /** Background jobs: what `volt.jobs` schedules on, and this instance's workers. */
  jobs: RunningJobQueue;
  /** This instance's metrics registry (served by `/metrics`). */
  metrics: Metrics;
  /** Health checks: `app.health.addCheck('db:connection', ...)` to add one. */
  health: Health;
  /** Requests in flight, for graceful shutdown. */
  requests: Pick<OperationsListener, 'inFlight' | 'whenIdle'>;
  /** What shutdown closes once no request or job needs it, in this order: jobs, caches, Redis. */
  resources: ShutdownResource[];
  close(): Promise<void>;
}

/**
 * Composition root: builds this instance's services (store, logger,
 * repositories), binds the router to them and puts the node:http server in
 * front. Nothing here is a module-level singleton, so several apps can run in
 * one process (tests start many instances).
 */
export function createApp(config: Config, overrides: AppOverrides = {}): App {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, instanceId: config.instanceId });
  const metrics = createMetrics({ instanceId: config.instanceId });
  // Created once and passed to everything that talks to Redis; quit last on close.
  const connections = config.redis.mode === 'none' ? undefined : createRedisConnections(config.redis, { logger, metrics });
  const onStoreFull = () => metrics.storeFullErrorsTotal.inc();
  const store =
    overrides.store ??
    (connections
      ? createRedisStore(connections, { waitReplicas: config.store.waitReplicas, waitTimeoutMs: config.store.waitMs, logger, onFull: onStoreFull })
      : createMemoryStore());
  if (connections) metrics.setRedisMemorySource(() => readRedisMemory(connections.command));
  const caches = createCaches({
    instanceId: config.instanceId,
    redis: connections?.command,
    // Its own sharded channel on a cluster: an invalidation reaches the other
    // instances before the write returns, not tens of ms later over the cluster bus.
    pubsub: connections ? createRedisStore(connections, { shardedPubSub: true, subscriberName: 'cache-invalidation' }) : store,
    settings: config.cache,
    logger,
    metrics,
  });
  // L1 hits are counted in batches: flush them so a scrape sees every hit.
  metrics.onScrape(caches.flushMetrics);
  const realtime = createRealtimeTransport<RealtimeContext>({
    settings: config.realtime,
    redis: connections ?? null,
    channels,
    // Who opens a stream: a one-time ticket (EventSource), a bearer token, or
    // the session cookie; anonymous streams follow public channels only.
    use: [auth({ optional: true, ticket: true })],
    // A signed-in stream ends with `auth.expired` when its token does.
    expiresAt: (context) => context.user?.expiresAt,
    instanceId: config.instanceId,
    logger,
    metrics,
    onFull: onStoreFull,
    tracing: overrides.tracing?.realtime,
  });
  const notes = createNotesRepository(store, {
    listCache: caches.namespace<Note[]>('notes', config.cache.notes),
    // Left out of the list; GET /api/v1/notes/:id answers 500 STORED_VALUE_INVALID for it.
    onInvalid: (error) => logger.warn({ key: error.key, err: error.message }, 'stored note does not match its schema'),
  });
  const services: AppContext = {
    store,
    logger,
    instanceId: config.instanceId,
    auth: createAuthService(config.auth, connections?.command),
    notes,
    stats: instanceStatsFrom(metrics, config.instanceId),
  };

  const router = AppRouter.instance({
    store,
    logger,
    services,
    realtime,
    config: {
      basePATH: config.basePath,
      bodyLimitBytes: config.bodyLimitBytes,
      cookieSecret: config.cookieSecret,
      cookies: config.cookies,
      exposeErrors: config.exposeErrors,
      instanceId: config.instanceId,
    },
    docs: { playground: { enabled: config.apiDocs } },
    // Offered only bodies of at least the threshold, at send time.
    compress: createCompressor({ thresholdBytes: config.compressionThresholdBytes }),
  });

  // BullMQ on Redis (in-memory without): jobs get the same context as actions.
  const jobs = createJobQueue({
    registered: REGISTERED_JOBS,
    settings: config.jobs,
    redis: connections,
    services: { context: services, logger, realtime: router.realtime },
    instanceId: config.instanceId,
    logger,
    metrics,
  });
  const detachJobs = attachJobQueue(volt.jobs, jobs);

  const health = createHealth({
    serviceId: config.instanceId,
    version: config.version,
    redis: connections && { connections, timeoutMs: config.readinessRedisTimeoutMs },
  });
  // Health probes, request ids, metrics and request logs, in front of the kernel.
  // The demo page (public/) at `/`, then cross-site writes refused, then the API.
  const api = withCsrfProtection(router.listener, { trustedOrigins: config.csrfTrustedOrigins });
  const site = withPublicFiles(api, loadPublicFiles());
  const operations = withOperations(site, {
    instanceId: config.instanceId,
    health,
    metrics,
    logger,
    metricsToken: config.metricsToken,
    trustRequestId: config.trustRequestId,
    routeOf: router.matchedRoute,
    tracing: overrides.tracing?.requests,
  });

  // Life of a request, step 2: the layers above, outermost first. The
  // response class adds the ids in writeHead, keeping node on its fast path.
  const server = createServer(
    {
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      connectionsCheckingInterval: config.http.timeoutCheckMs,
      ServerResponse: HeaderAddingResponse,
    },
    operations.listener,
  );
  server.maxConnections = config.http.maxConnections;
  server.on('clientError', operations.clientError);

  const resources: ShutdownResource[] = [
    {
      name: 'jobs',
      async close() {
        // No request is left to schedule a job.
        detachJobs();
        await jobs.close();
      },
    },
    { name: 'caches', close: () => caches.close() },
    // Last: everything above may still have needed Redis.
    { name: 'redis', close: async () => connections?.quit() },
  ];

  return {
    server,
    connections,
    caches,
    realtime,
    router,
    jobs,
    metrics,
    health,
    requests: operations,
    resources,
    async close() {
      // Workers stop taking jobs at once; the running ones finish meanwhile.
      const workersStopped = jobs.stopWorkers();
      // First: open streams would keep the server from closing; clients reconnect elsewhere.
      await realtime.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await workersStopped;
      for (const resource of resources) await resource.close();
    },
  };
}
