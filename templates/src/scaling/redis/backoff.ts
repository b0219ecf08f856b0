/**
 * Capped exponential backoff with full jitter: spreads the reconnects of many
 * instances after a Redis restart instead of having them all arrive at once.
 */
export function backoffWithJitter(attempt: number, baseMs = 100, capMs = 2_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.max(baseMs / 2, Math.round(Math.random() * ceiling));
}
