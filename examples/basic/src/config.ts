import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { JobSettings } from './scaling/jobs/index.js';
import { readRedisSettings, type RedisSettings } from './scaling/redis/redis-settings.js';
import { VOLT_DEFAULTS } from './volt/index.js';

/** An empty variable (`AUTH_SECRET=` in .env, or an unset `${VAR:-}` that compose passes) counts as unset. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
/** A comma-separated list; empty items are dropped. */
const commaList = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

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
  /** `Secure` on every cookie; default: on in production. */
  COOKIE_SECURE: z.enum(['true', 'false']).optional(),
  /** Origins besides the app's own allowed to send cookie-bearing or form writes (e.g. an identity provider's form_post). */
  CSRF_TRUSTED_ORIGINS: commaList.pipe(z.array(z.url().transform((url) => new URL(url).origin))).default([]),
  // Signed-in users (src/features/auth): tokens are HS256 with AUTH_SECRET, or
  // come from an identity provider whose keys are at AUTH_JWKS_URL.
  AUTH_SECRET: z.preprocess(unsetIfEmpty, z.string().min(32, 'use at least 32 characters, e.g. `openssl rand -hex 32`').optional()),
  AUTH_JWKS_URL: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/ }).optional()),
  AUTH_ISSUER: z.preprocess(unsetIfEmpty, z.string().optional()),
  AUTH_AUDIENCE: z.preprocess(unsetIfEmpty, z.string().optional()),
  AUTH_JWKS_ALGORITHMS: commaList
    .pipe(z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'])).min(1))
    .default(['RS256', 'PS256', 'ES256', 'EdDSA']),
  AUTH_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(5),
  AUTH_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
  AUTH_JWKS_CACHE_MAX_AGE_MS: z.coerce.number().int().positive().default(600_000),
  AUTH_VERIFIED_TOKENS: z.coerce.number().int().min(0).default(10_000),
  /** The OpenAPI document and the API reference (/docs): on unless NODE_ENV=production. */
  API_DOCS: booleanFlag.optional(),
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
  // Background jobs (src/scaling/jobs).
  JOBS_WORKERS: z.enum(['on', 'off']).default('on'),
  JOBS_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(5),
  JOBS_QUEUES: z
    .string()
    .regex(/^\s*(\*|[A-Za-z][\w-]*(\s*,\s*[A-Za-z][\w-]*)*)\s*$/, 'use * or a comma-separated list of job namespaces')
    .default('*'),
  JOBS_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  // OpenTelemetry traces (src/scaling/tracing): on when an OTLP endpoint is set.
  // The SDK reads every other OTEL_* variable itself (service name, sampler, headers, protocol).
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional()),
  OTEL_SDK_DISABLED: z.string().optional(),
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
  const secureCookies = e.COOKIE_SECURE === undefined ? e.NODE_ENV === 'production' : e.COOKIE_SECURE === 'true';
  const authProblem = checkAuthSources(e);
  if (authProblem) throw new Error(`Invalid environment:\n  ${authProblem}`);
  let redis: RedisSettings;
  try {
    redis = readRedisSettings(e);
  } catch (error) {
    throw new Error(`Invalid environment:\n  ${(error as Error).message}`);
  }
  return {
    env: e.NODE_ENV,
    /** Reported by `GET /health`: the project's package.json version. */
    version: projectPackage.version,
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
    /** Added to every Set-Cookie over the kernel's `HttpOnly; SameSite=Lax; Path=/`. */
    cookies: { secure: secureCookies },
    /** Cookie-bearing and form writes are refused from any other site (src/scaling/http/csrf.ts). */
    csrfTrustedOrigins: e.CSRF_TRUSTED_ORIGINS,
    /** Signed-in users (src/features/auth). */
    auth: {
      /** HS256 key: tokens minted by `npm run token` or the development sign-in. */
      secret: e.AUTH_SECRET,
      /** An identity provider's keys (fetched once, cached, refetched for an unknown `kid`). */
      jwksUrl: e.AUTH_JWKS_URL,
      jwksAlgorithms: e.AUTH_JWKS_ALGORITHMS,
      /** Checked on every token: `iss` and `aud` must match. */
      issuer: e.AUTH_ISSUER ?? LOCAL_ISSUER,
      audience: e.AUTH_AUDIENCE ?? LOCAL_AUDIENCE,
      /** Clocks of the token issuer and this server may differ this much (`exp`, `nbf`). */
      clockToleranceSeconds: e.AUTH_CLOCK_TOLERANCE_S,
      /** A token with an unknown `kid` refetches the key set at most this often (keys rotated at the provider). */
      jwksCooldownMs: e.AUTH_JWKS_COOLDOWN_MS,
      jwksCacheMaxAgeMs: e.AUTH_JWKS_CACHE_MAX_AGE_MS,
      jwksTimeoutMs: 5_000,
      /**
       * Tokens that verified, kept (0: none) so the next request with the same
       * token skips the signature check, until the token's `exp` and at most
       * `verifiedTokenMaxAgeMs`.
       */
      verifiedTokens: e.AUTH_VERIFIED_TOKENS,
      verifiedTokenMaxAgeMs: 60_000,
      /**
       * Holds the token for browsers (HttpOnly, SameSite=Lax, Secure per
       * COOKIE_SECURE). With Secure, the `__Host-` prefix makes browsers refuse
       * the cookie from a subdomain or another path; cookies ignore ports, so
       * the name is this app's own, not another local app's `session`.
       */
      cookieName: secureCookies ? '__Host-volt_session' : 'volt_session',
      /** A one-time SSE ticket opens a stream within this time (EventSource cannot send a header). */
      ticketTtlSeconds: 30,
      /**
       * `POST /api/v1/auth/dev-session` signs anyone in as any user: only
       * outside production, and only with a local AUTH_SECRET.
       */
      devSignIn: e.NODE_ENV !== 'production' && e.AUTH_SECRET !== undefined,
      /** Lifetime of tokens from the development sign-in and `npm run token` (seconds). */
      devTokenTtlSeconds: 3_600,
    },
    compressionThresholdBytes: e.COMPRESSION_THRESHOLD_BYTES,
    /** `{basePATH}/openapi.json` and the API reference at `/docs`: opt-in in production. */
    apiDocs: e.API_DOCS ?? e.NODE_ENV !== 'production',
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
    /** Background jobs (src/scaling/jobs): where they run and how many at once. */
    jobs: {
      workers: e.JOBS_WORKERS === 'on',
      concurrency: e.JOBS_CONCURRENCY,
      queues: e.JOBS_QUEUES.trim() === '*' ? ('*' as const) : e.JOBS_QUEUES.split(',').map((name) => name.trim()),
      lockMs: e.JOBS_LOCK_MS,
      keepCompleted: 1_000,
      keepCompletedMs: 24 * 60 * 60_000,
      keepFailed: 5_000,
      keepFailedMs: 7 * 24 * 60 * 60_000,
      countsTimeoutMs: 1_000,
    } satisfies JobSettings,
    /** OpenTelemetry traces, exported over OTLP (src/scaling/tracing). */
    tracing: {
      enabled: (e.OTEL_EXPORTER_OTLP_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) !== undefined && e.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true',
      /** `service.name` unless OTEL_SERVICE_NAME says otherwise: the package name. */
      serviceName: projectPackage.name,
    },
  };
}

/** `iss` and `aud` of local tokens (AUTH_SECRET) unless AUTH_ISSUER / AUTH_AUDIENCE say otherwise. */
const LOCAL_ISSUER = 'volt-app';
const LOCAL_AUDIENCE = 'volt-app-api';

/** One key source, and an identity provider's tokens checked against its own issuer and this API as audience. */
function checkAuthSources(e: z.infer<typeof EnvSchema>): string | undefined {
  if (e.AUTH_SECRET && e.AUTH_JWKS_URL) return 'AUTH_SECRET and AUTH_JWKS_URL: set one of them (local tokens, or an identity provider)';
  if (e.AUTH_JWKS_URL && (!e.AUTH_ISSUER || !e.AUTH_AUDIENCE)) {
    return "AUTH_JWKS_URL needs AUTH_ISSUER (the provider's `iss`) and AUTH_AUDIENCE (this API's identifier at the provider)";
  }
  return undefined;
}

/** Name and version from the project's package.json (one level above src/ and dist/). */
export const projectPackage = readProjectPackage();

function readProjectPackage(): { name: string; version: string } {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return { name: manifest.name ?? 'api', version: manifest.version ?? 'unknown' };
  } catch {
    return { name: 'api', version: 'unknown' };
  }
}
