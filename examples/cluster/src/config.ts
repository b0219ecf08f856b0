import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { readRedisSettings, type RedisSettings } from './scaling/redis/redis-settings.js';
import { VOLT_DEFAULTS } from './volt/index.js';

/**
 * Every setting comes from the environment (twelve-factor), parsed once at
 * start-up so a bad value fails fast with the variable's name in the message.
 * `.env.example` documents each one.
 */
/** `true` or `false`, spelled out: a typo must not silently mean false. */
const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  // What one client may hold of an instance (node:http); a slow client gets 408 when time is up.
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().positive().optional(),
  INSTANCE_ID: z.string().min(1).optional(),
  /** Keep an incoming X-Request-Id: only when every request comes through a proxy that sets it. */
  TRUST_REQUEST_ID: booleanFlag.default(false),
  // The kernel's own defaults (`/api/v1`, 1 MiB), so both say the same.
  BASE_PATH: z.string().default(VOLT_DEFAULTS.basePATH),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(VOLT_DEFAULTS.bodyLimitBytes),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Error messages and stacks in 500 responses: for `npm run dev` only, never on by NODE_ENV alone. */
  EXPOSE_ERRORS: booleanFlag.default(false),
  /** HMAC-SHA256 key of signed cookies; without it `cookies.setSigned/getSigned` fail. */
  COOKIE_SECRET: z.string().min(32, 'use at least 32 characters').optional(),
  COMPRESSION_THRESHOLD_BYTES: z.coerce.number().int().min(0).default(1024),
  METRICS_PORT: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65535)]).default(9091),
  // Loopback: a deployment opens the metrics port to its private network on purpose (compose, Kubernetes).
  METRICS_HOST: z.string().default('127.0.0.1'),
  METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  READINESS_REDIS_TIMEOUT_MS: z.coerce.number().int().positive().default(1000),
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  // Redis (src/scaling/redis/redis-settings.ts parses and checks these).
  REDIS_URL: z.string().optional(),
  REDIS_HOST: z.string().optional(),
  REDIS_PORT: z.string().optional(),
  REDIS_CLUSTER_NODES: z.string().optional(),
  REDIS_CLUSTER_HOSTS: z.string().optional(),
  REDIS_NAT_MAP: z.string().optional(),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_PASSWORD_FILE: z.string().optional(),
  REDIS_TLS: z.string().optional(),
  REDIS_TLS_CA_FILE: z.string().optional(),
  REDIS_TLS_CERT_FILE: z.string().optional(),
  REDIS_TLS_KEY_FILE: z.string().optional(),
  // Store (src/scaling/store).
  STORE_WAIT_REPLICAS: z.coerce.number().int().min(0).default(1),
  STORE_WAIT_MS: z.coerce.number().int().min(1).default(100),
  // Distributed cache (src/scaling/cache).
  CACHE_L1_MAX_ENTRIES: z.coerce.number().int().positive().default(10_000),
  CACHE_L1_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  CACHE_L2_TIMEOUT_MS: z.coerce.number().int().positive().default(250),
  CACHE_TTL_MS: z.coerce.number().int().positive().default(60_000),
  CACHE_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  CACHE_TTL_JITTER: z.coerce.number().min(0).max(0.5).default(0.1),
  CACHE_LOCK_TTL_MS: z.coerce.number().int().positive().default(5_000),
  CACHE_LOCK_WAIT_MS: z.coerce.number().int().min(0).default(1_000),
  CACHE_NOTES_TTL_MS: z.coerce.number().int().positive().default(2_000),
  CACHE_NOTES_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(1000).default(15_000),
  SSE_RETRY_MS: z.coerce.number().int().min(0).default(2_000),
  SSE_STREAM_MAXLEN: z.coerce.number().int().min(1).default(10_000),
  SSE_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(16 * 1024)
    .default(1024 * 1024),
  SSE_WRITE_STALL_MS: z.coerce.number().int().min(100).default(30_000),
  SSE_MAX_CONNECTIONS: z.coerce.number().int().positive().default(10_000),
  SSE_PUBLISH_WAIT_REPLICAS: z.coerce.number().int().min(0).default(1),
  SSE_PUBLISH_WAIT_MS: z.coerce.number().int().min(1).default(100),
});

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid environment:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new Error('Invalid environment:\n  HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  let redis: RedisSettings;
  try {
    redis = readRedisSettings(e);
  } catch (error) {
    throw new Error(`Invalid environment:\n  ${(error as Error).message}`);
  }
  return {
    env: e.NODE_ENV,
    /** Reported by `GET /health`: the project's package.json version. */
    version: packageVersion(),
    port: e.PORT,
    host: e.HOST,
    /** The node:http server's limits (app.ts). */
    http: {
      /** The whole request head must arrive within this, or 408. */
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      /** The whole request, body included, must arrive within this, or 408. */
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      /** How often node looks for requests past those times. */
      timeoutCheckMs: 1_000,
      /** Idle keep-alive connections close after this; nginx's upstream keepalive_timeout (4 s) stays below it. */
      keepAliveTimeoutMs: 5_000,
      /** Sockets per instance; past it node closes new ones at once. Room above the SSE cap for API requests. */
      maxConnections: e.HTTP_MAX_CONNECTIONS ?? e.SSE_MAX_CONNECTIONS + 1_000,
    },
    /** Sent as `X-Instance-Id` and as the `instance` label of every metric. */
    instanceId: e.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    trustRequestId: e.TRUST_REQUEST_ID,
    basePath: e.BASE_PATH,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    logLevel: e.LOG_LEVEL,
    exposeErrors: e.EXPOSE_ERRORS,
    cookieSecret: e.COOKIE_SECRET,
    compressionThresholdBytes: e.COMPRESSION_THRESHOLD_BYTES,
    /** `/metrics` and the detailed `/health` on their own port (null: off); `metricsToken` also serves them on PORT. */
    metricsPort: e.METRICS_PORT === 'off' ? null : e.METRICS_PORT,
    metricsHost: e.METRICS_HOST,
    metricsToken: e.METRICS_TOKEN,
    readinessRedisTimeoutMs: e.READINESS_REDIS_TIMEOUT_MS,
    /** Load balancers need a few probe intervals to see readiness fail; nothing to wait for in development. */
    shutdownDrainMs: e.SHUTDOWN_DRAIN_MS ?? (e.NODE_ENV === 'production' ? 5_000 : 0),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    /** Where Redis is; `mode: 'none'` runs every adapter in memory. */
    redis,
    store: {
      /** On a cluster: a write resolves once this many replicas hold it (0: don't wait). */
      waitReplicas: e.STORE_WAIT_REPLICAS,
      waitMs: e.STORE_WAIT_MS,
    },
    cache: {
      l1MaxEntries: e.CACHE_L1_MAX_ENTRIES,
      l1MaxBytes: e.CACHE_L1_MAX_BYTES,
      l2TimeoutMs: e.CACHE_L2_TIMEOUT_MS,
      ttlMs: e.CACHE_TTL_MS,
      graceMs: e.CACHE_GRACE_MS,
      ttlJitter: e.CACHE_TTL_JITTER,
      lockTtlMs: e.CACHE_LOCK_TTL_MS,
      lockWaitMs: e.CACHE_LOCK_WAIT_MS,
      lockPollMs: 20,
      /** A clear this instance missed, or an evicted generation key, is noticed within this time. */
      generationCheckMs: 30_000,
      notes: { ttlMs: e.CACHE_NOTES_TTL_MS, graceMs: e.CACHE_NOTES_GRACE_MS },
    },
    /** Server-Sent Events (src/scaling/realtime). */
    realtime: {
      heartbeatMs: e.SSE_HEARTBEAT_MS,
      retryMs: e.SSE_RETRY_MS,
      /** At shutdown: clients come back at once, to another instance. */
      closeRetryMs: 500,
      streamMaxLength: e.SSE_STREAM_MAXLEN,
      maxBufferedBytes: e.SSE_MAX_BUFFERED_BYTES,
      writeStallMs: e.SSE_WRITE_STALL_MS,
      /** At shutdown: an ending stream not flushed by then is cut (its client resumes elsewhere). */
      closeFlushMs: 1_000,
      maxConnections: e.SSE_MAX_CONNECTIONS,
      maxChannelsPerStream: 16,
      /** With Redis: a lost announcement with nothing published after it is found within this time. */
      catchUpIntervalMs: 5_000,
      /** On a cluster: publish resolves once this many replicas hold the event (0: don't wait). */
      publishWaitReplicas: e.SSE_PUBLISH_WAIT_REPLICAS,
      publishWaitMs: e.SSE_PUBLISH_WAIT_MS,
    },
  };
}

/** The project's package.json (one level above src/ and dist/). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
