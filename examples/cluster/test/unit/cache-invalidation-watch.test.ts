import { describe, expect, it } from 'vitest';
import { InvalidationWatch } from '../../src/scaling/cache/invalidation-watch.js';

describe('InvalidationWatch', () => {
  it('reports an invalidation of the watched key only, and of everything after a clear', () => {
    const watch = new InvalidationWatch();
    const a = watch.start('a');
    const b = watch.start('b');
    watch.invalidate('a');
    watch.invalidate('unwatched');
    expect(watch.changedSince('a', a)).toBe(true);
    expect(watch.changedSince('b', b)).toBe(false);
    watch.invalidateAll();
    expect(watch.changedSince('b', b)).toBe(true);
    watch.end('a');
    watch.end('b');
  });

  it('does not count invalidations from before the read started, and forgets keys nobody watches', () => {
    const watch = new InvalidationWatch();
    watch.invalidate('a');
    const since = watch.start('a');
    expect(watch.changedSince('a', since)).toBe(false);
    const second = watch.start('a');
    watch.invalidate('a');
    watch.end('a');
    // Still watched by the second read: it sees the invalidation.
    expect(watch.changedSince('a', second)).toBe(true);
    watch.end('a');
    expect((watch as unknown as { invalidatedAt: Map<string, number> }).invalidatedAt.size).toBe(0);
  });
});
