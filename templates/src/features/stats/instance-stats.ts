import { z } from 'zod';
import type { Metrics } from '../../scaling/metrics/index.js';

/** What one instance reports about itself to the demo page. */
export const InstanceStats = z
  .object({
    instanceId: z.string(),
    cache: z.object({
      hits: z.number().int().nonnegative(),
      misses: z.number().int().nonnegative(),
      hitPercentage: z.number().min(0).max(100).nullable().describe('null until the first lookup'),
    }),
    sse: z.object({ connections: z.number().int().nonnegative().describe('Event streams open on this instance') }),
  })
  .meta({ id: 'InstanceStats' });
export type InstanceStats = z.infer<typeof InstanceStats>;

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
