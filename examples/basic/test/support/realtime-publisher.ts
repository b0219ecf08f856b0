/**
 * Publishes realtime events the way an app instance does (same channel log,
 * same Lua script), from the test process, so a test knows each event's id
 * the moment Redis acknowledged it. Also reads subscriber counts from Redis.
 */
import type { Cluster } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import type { RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { RedisChannelLog } from '../../src/scaling/realtime/redis-channel-log.js';
import { SseProcessor } from '../../src/scaling/realtime/sse-processor.js';

export interface RealtimePublisher {
  connections: RedisConnections;
  publish(channel: string, type: string, data: unknown): Promise<string>;
  /** Redis-side subscriber count of a channel's live pub/sub (NUMSUB, or SHARDNUMSUB summed over masters). */
  subscribers(channel: string): Promise<number>;
  close(): Promise<void>;
}

/** `maxLength`: events each stream keeps (the app's SSE_STREAM_MAXLEN; publishing is what trims). */
export function createRealtimePublisher(
  settings: Exclude<RedisSettings, { mode: 'none' }>,
  waitReplicas = 0,
  maxLength = loadConfig({}).realtime.streamMaxLength,
): RealtimePublisher {
  const connections = createRedisConnections(settings);
  const realtime = loadConfig({}).realtime;
  const log = new RedisChannelLog(connections, { maxLength, waitReplicas, waitTimeoutMs: realtime.publishWaitMs });
  const processor = new SseProcessor({ ...realtime, log, catchUpIntervalMs: 0 });
  return {
    connections,
    publish: (channel, type, data) => processor.publish(channel, type, data),
    async subscribers(channel) {
      const live = log.liveChannel(channel);
      if (connections.mode === 'standalone') {
        const reply = (await connections.command.call('PUBSUB', 'NUMSUB', live)) as [string, number];
        return Number(reply[1]);
      }
      let total = 0;
      for (const node of (connections.command as Cluster).nodes('master')) {
        const reply = (await node.call('PUBSUB', 'SHARDNUMSUB', live)) as [string, number];
        total += Number(reply[1]);
      }
      return total;
    },
    async close() {
      await processor.close();
      await connections.quit();
    },
  };
}
