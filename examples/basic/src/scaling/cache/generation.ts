import { quietly, type RedisL2 } from './l2.js';

/**
 * The generation of one namespace, kept in Redis at `cache:<ns>:gen` and
 * cached here: data keys embed it, so bumping it empties the namespace at
 * once without deleting anything (old keys expire by their TTL).
 *
 * Generations are epoch milliseconds, never small counters: the generation
 * key has no TTL, so the project's `volatile-lru` never evicts it, but a
 * Redis run with an `allkeys-*` policy (or a key deleted by hand) may lose
 * it, and a counter starting over would bring back values written under an
 * old generation. A new generation is always above every earlier one.
 */
export class NamespaceGeneration {
  private value: number | undefined;
  private loading: Promise<number | undefined> | undefined;

  constructor(
    private readonly key: string,
    private readonly l2: RedisL2 | undefined,
    /** Called when this instance started a generation (first use, or the key was evicted): tell the others. */
    private readonly onCreated: (generation: number) => void,
  ) {}

  /** The generation in use, read from Redis once; undefined while Redis cannot answer. */
  current(): Promise<number | undefined> {
    if (this.value !== undefined) return Promise.resolve(this.value);
    if (!this.l2) return Promise.resolve((this.value = 0));
    this.loading ??= this.read().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  get known(): number | undefined {
    return this.value;
  }

  /** Another instance announced this generation. */
  adopt(generation: number): void {
    this.value = generation;
  }

  /** Read it again on next use (after missed messages). */
  forget(): void {
    this.value = undefined;
  }

  /** A new generation above the current one (namespace clear); undefined if Redis cannot answer. */
  async bump(): Promise<number | undefined> {
    if (!this.l2) return (this.value = (this.value ?? 0) + 1);
    const generation = await quietly(this.l2.bumpGeneration(this.key, Date.now()));
    if (generation !== undefined) this.value = generation;
    return generation;
  }

  /** Re-reads Redis; returns the generation if it differs from the one in use (a missed clear or an eviction). */
  async check(): Promise<number | undefined> {
    if (!this.l2 || this.value === undefined) return undefined;
    const before = this.value;
    const stored = await this.read();
    if (stored === undefined) return undefined;
    this.value = stored;
    return stored !== before ? stored : undefined;
  }

  private async read(): Promise<number | undefined> {
    const l2 = this.l2!;
    for (let attempt = 0; attempt < 2; attempt++) {
      const stored = await quietly(l2.get(this.key));
      if (stored === undefined) return undefined;
      if (stored !== null) {
        const parsed = Number(stored);
        if (Number.isSafeInteger(parsed)) return (this.value = parsed);
      }
      // Missing (first use, or evicted) or garbage: start a generation nobody used before.
      const fresh = Date.now();
      const created = await quietly(l2.setIfAbsent(this.key, String(fresh), stored !== null));
      if (created === undefined) return undefined;
      if (created) {
        this.value = fresh;
        this.onCreated(fresh);
        return fresh;
      }
      // Another instance created it first: read theirs.
    }
    return undefined;
  }
}
