import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import { coarseNow } from './coarse-clock.js';
import { L1Cache, type L1Entry, type L1Options } from './l1.js';
import { quietly, type RedisL2 } from './l2.js';
import { LoadLock, type LoadLockSettings } from './load-lock.js';
import type { Invalidation, InvalidationBus } from './invalidation-bus.js';
import { NamespaceGeneration } from './generation.js';
import { InvalidationWatch } from './invalidation-watch.js';
import { SingleFlight } from './single-flight.js';

export interface EntryOptions {
  /** Served as fresh for this long (ms), give or take the jitter. */
  ttlMs?: number;
  /** Then served stale for this long (ms) while one background refresh runs. */
  graceMs?: number;
}

export type CacheMetrics = Pick<Metrics, 'cacheHitsTotal' | 'cacheMissesTotal' | 'cacheInvalidationsTotal' | 'redisCommandErrorsTotal'>;

/** A namespace's timings; `config.ts` holds their values (`CACHE_*`). */
export interface CacheTimings extends LoadLockSettings {
  /** Default freshness and grace of an entry (override per call). */
  ttlMs: number;
  graceMs: number;
  /** Fraction (0.1 = ±10%) applied to each ttl so keys written together expire apart. */
  ttlJitter: number;
  /** How often the generation is read again from Redis (a missed clear, an evicted key). */
  generationCheckMs: number;
}

export interface DistributedCacheOptions extends CacheTimings {
  namespace: string;
  l1: L1Options;
  /** Redis layer; absent in memory mode (no Redis configured). */
  l2?: RedisL2 | undefined;
  /** Cross-instance invalidations; absent when this is the only instance. */
  bus?: InvalidationBus | undefined;
  metrics?: CacheMetrics | undefined;
  logger?: Logger | undefined;
  now?: () => number;
}

/** What Redis holds for a key: the value and its freshness, next to the PX expiry. */
interface Envelope {
  /** fresh until (epoch ms) */
  f: number;
  /** stale until (epoch ms) */
  s: number;
  v: unknown;
}

type Counter = { inc(value?: number): void };

/** L1 hits are counted in a plain number and added to the metric in batches, keeping the hit path cheap. */
const HIT_FLUSH_EVERY = 1024;
const CLOSE_WAIT_MS = 1_000;

/**
 * A two-layer cache for one namespace: L1 in this process (lru-cache), L2 in
 * Redis, kept coherent across instances by an invalidation bus.
 *
 * Keys in Redis: `cache:<ns>:gen` holds the namespace generation (read once,
 * then followed through the bus and checked now and then); values live at
 * `cache:<ns>:g<gen>:<key>`, so `clear()` only bumps the generation and old
 * values expire by their TTL. No shared hash tag: a namespace spreads over
 * every shard of a cluster.
 *
 * A set or delete evicts the key from the other instances' L1 through the
 * bus before it returns (sub-millisecond on loopback); a read racing it on
 * another instance is answered, but not kept in L1.
 *
 * The cache never fails a request: when Redis is down or slow, calls give up
 * after a short timeout, the error is counted, and reads fall back to L1 or to
 * the loader. Values are JSON snapshots: treat returned objects as read-only.
 */
export class DistributedCache<T = unknown> {
  readonly namespace: string;
  private readonly l1: L1Cache;
  // Each deduplicates concurrent work on one key within this instance:
  /** `get` on an L1 miss: one L2 read. */
  private readonly readsOnMiss = new SingleFlight();
  /** `getOrSet` on an L1 miss: one L2 read, then one load if L2 has nothing. */
  private readonly loadsOnMiss = new SingleFlight();
  /** A stale hit: one background refresh. */
  private readonly staleRefreshes = new SingleFlight();
  /** Across instances: one load per key (absent without Redis). */
  private readonly loadLock: LoadLock | undefined;
  private readonly now: () => number;
  private readonly hitL1: Counter | undefined;
  private pendingL1Hits = 0;
  private readonly hitL2: Counter | undefined;
  private readonly miss: Counter | undefined;
  private readonly watch = new InvalidationWatch();
  private readonly generation: NamespaceGeneration;
  private readonly generationTimer: NodeJS.Timeout | undefined;
  private leaveBus: (() => Promise<void>) | undefined;
  /** Resolves once this instance listens to invalidations (at once without a bus). */
  readonly ready: Promise<void>;
  private closed = false;

  constructor(private readonly options: DistributedCacheOptions) {
    if (!/^[A-Za-z0-9_.-]+$/.test(options.namespace)) {
      throw new Error(`cache namespace "${options.namespace}": use letters, digits, '_', '-' or '.'`);
    }
    validateDuration('ttlMs', options.ttlMs, false);
    validateDuration('graceMs', options.graceMs, true);
    if (!(options.ttlJitter >= 0 && options.ttlJitter < 1)) throw new RangeError('cache ttlJitter must be in [0, 1)');
    this.namespace = options.namespace;
    this.now = options.now ?? coarseNow;
    this.l1 = new L1Cache(options.l1, this.now);
    const metrics = options.metrics;
    // Children bound once; L1 hits are also batched (prom-client hashes labels on every inc).
    // Each starts at 0, so a namespace's hit ratio exists from its first lookup.
    const namespace = options.namespace;
    this.hitL1 = metrics?.cacheHitsTotal.labels({ namespace, layer: 'l1' });
    this.hitL2 = options.l2 ? metrics?.cacheHitsTotal.labels({ namespace, layer: 'l2' }) : undefined;
    this.miss = metrics?.cacheMissesTotal.labels({ namespace, layer: options.l2 ? 'l2' : 'l1' });
    for (const counter of [this.hitL1, this.hitL2, this.miss]) counter?.inc(0);
    this.generation = new NamespaceGeneration(`cache:${this.namespace}:gen`, options.l2, (generation) => {
      void this.announce({ kind: 'clear', generation });
    });
    if (options.l2) {
      this.generationTimer = setInterval(() => void this.checkGeneration(), options.generationCheckMs).unref();
      this.loadLock = new LoadLock(options.l2, options, () => this.closed);
    }
    this.ready = this.joinBus();
  }

  /** The cached value (fresh only), or undefined. */
  get(key: string): Promise<T | undefined> {
    const now = this.now();
    const entry = this.l1.get(key, now);
    if (entry !== undefined && now < entry.freshUntil) {
      this.countL1Hit();
      return (entry.resolved ??= Promise.resolve(entry.value)) as Promise<T>;
    }
    return this.readsOnMiss
      .run(key, () => this.readThrough(key))
      .then((found) => {
        if (found !== undefined && this.now() < found.freshUntil) return found.value as T;
        return undefined;
      });
  }

  /**
   * Synchronous L1-only read of a fresh value (counted as an L1 hit), for hot
   * paths that cannot afford a promise; undefined means "ask `get`/`getOrSet`".
   */
  peek(key: string): T | undefined {
    const now = this.now();
    const entry = this.l1.get(key, now);
    if (entry === undefined || now >= entry.freshUntil) return undefined;
    this.countL1Hit();
    return entry.value as T;
  }

  /**
   * The cached value (a stale one within its grace too, while one background
   * refresh runs), else the loader's value, cached. Concurrent callers share
   * one load per instance, and instances share one load through a short lock.
   */
  getOrSet(key: string, loader: () => T | Promise<T>, options?: EntryOptions): Promise<T> {
    const now = this.now();
    const entry = this.l1.get(key, now);
    if (entry !== undefined) {
      this.countL1Hit();
      const hit = (entry.resolved ??= Promise.resolve(entry.value)) as Promise<T>;
      if (now >= entry.freshUntil) this.refreshInBackground(key, loader, options);
      return hit;
    }
    return this.loadsOnMiss.run(key, async () => {
      const found = await this.readThrough(key);
      if (found !== undefined) {
        if (this.now() >= found.freshUntil) this.refreshInBackground(key, loader, options);
        return found.value as T;
      }
      return this.load(key, loader, options);
    });
  }

  async set(key: string, value: T, options?: EntryOptions): Promise<void> {
    if (value === undefined) throw new TypeError(`cache ${this.namespace}.set(${key}): value is undefined`);
    const text = JSON.stringify(value);
    const entry = this.entryFrom(text, options);
    this.invalidated(key);
    this.l1.set(key, entry);
    const generation = await this.currentGeneration();
    if (generation !== undefined) {
      await quietly(this.options.l2?.set(this.dataKey(generation, key), envelopeText(entry, text), this.pxOf(entry)));
    }
    await this.announce({ kind: 'key', key });
  }

  async delete(key: string): Promise<void> {
    this.invalidated(key);
    this.l1.delete(key);
    const generation = await this.currentGeneration();
    if (generation !== undefined) await quietly(this.options.l2?.delete(this.dataKey(generation, key)));
    await this.announce({ kind: 'key', key });
  }

  /** Drops every key of the namespace on every instance (new generation; old values expire by TTL). */
  async clear(): Promise<void> {
    this.invalidated();
    this.l1.clear();
    const generation = await this.generation.bump();
    if (generation === undefined) {
      // Redis is unreachable: other instances and L2 keep the old generation.
      this.options.logger?.warn({ namespace: this.namespace }, 'cache clear could not reach redis; only this instance was cleared');
      return;
    }
    await this.announce({ kind: 'clear', generation });
  }

  /** The Redis key holding `key`'s value now (for inspection and tests); undefined while Redis cannot answer. */
  async redisKey(key: string): Promise<string | undefined> {
    if (!this.options.l2) return undefined;
    const generation = await this.currentGeneration();
    return generation === undefined ? undefined : this.dataKey(generation, key);
  }

  /** Drops this instance's L1 only. */
  clearLocal(): void {
    this.invalidated();
    this.l1.clear();
  }

  /** Adds the L1 hits counted since the last flush to the metric (also done every 1,024 hits). */
  flushMetrics(): void {
    if (this.pendingL1Hits === 0) return;
    this.hitL1?.inc(this.pendingL1Hits);
    this.pendingL1Hits = 0;
  }

  private countL1Hit(): void {
    if (this.hitL1 !== undefined && ++this.pendingL1Hits >= HIT_FLUSH_EVERY) this.flushMetrics();
  }

  /** Entries and serialized bytes held in L1. */
  stats(): { l1Entries: number; l1Bytes: number } {
    return { l1Entries: this.l1.entries, l1Bytes: this.l1.bytes };
  }

  /** Waits for background refreshes and loads running now (shutdown, tests). */
  async settled(): Promise<void> {
    await Promise.all([this.readsOnMiss.settled(), this.loadsOnMiss.settled(), this.staleRefreshes.settled()]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.generationTimer);
    await this.ready;
    // Loads in flight get a moment to finish; a loader stuck on a dead source must not hold up shutdown.
    await Promise.race([this.settled(), sleep(CLOSE_WAIT_MS, undefined, { ref: false })]);
    await this.leaveBus?.().catch(() => undefined);
    this.flushMetrics();
    this.l1.clear();
  }

  // --- reading ---------------------------------------------------------------

  /** L2 lookup that fills L1; undefined on a miss or when Redis cannot answer. */
  private async readThrough(key: string): Promise<L1Entry | undefined> {
    const found = await this.readL2(key, true);
    if (found === undefined) this.miss?.inc();
    else this.hitL2?.inc();
    return found;
  }

  /** The L2 entry if any; with `fillL1`, also kept in L1 unless the key was invalidated meanwhile. */
  private async readL2(key: string, fillL1: boolean): Promise<L1Entry | undefined> {
    const l2 = this.options.l2;
    if (!l2) return undefined;
    const since = this.watch.start(key);
    try {
      const generation = await this.currentGeneration();
      if (generation === undefined) return undefined;
      const text = await quietly(l2.get(this.dataKey(generation, key)));
      if (text === undefined || text === null) return undefined;
      const envelope = parseEnvelope(text);
      if (!envelope || envelope.s <= this.now()) return undefined;
      const entry: L1Entry = { value: envelope.v, freshUntil: envelope.f, staleUntil: envelope.s, size: Buffer.byteLength(text) };
      if (fillL1 && !this.watch.changedSince(key, since)) this.l1.set(key, entry);
      return entry;
    } finally {
      this.watch.end(key);
    }
  }

  // --- loading ---------------------------------------------------------------

  private refreshInBackground(key: string, loader: () => T | Promise<T>, options: EntryOptions | undefined): void {
    if (this.closed || this.staleRefreshes.has(key)) return;
    this.staleRefreshes
      .run(key, async () => {
        // Another instance may have refreshed it already.
        const found = await this.readL2(key, false);
        if (found !== undefined && this.now() < found.freshUntil) {
          this.l1.set(key, found);
          return;
        }
        await this.load(key, loader, options);
      })
      .catch((error: Error) => {
        // The stale value stays in place until its grace ends.
        this.options.logger?.warn({ namespace: this.namespace, key, err: error }, 'cache background refresh failed');
      });
  }

  /**
   * Runs the loader and caches its value. With Redis, once across instances:
   * the holder of a short lock loads while the others wait for its value.
   */
  private async load(key: string, loader: () => T | Promise<T>, options: EntryOptions | undefined): Promise<T> {
    const since = this.watch.start(key);
    try {
      const generation = this.loadLock ? await this.currentGeneration() : undefined;
      const loadAndStore = async () => {
        const value = await loader();
        if (value !== undefined) await this.store(key, value, options, since, generation);
        return value;
      };
      if (this.loadLock === undefined || generation === undefined) return await loadAndStore();
      return await this.loadLock.run(this.lockKey(generation, key), () => this.freshFromL2(key), loadAndStore);
    } finally {
      this.watch.end(key);
    }
  }

  /** A fresh value another instance wrote to L2 (also kept in L1), or undefined. */
  private async freshFromL2(key: string): Promise<T | undefined> {
    const found = await this.readL2(key, false);
    if (found === undefined || this.now() >= found.freshUntil) return undefined;
    this.l1.set(key, found);
    return found.value as T;
  }

  /** Caches a loaded value unless an invalidation arrived while it loaded (it may be outdated). */
  private async store(key: string, value: T, options: EntryOptions | undefined, since: number, generation: number | undefined): Promise<void> {
    if (this.watch.changedSince(key, since)) return;
    const text = JSON.stringify(value);
    const entry = this.entryFrom(text, options);
    this.l1.set(key, entry);
    if (generation !== undefined && generation === this.generation.known) {
      await quietly(this.options.l2?.set(this.dataKey(generation, key), envelopeText(entry, text), this.pxOf(entry)));
    }
  }

  // --- invalidation ----------------------------------------------------------

  private async joinBus(): Promise<void> {
    const bus = this.options.bus;
    if (!bus) return;
    try {
      this.leaveBus = await bus.join(this.namespace, {
        onInvalidation: (invalidation) => this.receive(invalidation),
        onMissed: () => {
          // Invalidations sent while we were not listening are lost: start over.
          this.generation.forget();
          this.clearLocal();
          this.options.logger?.warn({ namespace: this.namespace }, 'cache invalidation bus reconnected; L1 cleared');
        },
      });
    } catch (error) {
      this.options.logger?.warn({ namespace: this.namespace, err: error }, 'cache could not join the invalidation bus');
    }
  }

  private receive(invalidation: Invalidation): void {
    if (invalidation.kind === 'key') {
      this.invalidated(invalidation.key);
      this.l1.delete(invalidation.key);
    } else {
      // A generation we already use (another instance created it as we read it): nothing to drop.
      if (this.generation.known === invalidation.generation) return;
      this.invalidated();
      this.generation.adopt(invalidation.generation);
      this.l1.clear();
    }
  }

  /** One key, or (no key) the whole namespace. */
  private invalidated(key?: string): void {
    if (key === undefined) this.watch.invalidateAll();
    else this.watch.invalidate(key);
    this.options.metrics?.cacheInvalidationsTotal.inc();
  }

  private async announce(invalidation: Invalidation): Promise<void> {
    const bus = this.options.bus;
    if (!bus) return;
    const l2 = this.options.l2;
    // Through L2's guard when Redis carries the bus: bounded wait, counted errors.
    const send = () => bus.announce(this.namespace, invalidation);
    await quietly(l2 ? l2.run(send) : send());
  }

  // --- keys, generations, entries -------------------------------------------

  private currentGeneration(): Promise<number | undefined> {
    return this.generation.current();
  }

  /** A clear this instance missed, or an evicted generation key: start over with Redis' generation. */
  private async checkGeneration(): Promise<void> {
    const changed = await this.generation.check();
    if (changed === undefined) return;
    this.invalidated();
    this.l1.clear();
    this.options.logger?.warn({ namespace: this.namespace, generation: changed }, 'cache generation changed unannounced; L1 cleared');
  }

  private dataKey(generation: number, key: string): string {
    return `cache:${this.namespace}:g${generation}:${key}`;
  }

  private lockKey(generation: number, key: string): string {
    return `cache:${this.namespace}:lock:g${generation}:${key}`;
  }

  private entryFrom(text: string, options: EntryOptions | undefined): L1Entry {
    const ttlMs = options?.ttlMs ?? this.options.ttlMs;
    const graceMs = options?.graceMs ?? this.options.graceMs;
    validateDuration('ttlMs', ttlMs, false);
    validateDuration('graceMs', graceMs, true);
    const jitter = 1 + (Math.random() * 2 - 1) * this.options.ttlJitter;
    const freshUntil = this.now() + Math.max(1, Math.round(ttlMs * jitter));
    // A parsed copy: later changes to the caller's object do not leak into the cache.
    return { value: JSON.parse(text), freshUntil, staleUntil: freshUntil + graceMs, size: Buffer.byteLength(text) };
  }

  private pxOf(entry: L1Entry): number {
    return entry.staleUntil - this.now();
  }
}

function envelopeText(entry: L1Entry, valueText: string): string {
  return `{"f":${entry.freshUntil},"s":${entry.staleUntil},"v":${valueText}}`;
}

function parseEnvelope(text: string): Envelope | undefined {
  try {
    const parsed = JSON.parse(text) as Envelope;
    return typeof parsed?.f === 'number' && typeof parsed.s === 'number' && 'v' in parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function validateDuration(name: string, value: number, zeroAllowed: boolean): void {
  if (!Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) {
    throw new RangeError(`cache ${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} number of milliseconds, got ${value}`);
  }
}
