/**
 * The one module that owns every Redis connection of an instance:
 * - one shared command connection (on standalone auto-pipelined: concurrent
 *   commands from all requests go out in one write, which is what "pooling"
 *   buys on Redis; on a cluster one socket per node, see below);
 * - dedicated subscriber connections, because a connection in subscribe mode
 *   cannot run commands (on a cluster, sharded subscribers open one connection
 *   per master for SSUBSCRIBE);
 * - a dedicated connection for job workers, whose commands wait through
 *   reconnects (BullMQ copies it for its blocking reads);
 * - retries with capped, jittered backoff; failover-tolerant cluster settings;
 *   connect timeout, TCP keepalive, a PING health check and an ordered quit.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import { connectionHint } from './connection-errors.js';
import { TlsConnector } from './tls-connector.js';
import type { RedisSettings } from './redis-settings.js';

export type RedisClient = Redis | Cluster;
export type ConnectedRedisSettings = Exclude<RedisSettings, { mode: 'none' }>;

/** The metrics this module feeds; structurally typed so any registry fits. */
export interface RedisConnectionMetrics {
  redisConnectionUp: { set(labels: { connection: string }, value: number): void };
  redisCommandErrorsTotal: { inc(labels: { connection: string }, value?: number): void };
  /** `db_connections_active`: called once with a function the registry reads at each scrape. */
  trackRedisConnections(counts: () => Iterable<{ role: ConnectionRole; state: ConnectionState; count: number }>): unknown;
}

export type ConnectionRole = 'command' | 'subscriber' | 'worker';
/** Every state is reported, 0 included, so a graph of them never loses a line. */
const CONNECTION_STATES = ['ready', 'connecting', 'reconnecting', 'closed'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export interface RedisConnectionOptions {
  metrics?: RedisConnectionMetrics | undefined;
  logger?: Logger | undefined;
  /** Fail a connection attempt after this long (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * Reconnect attempts a queued command waits through before it is rejected
   * (standalone). Bounded so that with Redis down, callers get an error quickly
   * and can fall back (L1 cache, 503 readiness) instead of hanging.
   */
  maxRetriesPerRequest?: number;
}

export interface SubscriberOptions {
  /** On a cluster: one subscriber per master, for SSUBSCRIBE/SPUBLISH. */
  sharded?: boolean;
}

export interface RedisConnections {
  readonly mode: ConnectedRedisSettings['mode'];
  /** Shared by every request: run commands here, never SUBSCRIBE. */
  readonly command: RedisClient;
  /** A new dedicated connection for pub/sub, named for metrics and logs. */
  subscriber(name: string, options?: SubscriberOptions): RedisClient;
  /**
   * A new dedicated connection for job workers (BullMQ), named for metrics
   * and logs. Its commands wait through reconnects (`maxRetriesPerRequest:
   * null`) instead of failing: BullMQ requires it, and copies this connection
   * (settings, user, password and all) for the blocking reads that wait for
   * jobs; those copies are its to close.
   */
  worker(name: string): RedisClient;
  /** True when Redis answers PING within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** The last connection error since the command connection was last ready, with a hint at its likely cause. */
  lastError(): string | undefined;
  /** Quit subscribers first, then the command connection; forced after the timeout. */
  quit(timeoutMs?: number): Promise<void>;
}

const FAILOVER_RETRY_DELAY_MS = 100;
const FAILOVER_BUDGET_MS = 15_000;

/**
 * Capped exponential backoff with full jitter: spreads the reconnects of many
 * instances after a Redis restart instead of having them all arrive at once.
 */
function backoffWithJitter(attempt: number, baseMs = 100, capMs = 2_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.max(baseMs / 2, Math.round(Math.random() * ceiling));
}

interface ClientRole {
  autoPipelining: boolean;
  sharded: boolean;
  /** Commands wait through reconnects instead of failing after a few. */
  waitThroughReconnects?: boolean;
}

function baseRedisOptions(settings: ConnectedRedisSettings, options: RedisConnectionOptions, role?: ClientRole): RedisOptions {
  return {
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
    // On a cluster these options reach every node connection, subscribers included.
    ...(settings.tls ? { tls: settings.tls, Connector: TlsConnector } : {}),
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    keepAlive: 10_000,
    maxRetriesPerRequest: role?.waitThroughReconnects ? null : (options.maxRetriesPerRequest ?? 3),
    // After a failover the old master answers READONLY until it is demoted:
    // reconnect and resend instead of failing the command.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
}

function clusterOptions(settings: Extract<RedisSettings, { mode: 'cluster' }>, options: RedisConnectionOptions, role: ClientRole): ClusterOptions {
  return {
    redisOptions: baseRedisOptions(settings, options, role),
    // Off on a cluster: ioredis retries a batched (auto-pipelined) write only
    // when every command in the batch failed the same way, so during a
    // failover a batch that mixes redirections with successes hands raw MOVED
    // errors to requests. Single commands follow MOVED and ride it out; they
    // still share one socket per node and are written without waiting.
    enableAutoPipelining: false,
    // A master failover takes a few seconds (node timeout + election: 3.5-4.5 s
    // with infra/redis's 2 s node timeout, up to ~8 s on a loaded machine).
    // Redirections spaced 100 ms apart let commands ride through up to
    // FAILOVER_BUDGET_MS instead of surfacing CLUSTERDOWN / MOVED errors; a
    // command waits at most that long, then fails.
    maxRedirections: Math.ceil(FAILOVER_BUDGET_MS / FAILOVER_RETRY_DELAY_MS),
    retryDelayOnFailover: FAILOVER_RETRY_DELAY_MS,
    retryDelayOnClusterDown: FAILOVER_RETRY_DELAY_MS,
    retryDelayOnTryAgain: FAILOVER_RETRY_DELAY_MS,
    clusterRetryStrategy: (attempt) => backoffWithJitter(attempt),
    // No clusterNodeRetryStrategy: reconnecting to a dead master races the
    // slot refresh and fails in-flight commands; MOVED-driven refresh does not.
    slotsRefreshTimeout: 2_000,
    shardedSubscribers: role.sharded,
    ...(settings.natMap ? { natMap: settings.natMap } : {}),
  };
}

function createClient(settings: ConnectedRedisSettings, options: RedisConnectionOptions, role: ClientRole): RedisClient {
  if (settings.mode === 'cluster') {
    return new Cluster(settings.nodes, clusterOptions(settings, options, role));
  }
  return new Redis(settings.url, {
    ...baseRedisOptions(settings, options, role),
    enableAutoPipelining: role.autoPipelining,
    retryStrategy: (attempt) => backoffWithJitter(attempt),
  });
}

/**
 * Connection state and errors become metrics and (rate-limited by ioredis'
 * backoff) log lines; `onError` sees each error explained (see connection-errors.ts).
 */
function instrument(
  client: RedisClient,
  name: string,
  settings: ConnectedRedisSettings,
  options: RedisConnectionOptions,
  onError?: (explained: string | undefined) => void,
): void {
  const labels = { connection: name };
  let everReady = false;
  options.metrics?.redisConnectionUp.set(labels, 0);
  // A series from the start, so an error rate reads 0 rather than nothing.
  options.metrics?.redisCommandErrorsTotal.inc(labels, 0);
  client.on('ready', () => {
    everReady = true;
    onError?.(undefined);
    options.metrics?.redisConnectionUp.set(labels, 1);
  });
  client.on('close', () => options.metrics?.redisConnectionUp.set(labels, 0));
  client.on('end', () => options.metrics?.redisConnectionUp.set(labels, 0));
  // Without a listener ioredis would print every error; with one, we count them.
  client.on('error', (error: Error) => {
    const hint = connectionHint(error, { tls: settings.tls !== undefined, everReady });
    onError?.(hint ? `${error.message} (${hint})` : error.message);
    options.metrics?.redisCommandErrorsTotal.inc(labels);
    options.logger?.warn({ connection: name, err: error, ...(hint ? { hint } : {}) }, 'redis connection error');
  });
}

export function createRedisConnections(settings: ConnectedRedisSettings, options: RedisConnectionOptions = {}): RedisConnections {
  const command = createClient(settings, options, { autoPipelining: true, sharded: false });
  let lastError: string | undefined;
  instrument(command, 'command', settings, options, (explained) => (lastError = explained));
  const subscribers: RedisClient[] = [];
  const workers: RedisClient[] = [];
  options.metrics?.trackRedisConnections(() => countByState(command, subscribers, workers));

  return {
    mode: settings.mode,
    command,
    subscriber(name, subscriberOptions = {}) {
      const client = createClient(settings, options, {
        autoPipelining: false,
        sharded: subscriberOptions.sharded ?? false,
      });
      instrument(client, `subscriber:${name}`, settings, options);
      subscribers.push(client);
      return client;
    },
    worker(name) {
      const client = createClient(settings, options, { autoPipelining: false, sharded: false, waitThroughReconnects: true });
      instrument(client, `worker:${name}`, settings, options);
      workers.push(client);
      return client;
    },
    async ping(timeoutMs = 1_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, false);
      });
      try {
        return await Promise.race([command.ping().then((reply) => reply === 'PONG'), timeout]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    lastError: () => lastError,
    async quit(timeoutMs = 2_000) {
      for (const client of [...subscribers, ...workers, command]) {
        await quitOne(client, timeoutMs);
      }
    },
  };
}

/**
 * Connections by role and state, from ioredis' own status. A cluster client
 * counts as one connection (it keeps a socket per node and is ready once it
 * knows the slots).
 */
function countByState(command: RedisClient, subscribers: readonly RedisClient[], workers: readonly RedisClient[]) {
  const rows: Array<{ role: ConnectionRole; state: ConnectionState; count: number }> = [];
  for (const [role, clients] of [
    ['command', [command]],
    ['subscriber', subscribers],
    ['worker', workers],
  ] as const) {
    for (const state of CONNECTION_STATES) {
      rows.push({ role, state, count: clients.filter((client) => stateOf(client.status) === state).length });
    }
  }
  return rows;
}

function stateOf(status: RedisClient['status']): ConnectionState {
  switch (status) {
    case 'ready':
      return 'ready';
    case 'reconnecting':
      return 'reconnecting';
    case 'disconnecting':
    case 'close':
    case 'end':
      return 'closed';
    default:
      // wait (not connected yet), connecting, connect (socket open, handshake running)
      return 'connecting';
  }
}

async function quitOne(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.disconnect();
      resolve();
    }, timeoutMs);
  });
  try {
    await Promise.race([client.quit().then(() => undefined), forced]);
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls `listener` each time `client` becomes ready again after losing its
 * connection: the moment to replay missed stream entries or to drop an L1
 * cache that may have missed invalidations. Returns an unsubscribe function.
 */
export function onReconnect(client: RedisClient, listener: () => void): () => void {
  // Failed attempts before the first successful connection missed nothing.
  let everReady = client.status === 'ready';
  let lost = false;
  const markLost = () => {
    if (everReady) lost = true;
  };
  const onReady = () => {
    everReady = true;
    if (!lost) return;
    lost = false;
    listener();
  };
  client.on('close', markLost);
  client.on('ready', onReady);
  return () => {
    client.off('close', markLost);
    client.off('ready', onReady);
  };
}
