/**
 * Tells a read or a load in flight whether its key was invalidated since it
 * started: a value read from Redis or a loader before a write must not land
 * in the caches after that write's invalidation. Per key (a busy namespace
 * does not block unrelated loads), and only keys being watched are tracked.
 */
export class InvalidationWatch {
  private seq = 0;
  private clearedAt = 0;
  private readonly watchers = new Map<string, number>();
  private readonly invalidatedAt = new Map<string, number>();

  /** Call before reading; pass the result to `changedSince`, and call `end` when done. */
  start(key: string): number {
    this.watchers.set(key, (this.watchers.get(key) ?? 0) + 1);
    return this.seq;
  }

  end(key: string): void {
    const left = (this.watchers.get(key) ?? 1) - 1;
    if (left > 0) {
      this.watchers.set(key, left);
      return;
    }
    this.watchers.delete(key);
    this.invalidatedAt.delete(key);
  }

  invalidate(key: string): void {
    this.seq++;
    if (this.watchers.has(key)) this.invalidatedAt.set(key, this.seq);
  }

  invalidateAll(): void {
    this.seq++;
    this.clearedAt = this.seq;
  }

  changedSince(key: string, since: number): boolean {
    return this.clearedAt > since || (this.invalidatedAt.get(key) ?? 0) > since;
  }
}
