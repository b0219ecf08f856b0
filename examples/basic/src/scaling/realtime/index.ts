/**
 * Realtime over SSE: the transport the kernel mounts at `GET {basePATH}/sse/events`.
 * With Redis (standalone or cluster) events go through Redis Streams and pub/sub,
 * so any instance serves any client; without Redis, an in-memory log gives one
 * process the same semantics (ids, replay, trimming).
 */
import type { RedisConnections } from '../redis/connections.js';
import { MemoryChannelLog } from './memory-channel-log.js';
import { RedisChannelLog } from './redis-channel-log.js';
import type { Logger } from '../logger.js';
import { SseProcessor, type SseMetrics } from './sse-processor.js';
import type { ChannelRule } from './channel-rules.js';

export { SseProcessor } from './sse-processor.js';
export { MemoryChannelLog } from './memory-channel-log.js';
export { RedisChannelLog } from './redis-channel-log.js';
export { defaultChannelRules, type ChannelRule } from './channel-rules.js';

export interface RealtimeSettings {
  /** `SSE_HEARTBEAT_MS` */
  heartbeatMs: number;
  /** `SSE_RETRY_MS` */
  retryMs: number;
  /** `SSE_STREAM_MAXLEN`: events kept per channel for resume. */
  streamMaxLength: number;
  /** `SSE_MAX_BUFFERED_BYTES`: a slower client is disconnected. */
  maxBufferedBytes: number;
  /** `SSE_PUBLISH_WAIT_REPLICAS`: replicas that must hold an event before publish resolves. */
  publishWaitReplicas: number;
  /** `SSE_PUBLISH_WAIT_MS` */
  publishWaitMs: number;
}

export interface CreateRealtimeOptions<Context> {
  settings: RealtimeSettings;
  /** The app's shared Redis connections; null for the in-memory log. */
  redis: RedisConnections | null;
  rules?: ChannelRule<Context>[];
  /** Named in each stream's `connected` event. */
  instanceId?: string;
  metrics?: SseMetrics | undefined;
  logger?: Logger | undefined;
}

export function createRealtimeTransport<Context = unknown>(options: CreateRealtimeOptions<Context>): SseProcessor<Context> {
  const { settings, redis } = options;
  const log = redis
    ? new RedisChannelLog(redis, {
        maxLength: settings.streamMaxLength,
        waitReplicas: redis.mode === 'cluster' ? settings.publishWaitReplicas : 0,
        waitTimeoutMs: settings.publishWaitMs,
        logger: options.logger,
      })
    : new MemoryChannelLog({ maxLength: settings.streamMaxLength });
  return new SseProcessor<Context>({
    log,
    heartbeatMs: settings.heartbeatMs,
    retryMs: settings.retryMs,
    maxBufferedBytes: settings.maxBufferedBytes,
    // Redis only: a lost announcement with nothing published after it is found within this time.
    catchUpIntervalMs: redis ? 5_000 : 0,
    ...(options.rules ? { rules: options.rules } : {}),
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
    metrics: options.metrics,
    logger: options.logger,
  });
}
