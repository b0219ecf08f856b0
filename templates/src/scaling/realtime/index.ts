/**
 * Realtime over SSE: the transport the kernel mounts at `GET {basePATH}/sse/events`.
 * With Redis (standalone or cluster) events go through Redis Streams and pub/sub,
 * so any instance serves any client; without Redis, an in-memory log gives one
 * process the same semantics (ids, replay, trimming).
 */
import type { Logger } from '../logger.js';
import type { RedisConnections } from '../redis/connections.js';
import type { RealtimeTracing } from '../tracing/index.js';
import type { ChannelRule } from './channel-rules.js';
import { MemoryChannelLog } from './memory-channel-log.js';
import { RedisChannelLog } from './redis-channel-log.js';
import { SseProcessor, type SseMetrics, type SseProcessorOptions, type SseSettings } from './sse-processor.js';

export { SseProcessor, type SseSettings } from './sse-processor.js';
export { MemoryChannelLog } from './memory-channel-log.js';
export { RedisChannelLog } from './redis-channel-log.js';
export { standardChannelRules, type ChannelRule } from './channel-rules.js';

/** `config.ts` holds the values (`SSE_*`). */
export interface RealtimeSettings extends SseSettings {
  /** Events kept per channel for resume. */
  streamMaxLength: number;
  /** On a cluster: replicas that must hold an event before publish resolves (0: don't wait). */
  publishWaitReplicas: number;
  publishWaitMs: number;
}

export interface CreateRealtimeOptions<Context> {
  settings: RealtimeSettings;
  /** The app's shared Redis connections; null for the in-memory log. */
  redis: RedisConnections | null;
  /** The features' channels (`features/<name>/<name>.channels.ts`). */
  channels: ChannelRule<Context>[];
  /** Who is asking: procedures run before a stream opens (see `SseProcessorOptions.use`). */
  use?: SseProcessorOptions<Context>['use'];
  /** When a stream's credentials run out (see `SseProcessorOptions.expiresAt`). */
  expiresAt?: SseProcessorOptions<Context>['expiresAt'];
  /** Named in each stream's `connected` event. */
  instanceId: string;
  metrics?: SseMetrics | undefined;
  logger?: Logger | undefined;
  /** Redis refused an event for lack of memory (publish then throws StoreFullError). */
  onFull?: () => void;
  /** Publish and delivery spans (tracing on). */
  tracing?: RealtimeTracing | undefined;
}

export function createRealtimeTransport<Context = unknown>(options: CreateRealtimeOptions<Context>): SseProcessor<Context> {
  const { settings, redis } = options;
  const log = redis
    ? new RedisChannelLog(redis, {
        maxLength: settings.streamMaxLength,
        waitReplicas: redis.mode === 'cluster' ? settings.publishWaitReplicas : 0,
        waitTimeoutMs: settings.publishWaitMs,
        logger: options.logger,
        ...(options.onFull ? { onFull: options.onFull } : {}),
      })
    : new MemoryChannelLog({ maxLength: settings.streamMaxLength });
  return new SseProcessor<Context>({
    ...settings,
    log,
    // The memory log never loses an announcement: nothing to sweep for.
    catchUpIntervalMs: redis ? settings.catchUpIntervalMs : 0,
    channels: options.channels,
    use: options.use,
    expiresAt: options.expiresAt,
    instanceId: options.instanceId,
    metrics: options.metrics,
    logger: options.logger,
    tracing: options.tracing,
  });
}
