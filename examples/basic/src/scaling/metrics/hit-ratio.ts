/**
 * Hit percentage over a sliding window, from two ever-growing counts.
 *
 * A ratio since start-up barely moves after a few hours, so an alert on it
 * would never fire; Prometheus could compute the ratio from the counters with
 * `rate()`, but the gauge is what dashboards and the `CacheHitRateLow` rule
 * read. Each read keeps a snapshot and answers over the snapshots inside the
 * window. With no lookups in the window the answer is NaN: an idle instance
 * has no hit rate, and `NaN < 50` does not fire an alert.
 */
export class WindowedHitRatio {
  private readonly snapshots: Array<{ at: number; hits: number; misses: number }> = [];

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.snapshots.push({ at: this.now(), hits: 0, misses: 0 });
  }

  /** Percentage (0-100) of hits among lookups since the oldest snapshot in the window. */
  percentage(hits: number, misses: number): number {
    const at = this.now();
    this.snapshots.push({ at, hits, misses });
    // Keep one snapshot at or before the window start as the baseline.
    while (this.snapshots.length > 2 && this.snapshots[1]!.at <= at - this.windowMs) this.snapshots.shift();
    const base = this.snapshots[0]!;
    const dHits = hits - base.hits;
    const lookups = dHits + (misses - base.misses);
    return lookups > 0 ? (dHits / lookups) * 100 : Number.NaN;
  }
}
