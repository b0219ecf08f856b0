/**
 * `Date.now()` read at most once per millisecond. On some machines a clock
 * read costs as much as a whole LRU lookup (a system call on hosts without a
 * fast vDSO clock), and an L1 hit needs the time; a cached value, dropped by
 * a 1 ms timer, makes the hit path nearly free of it. The value can lag while
 * the event loop is busy: TTLs are honoured to within that lag.
 */
let cached = 0;

function forget(): void {
  cached = 0;
}

export function coarseNow(): number {
  if (cached === 0) {
    cached = Date.now();
    setTimeout(forget, 1).unref();
  }
  return cached;
}
