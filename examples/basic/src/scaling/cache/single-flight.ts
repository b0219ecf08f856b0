/**
 * Concurrent callers asking for the same key share one promise: while a load
 * is in flight, nobody starts a second one in this process.
 */
export class SingleFlight {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing as Promise<T>;
    const shared = Promise.resolve()
      .then(work)
      .finally(() => {
        if (this.inFlight.get(key) === shared) this.inFlight.delete(key);
      });
    this.inFlight.set(key, shared);
    return shared;
  }

  has(key: string): boolean {
    return this.inFlight.has(key);
  }

  /** Resolves when every load running now has settled (for shutdown and tests). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
