import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { WindowedHitRatio } from './hit-ratio.js';
import { RequestDurationHistogram } from './request-duration.js';

export interface MetricsOptions {
  /** Added as the `instance` label of every series. */
  instanceId: string;
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** Window of `cache_hit_percentage`. Default 5 minutes. */
  hitRatioWindowMs?: number;
}

/** Milliseconds; an API answer on loopback is around 1 ms, a slow one seconds. */
const DURATION_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Jobs per queue and state, read at each scrape (a source answers even when Redis does not: with nothing). */
export type QueueDepthSource = () => Promise<Iterable<{ queue: string; state: string; count: number }>>;

/** Connections of one owner counted by role and state, read at each scrape. */
export type ConnectionCounts = () => Iterable<{ role: string; state: string; count: number }>;

/**
 * Every metric of the application on one registry per app, so several apps
 * (tests, workers) can live in one process without name clashes.
 *
 * Label values must come from small fixed sets (route patterns, not paths;
 * event types, not channel names): each distinct value is a new series.
 */
export function createMetrics(options: MetricsOptions) {
  const registry = new Registry();
  registry.setDefaultLabels({ instance: options.instanceId });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const httpRequestDuration = new RequestDurationHistogram({
    name: 'http_request_duration_ms',
    help: 'HTTP request duration in milliseconds, by route pattern, method and status code',
    buckets: DURATION_BUCKETS_MS,
    registers,
  });

  const sseActiveConnections = new Gauge({
    name: 'sse_active_connections',
    help: 'Server-Sent Events streams currently open on this instance',
    registers,
  });

  const sseEventsTotal = new Counter({
    name: 'sse_events_total',
    help: 'Server-Sent Events written to clients, by event type',
    labelNames: ['type'] as const,
    registers,
  });

  const sseSlowClientsTotal = new Counter({
    name: 'sse_slow_clients_total',
    help: 'Server-Sent Events streams closed for not keeping up (they resume by id): buffer = too many unsent bytes, stall = no byte taken for SSE_WRITE_STALL_MS',
    labelNames: ['reason'] as const,
    registers,
  });

  const sseRefusedTotal = new Counter({
    name: 'sse_refused_total',
    help: 'Server-Sent Events streams answered with an empty stream and a retry: capacity = SSE_MAX_CONNECTIONS reached, unavailable = channel log unreachable, shutdown = instance stopping',
    labelNames: ['reason'] as const,
    registers,
  });

  // Observed once per event per instance, not per client: the cost stays flat with fan-out.
  // In seconds, Prometheus' base unit (only the seed's names carry `_ms`).
  const sseDeliveryLag = new Histogram({
    name: 'sse_delivery_lag_seconds',
    help: "Seconds from an event entering its channel log (the time in its id) to its write to this instance's clients",
    buckets: DURATION_BUCKETS_MS.map((ms) => ms / 1000),
    registers,
  });

  /*
   * A cache lookup records exactly one outcome: a hit labelled with the layer
   * that answered, or a miss labelled with the last layer consulted (l2 when
   * Redis is configured, l1 otherwise).
   */
  // Code that counts in plain numbers on a hot path and adds them in batches
  // registers a flush here, run before the cache metrics are read.
  const scrapeHooks = new Set<() => void>();
  const cacheHitsTotal = new Counter({
    name: 'cache_hits_total',
    help: 'Cache lookups answered from the cache, by namespace and layer (l1 in-process, l2 Redis)',
    labelNames: ['namespace', 'layer'] as const,
    registers,
    collect() {
      for (const hook of scrapeHooks) hook();
    },
  });
  const cacheMissesTotal = new Counter({
    name: 'cache_misses_total',
    help: 'Cache lookups not answered by any layer, by namespace and the last layer consulted',
    labelNames: ['namespace', 'layer'] as const,
    registers,
  });

  const hitRatio = new WindowedHitRatio(options.hitRatioWindowMs ?? 5 * 60_000);
  const cacheHitPercentage = new Gauge({
    name: 'cache_hit_percentage',
    help: 'Percentage of cache lookups that were hits over the last few minutes (NaN when idle)',
    registers,
    async collect() {
      const [hits, misses] = await Promise.all([sumOf(cacheHitsTotal), sumOf(cacheMissesTotal)]);
      this.set(hitRatio.percentage(hits, misses));
    },
  });

  const cacheInvalidationsTotal = new Counter({
    name: 'cache_invalidations_total',
    help: 'Cache keys invalidated (local writes and messages from other instances)',
    registers,
  });

  const redisConnectionUp = new Gauge({
    name: 'redis_connection_up',
    help: '1 when the named Redis connection is ready, 0 otherwise',
    labelNames: ['connection'] as const,
    registers,
  });

  const redisCommandErrorsTotal = new Counter({
    name: 'redis_command_errors_total',
    help: 'Redis commands that failed, by connection',
    labelNames: ['connection'] as const,
    registers,
  });

  const connectionSources = new Set<ConnectionCounts>();
  const dbConnectionsActive = new Gauge({
    name: 'db_connections_active',
    help: 'Redis connections of this instance, by role (command, subscriber, worker) and state (ready, connecting, reconnecting, closed)',
    labelNames: ['role', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const source of connectionSources) {
        for (const { role, state, count } of source()) this.inc({ role, state }, count);
      }
    },
  });

  const storeFullErrorsTotal = new Counter({
    name: 'store_full_errors_total',
    help: 'Store writes and event appends Redis refused for lack of memory (answered 503 STORE_FULL)',
    registers,
  });

  // Read from Redis at each scrape, through the source the app sets; both
  // gauges are collected together and share one read.
  type RedisMemory = Array<{ node: string; usedBytes: number; maxBytes: number }>;
  let redisMemorySource: (() => Promise<RedisMemory>) | undefined;
  let redisMemoryRead: Promise<RedisMemory> | undefined;
  const readRedisMemoryOnce = () =>
    (redisMemoryRead ??= (redisMemorySource?.() ?? Promise.resolve([])).finally(() => {
      redisMemoryRead = undefined;
    }));
  const redisMemoryGauge = (name: string, help: string, value: (usage: RedisMemory[number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['node'] as const,
      registers,
      async collect() {
        const usage = await readRedisMemoryOnce();
        // Nodes that did not answer (or are gone) drop out instead of repeating old values.
        this.reset();
        for (const node of usage) this.set({ node: node.node }, value(node));
      },
    });
  redisMemoryGauge(
    'redis_memory_used_bytes',
    'Memory each Redis server counts against maxmemory; at the limit it evicts cache entries, then refuses writes',
    (usage) => usage.usedBytes,
  );
  redisMemoryGauge('redis_memory_max_bytes', 'maxmemory of each Redis server (standalone, or each cluster master)', (usage) => usage.maxBytes);
  /*
   * Background jobs (src/scaling/jobs). Counters and durations are what this
   * instance ran; the queue depth is read from the queue itself, so every
   * instance on one Redis reports the same figure (aggregate with `max`).
   */
  const jobsCompletedTotal = new Counter({
    name: 'jobs_completed_total',
    help: 'Jobs this instance ran to completion, by queue (namespace) and task',
    labelNames: ['queue', 'task'] as const,
    registers,
  });
  const jobsFailedTotal = new Counter({
    name: 'jobs_failed_total',
    help: 'Jobs that failed for good on this instance (their last attempt failed), by queue and task',
    labelNames: ['queue', 'task'] as const,
    registers,
  });
  const jobsRetriesTotal = new Counter({
    name: 'jobs_retries_total',
    help: 'Failed attempts on this instance that will be retried, by queue and task',
    labelNames: ['queue', 'task'] as const,
    registers,
  });
  const jobsDuration = new Histogram({
    name: 'jobs_duration_seconds',
    help: 'Run time of each job attempt on this instance, by queue, task and outcome (completed, failed)',
    labelNames: ['queue', 'task', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  const queueDepthSources = new Set<QueueDepthSource>();
  const jobsQueueDepth = new Gauge({
    name: 'jobs_queue_depth',
    help: 'Jobs in each queue by state (waiting, delayed, active, failed), read from the queue at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      this.reset();
      const counts = await Promise.all([...queueDepthSources].map((source) => source()));
      for (const rows of counts) for (const { queue, state, count } of rows) this.set({ queue, state }, count);
    },
  });

  /** Reports a job queue's depth in `jobs_queue_depth` until the returned function is called. */
  function trackJobQueues(source: QueueDepthSource): () => void {
    queueDepthSources.add(source);
    return () => queueDepthSources.delete(source);
  }

  /** Record one finished HTTP request. `route` is the route pattern, never the raw path. */
  function observeRequest(method: string, route: string, status: number, durationMs: number): void {
    httpRequestDuration.observe(method, route, status, durationMs);
  }

  /** Runs `hook` at each scrape before the cache counters are read; returns the unsubscribe. */
  function onScrape(hook: () => void): () => void {
    scrapeHooks.add(hook);
    return () => scrapeHooks.delete(hook);
  }

  /** Reports `source`'s connections in `db_connections_active` until the returned function is called. */
  function trackRedisConnections(source: ConnectionCounts): () => void {
    connectionSources.add(source);
    return () => connectionSources.delete(source);
  }

  /** Cache lookups since start-up, batched counts included (the demo page's hit ratio). */
  async function cacheLookups(): Promise<{ hits: number; misses: number }> {
    for (const hook of scrapeHooks) hook();
    const [hits, misses] = await Promise.all([sumOf(cacheHitsTotal), sumOf(cacheMissesTotal)]);
    return { hits, misses };
  }

  /** Where `redis_memory_*` come from (the app's Redis connections). */
  function setRedisMemorySource(source: typeof redisMemorySource): void {
    redisMemorySource = source;
  }

  return {
    registry,
    onScrape,
    setRedisMemorySource,
    storeFullErrorsTotal,
    cacheLookups,
    httpRequestDuration,
    observeRequest,
    sseActiveConnections,
    sseEventsTotal,
    sseDeliveryLag,
    sseSlowClientsTotal,
    sseRefusedTotal,
    cacheHitsTotal,
    cacheMissesTotal,
    cacheHitPercentage,
    cacheInvalidationsTotal,
    redisConnectionUp,
    redisCommandErrorsTotal,
    dbConnectionsActive,
    trackRedisConnections,
    jobsCompletedTotal,
    jobsFailedTotal,
    jobsRetriesTotal,
    jobsDuration,
    jobsQueueDepth,
    trackJobQueues,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

async function sumOf(counter: Counter<string>): Promise<number> {
  const { values } = await counter.get();
  let total = 0;
  for (const v of values) total += v.value;
  return total;
}
