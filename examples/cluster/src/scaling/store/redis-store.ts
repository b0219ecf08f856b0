import type { StoreAdapter, StoreMessageHandler } from '../../volt/store.js';
import { onReconnect, type RedisClient, type RedisConnections } from '../redis/connections.js';
import { ReplicaWait } from '../redis/replica-wait.js';
import { writeOrFull } from './store-full.js';

export interface RedisStoreOptions {
  /**
   * On a cluster, SPUBLISH/SSUBSCRIBE: a message goes only to the shard that
   * owns the channel's slot and reaches its subscribers before PUBLISH
   * returns, instead of crossing the cluster bus to every node (sub-ms instead
   * of tens of ms). Standalone ignores it. Default false.
   */
  shardedPubSub?: boolean;
  /** Names the subscriber connection in metrics and logs. Default `store`. */
  subscriberName?: string;
  /**
   * On a cluster: each write resolves once this many replicas hold it (WAIT),
   * so an acknowledged write survives a master failover. Default 0.
   */
  waitReplicas?: number;
  /** WAIT's timeout (default 100 ms): past it the write is acknowledged unconfirmed, and logged. */
  waitTimeoutMs?: number;
  logger?: { warn(object: object, message?: string): void } | undefined;
  /** Called when Redis refused a write for lack of memory (it then throws StoreFullError). */
  onFull?: () => void;
}

/**
 * StoreAdapter on Redis (standalone or Cluster), with the same observable
 * semantics as `MemoryStore`:
 * - values are JSON text; `set` without `ttl` clears an expiry (SET), `ttl` is
 *   in seconds (fractions allowed, sent as PX);
 * - `increment` is INCRBY (atomic across instances, keeps the expiry, fails on
 *   a value that is not an integer); `expire` with `ttl <= 0` deletes the key;
 * - pub/sub is classic PUBLISH/SUBSCRIBE (a cluster forwards it to every node),
 *   or sharded on a cluster when asked, on one dedicated subscriber connection
 *   opened on the first `subscribe`. Messages arrive in publish order, except
 *   classic pub/sub on a cluster: each PUBLISH may enter at another node and
 *   cross the cluster bus, so two messages can swap (sharded keeps order);
 *   each channel is SUBSCRIBEd once however many handlers listen to it.
 * - at `maxmemory`, with only data that must not be evicted left, Redis
 *   refuses writes whole: they throw `StoreFullError` (503 STORE_FULL);
 * - on a cluster, writes can wait for a replica's copy (`waitReplicas`).
 * Every command is single-key, so nothing here crosses hash slots.
 */
export class RedisStore implements StoreAdapter {
  private readonly command: RedisClient;
  private subscriberClient: RedisClient | undefined;
  private readonly channels = new Map<string, Set<StoreMessageHandler>>();
  /** SUBSCRIBE/UNSUBSCRIBE of one channel run one after the other. */
  private readonly channelQueue = new Map<string, Promise<void>>();
  private readonly reconnectListeners = new Set<() => void>();
  private readonly sharded: boolean;
  private readonly subscriberName: string;
  private readonly replicaWait: ReplicaWait;
  private readonly onFull: (() => void) | undefined;

  constructor(
    private readonly connections: Pick<RedisConnections, 'command' | 'subscriber' | 'mode'>,
    options: RedisStoreOptions = {},
  ) {
    this.command = connections.command;
    this.sharded = options.shardedPubSub === true && connections.mode === 'cluster';
    this.subscriberName = options.subscriberName ?? 'store';
    this.onFull = options.onFull;
    this.replicaWait = new ReplicaWait(this.command, {
      replicas: connections.mode === 'cluster' ? (options.waitReplicas ?? 0) : 0,
      timeoutMs: options.waitTimeoutMs ?? 100,
      logger: options.logger,
    });
  }

  async get<T = unknown>(key: string): Promise<T | null> {
    const text = await this.command.get(key);
    return text === null ? null : decode<T>(text);
  }

  async set(key: string, value: unknown, options?: { ttl?: number }): Promise<void> {
    if (value === undefined) throw new TypeError(`RedisStore.set(${key}): value is undefined`);
    const ttl = options?.ttl;
    if (ttl !== undefined && !(ttl > 0)) throw new RangeError(`RedisStore.set(${key}): ttl must be > 0 seconds`);
    const json = JSON.stringify(value);
    await this.write(key, () => (ttl ? this.command.set(key, json, 'PX', toMs(ttl)) : this.command.set(key, json)));
  }

  async delete(key: string): Promise<void> {
    await this.write(key, () => this.command.del(key));
  }

  async has(key: string): Promise<boolean> {
    return (await this.command.exists(key)) === 1;
  }

  async increment(key: string, by = 1): Promise<number> {
    if (!Number.isInteger(by)) throw new TypeError(`RedisStore.increment(${key}): step must be an integer`);
    try {
      return await this.write(key, () => this.command.incrby(key, by));
    } catch (error) {
      if (!(error as Error).message.includes('not an integer')) throw error;
    }
    // `set(key, '41')` stores the JSON text "41" (quoted), which INCRBY refuses;
    // the memory store counts on from it, so unquote it atomically and retry.
    const result = await this.write(key, () => this.command.eval(INCREMENT_QUOTED_INTEGER, 1, key, String(by)));
    if (result === null) throw new TypeError(`RedisStore.increment(${key}): value is not an integer`);
    return Number(result);
  }

  async expire(key: string, ttl: number): Promise<void> {
    // PEXPIRE with 0 deletes the key, as EXPIRE does with ttl <= 0.
    await this.write(key, () => this.command.pexpire(key, ttl > 0 ? toMs(ttl) : 0));
  }

  async publish(channel: string, message: unknown): Promise<void> {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (this.sharded) await this.command.spublish(channel, text);
    else await this.command.publish(channel, text);
  }

  async subscribe(channel: string, handler: StoreMessageHandler): Promise<void> {
    let handlers = this.channels.get(channel);
    const first = !handlers;
    if (!handlers) this.channels.set(channel, (handlers = new Set()));
    handlers.add(handler);
    if (first) {
      await this.queue(channel, async () => {
        if (this.sharded) await this.subscriber().ssubscribe(channel);
        else await this.subscriber().subscribe(channel);
      });
    } else await this.channelQueue.get(channel);
  }

  async unsubscribe(channel: string, handler?: StoreMessageHandler): Promise<void> {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    if (handler) handlers.delete(handler);
    if (handler && handlers.size > 0) return;
    this.channels.delete(channel);
    await this.queue(channel, async () => {
      // A subscribe that arrived meanwhile keeps the channel.
      if (this.channels.has(channel)) return;
      if (this.sharded) await this.subscriber().sunsubscribe(channel);
      else await this.subscriber().unsubscribe(channel);
    });
  }

  /**
   * Calls `listener` when the subscriber connection came back after a loss:
   * messages published meanwhile were missed (subscriptions themselves are
   * restored by ioredis). On a cluster, also when a node leaves the topology,
   * because the subscriber may have been moved to another node.
   */
  onResubscribe(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Subscriber connections are closed by `RedisConnections.quit()`; this only forgets handlers. */
  async close(): Promise<void> {
    this.channels.clear();
    this.reconnectListeners.clear();
  }

  /** One write to `key`: refused whole at maxmemory (StoreFullError), confirmed on replicas when asked. */
  private async write<T>(key: string, command: () => Promise<T>): Promise<T> {
    const result = await writeOrFull(command, this.onFull);
    await this.replicaWait.confirm(key);
    return result;
  }

  private subscriber(): RedisClient {
    if (this.subscriberClient) return this.subscriberClient;
    const client = this.connections.subscriber(this.subscriberName, { sharded: this.sharded });
    client.on(this.sharded ? 'smessage' : 'message', (channel: string, message: string) => this.deliver(channel, message));
    const notify = () => {
      for (const listener of [...this.reconnectListeners]) listener();
    };
    onReconnect(client, notify);
    if (this.connections.mode === 'cluster') {
      // A node left: the subscriber may be moving to another node. Topology
      // changes while the client first connects missed nothing: it had no
      // subscription yet.
      let established = client.status === 'ready';
      client.once('ready', () => {
        established = true;
      });
      let lost = false;
      client.on('-node', () => {
        if (!established) return;
        lost = true;
        notify();
      });
      // Sharded subscribers were re-created after that topology change (this
      // event also marks the first subscription, which missed nothing).
      if (this.sharded) {
        client.on('subscribersReady', () => {
          if (!lost) return;
          lost = false;
          notify();
        });
      }
    }
    this.subscriberClient = client;
    return client;
  }

  private deliver(channel: string, message: string): void {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    for (const handler of [...handlers]) {
      try {
        handler(message, channel);
      } catch {
        // One failing handler must not stop delivery to the others.
      }
    }
  }

  private queue(channel: string, step: () => Promise<void>): Promise<void> {
    const previous = this.channelQueue.get(channel) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(step);
    this.channelQueue.set(channel, next);
    const forget = () => {
      if (this.channelQueue.get(channel) === next) this.channelQueue.delete(channel);
    };
    next.then(forget, forget);
    return next;
  }
}

const INCREMENT_QUOTED_INTEGER = `
local value = redis.call('GET', KEYS[1])
if value and string.match(value, '^"%-?%d+"$') then
  redis.call('SET', KEYS[1], string.sub(value, 2, -2), 'KEEPTTL')
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return nil`;

function toMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

function decode<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    // Written by something other than this store: hand back the raw string.
    return text as T;
  }
}

export function createRedisStore(connections: Pick<RedisConnections, 'command' | 'subscriber' | 'mode'>, options?: RedisStoreOptions): RedisStore {
  return new RedisStore(connections, options);
}
