import type { Metrics } from '../../scaling/metrics/index.js';

/** What one instance reports about itself to the demo page. */
export interface InstanceStats {
  instanceId: string;
  cache: { hits: number; misses: number; hitPercentage: number | null };
  sse: { connections: number };
}

export type InstanceStatsReader = () => Promise<InstanceStats>;

/** Reads this instance's figures from its metrics registry: one source for /metrics and the page. */
export function instanceStatsFrom(metrics: Metrics, instanceId: string): InstanceStatsReader {
  return async () => {
    const [{ hits, misses }, connections] = await Promise.all([metrics.cacheLookups(), metrics.sseActiveConnections.get()]);
    const lookups = hits + misses;
    return {
      instanceId,
      cache: { hits, misses, hitPercentage: lookups > 0 ? (hits / lookups) * 100 : null },
      sse: { connections: connections.values[0]?.value ?? 0 },
    };
  };
}
