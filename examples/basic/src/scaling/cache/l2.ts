import type { RedisClient } from '../redis/connections.js';

/** Thrown when Redis is known to be down or too slow: the cache treats it as a miss. */
export class L2UnavailableError extends Error {
  override readonly name = 'L2UnavailableError';
}

export interface L2Options {
  client: RedisClient;
  /** Longest a cache call waits on Redis before giving up (the request goes on without it). */
  timeoutMs: number;
  /** Called once per failed or timed-out call (metrics, logs). */
  onError?: (error: Error) => void;
  /**
   * After a timeout or connection error, reads fail at once for this long
   * (default 500 ms): during an outage only one request per window waits.
   */
  breakerMs?: number;
  now?: () => number;
}

// tonumber() of a missing or garbage value is nil: start from the floor then.
const BUMP_GENERATION = `local current = tonumber(redis.call('GET', KEYS[1]) or '') or 0
local generation = tonumber(ARGV[1])
if generation <= current then generation = current + 1 end
redis.call('SET', KEYS[1], string.format('%.0f', generation))
return generation`;

/** Connection states in which a command would only wait in the offline queue. */
const DOWN_STATES = new Set(['reconnecting', 'close', 'end']);

// Compare-and-delete: only the holder's token releases the lock (one key, one slot).
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * The Redis layer of the cache. Every call is bounded: it fails at once while
 * the connection is known to be down, and after `timeoutMs` otherwise, so a
 * sick Redis costs a request at most one short wait. Only single-key commands
 * are used, which keeps it valid on a cluster.
 */
export class RedisL2 {
  private openUntil = 0;
  private readonly now: () => number;

  constructor(private readonly options: L2Options) {
    this.now = options.now ?? Date.now;
  }

  get available(): boolean {
    return !DOWN_STATES.has(this.options.client.status) && this.now() >= this.openUntil;
  }

  get(key: string): Promise<string | null> {
    return this.run(() => this.options.client.get(key), { read: true });
  }

  async set(key: string, text: string, ttlMs: number): Promise<void> {
    await this.run(() => this.options.client.set(key, text, 'PX', Math.max(1, Math.round(ttlMs))));
  }

  async delete(key: string): Promise<void> {
    await this.run(() => this.options.client.del(key));
  }

  /** SET NX PX: true when this caller now holds the lock. */
  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.run(() => this.options.client.set(key, token, 'PX', ttlMs, 'NX'), { read: true })) === 'OK';
  }

  async lockHeld(key: string): Promise<boolean> {
    return (await this.run(() => this.options.client.exists(key), { read: true })) === 1;
  }

  /** SET NX (or a plain SET over a value that is not ours to parse, with `overwrite`): true when written. */
  async setIfAbsent(key: string, value: string, overwrite = false): Promise<boolean> {
    const reply = overwrite ? await this.run(() => this.options.client.set(key, value)) : await this.run(() => this.options.client.set(key, value, 'NX'));
    return reply === 'OK';
  }

  /** Sets the generation key to max(floor, current + 1), atomically; returns it. */
  async bumpGeneration(key: string, floor: number): Promise<number> {
    return Number(await this.run(() => this.options.client.eval(BUMP_GENERATION, 1, key, String(floor))));
  }

  async releaseLock(key: string, token: string): Promise<void> {
    await this.run(() => this.options.client.eval(RELEASE_LOCK, 1, key, token));
  }

  /**
   * Runs any Redis-backed call under the same fail-fast and timeout rules.
   * Only reads (`read: true`) are skipped while the breaker is open: a
   * skipped write or invalidation would leave stale copies on other instances.
   */
  run<T>(call: () => Promise<T>, options: { read?: boolean } = {}): Promise<T> {
    const down = DOWN_STATES.has(this.options.client.status);
    if (down || (options.read && this.now() < this.openUntil)) {
      const reason = this.now() < this.openUntil ? 'recently failed' : this.options.client.status;
      const error = new L2UnavailableError(`redis ${reason}`);
      this.options.onError?.(error);
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      // The command may still complete after the timeout; it is then ignored (and counted once).
      let done = false;
      let armedAt = performance.now();
      let rearmed = false;
      const expire = () => {
        // A timer that fires late means this process, not Redis, was stalled
        // (GC, CPU starvation); the command may not even have been written yet
        // (auto-pipelining writes on the next turn). Give it one more full
        // timeout of a responsive loop before blaming Redis.
        if (!rearmed && performance.now() - armedAt > this.options.timeoutMs * 1.5) {
          rearmed = true;
          armedAt = performance.now();
          timer = setTimeout(expire, this.options.timeoutMs);
          return;
        }
        // Timers run before I/O in an event-loop turn: the reply may be waiting
        // in the socket. setImmediate runs after this turn's I/O, so only a
        // reply that really is late times out.
        setImmediate(() => {
          if (done) return;
          done = true;
          reject(this.failed(new L2UnavailableError(`redis call timed out after ${this.options.timeoutMs} ms`)));
        });
      };
      let timer = setTimeout(expire, this.options.timeoutMs);
      let pending: Promise<T>;
      try {
        pending = call();
      } catch (error) {
        pending = Promise.reject(error as Error);
      }
      pending.then(
        (value) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve(value);
        },
        (error: Error) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          reject(this.failed(error));
        },
      );
    });
  }

  private failed(error: Error): Error {
    // A reply error (WRONGTYPE, a script error) says nothing about Redis' health.
    if (!isReplyError(error)) this.openUntil = Math.max(this.openUntil, this.now() + (this.options.breakerMs ?? 500));
    this.options.onError?.(error);
    return error;
  }
}

/** Awaits a cache-side Redis call; failures were counted by `RedisL2` and become `undefined`. */
export async function quietly<R>(call: Promise<R> | undefined): Promise<R | undefined> {
  if (call === undefined) return undefined;
  try {
    return await call;
  } catch {
    return undefined;
  }
}

/** Errors Redis answered with, except the ones that mean the cluster is failing over. */
function isReplyError(error: Error): boolean {
  return error.name === 'ReplyError' && !/^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN)/.test(error.message);
}
