/**
 * The Redis channel log and the SSE processor against real Redis (standalone
 * and a 6-node cluster), with two processors standing for two app instances,
 * each on its own connections, and real SSE sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config.js';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { RedisChannelLog } from '../../src/scaling/realtime/redis-channel-log.js';
import { SseProcessor } from '../../src/scaling/realtime/sse-processor.js';
import type { LoggedEvent } from '../../src/scaling/realtime/channel-log.js';
import type { RealtimeTracing } from '../../src/scaling/tracing/index.js';
import { createJsonLogger } from '../../src/volt/index.js';
import { startCluster, startStandalone, testUsers, type RedisCluster, type RedisServerOptions, type StandaloneRedis } from '../support/redis-servers.js';
import { serve } from '../support/serve.js';
import { makeTlsFiles } from '../support/tls-certificates.js';
import { SseClient } from '../support/sse-client.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;

interface Instance {
  connections: RedisConnections;
  log: RedisChannelLog;
  processor: SseProcessor;
  port: number;
  close(): Promise<void>;
}

async function startInstance(settings: Connected, maxLength = 10_000, tracing?: RealtimeTracing): Promise<Instance> {
  const connections = createRedisConnections(settings);
  const realtime = loadConfig({}).realtime;
  const log = new RedisChannelLog(connections, { maxLength, waitReplicas: 0, waitTimeoutMs: realtime.publishWaitMs });
  // Any lower-case name: these tests use a channel per case.
  const processor = new SseProcessor({
    ...realtime,
    log,
    catchUpIntervalMs: 1_000,
    channels: [{ match: /[a-z]+/ }],
    logger: createJsonLogger({ level: 'warn' }),
    tracing,
  });
  const served = await serve((req, res) => processor.serve(req, res, {}));
  return {
    connections,
    log,
    processor,
    port: served.port,
    async close() {
      await processor.close();
      await served.close();
      await connections.quit();
    },
  };
}

const sse = (instance: Instance, channels: string, lastEventId?: string) =>
  SseClient.open({ port: instance.port, path: `/api/v1/sse/events?channels=${channels}`, ...(lastEventId ? { lastEventId } : {}) });

function ids(client: SseClient, channel?: string): string[] {
  return client
    .envelopes()
    .filter((event) => !channel || event.channel === channel)
    .map((event) => event.id);
}

/**
 * The realtime hooks tracing installs, recording instead of making spans:
 * publishes hand the log a fixed trace context, deliveries are kept.
 */
function recordingTracing(traceContext: string) {
  const delivered: Array<{ channel: string; events: LoggedEvent[]; streams: number }> = [];
  const tracing: RealtimeTracing = {
    publish: (_channel, _type, append) => append(traceContext),
    delivered: (channel, events, streams) => delivered.push({ channel, events: [...events], streams }),
  };
  return { tracing, delivered };
}

/** Subscribers Redis counts for a live channel, summed over every node that answers. */
async function subscriberCount(connections: RedisConnections, log: RedisChannelLog, channel: string): Promise<number> {
  const live = log.liveChannel(channel);
  if (connections.mode === 'standalone') {
    const reply = (await connections.command.call('PUBSUB', 'NUMSUB', live)) as [string, number];
    return Number(reply[1]);
  }
  const cluster = connections.command as import('ioredis').Cluster;
  let total = 0;
  for (const node of cluster.nodes('master')) {
    const reply = (await node.call('PUBSUB', 'SHARDNUMSUB', live)) as [string, number];
    total += Number(reply[1]);
  }
  return total;
}

const variants = [
  { mode: 'standalone', secure: false },
  { mode: 'cluster', secure: false },
  // The project's own Redis setup (redis-start.sh, its users), connected over TLS as the `app` user.
  { mode: 'standalone', secure: true },
  { mode: 'cluster', secure: true },
] as const;

for (const { mode, secure } of variants) {
  describe(`realtime over Redis (${mode}${secure ? ', over TLS as the app user' : ''})`, () => {
    let standalone: StandaloneRedis | undefined;
    let cluster: RedisCluster | undefined;
    let settings: Connected;
    let a: Instance;
    let b: Instance;

    beforeAll(async () => {
      const options: RedisServerOptions = secure ? { tls: await makeTlsFiles(), project: testUsers(), requireClientCert: mode === 'standalone' } : {};
      if (mode === 'standalone') {
        standalone = await startStandalone(options);
        settings = readRedisSettings(standalone.appEnv()) as Connected;
      } else {
        cluster = await startCluster(options);
        settings = readRedisSettings(cluster.appEnv()) as Connected;
      }
      a = await startInstance(settings);
      b = await startInstance(settings);
    }, 60_000);

    afterAll(async () => {
      await a?.close();
      await b?.close();
      await standalone?.close();
      await cluster?.close();
    });

    it('stores each channel as a stream whose ids are the SSE ids, next to its pub/sub channel in one slot', async () => {
      expect(a.log.streamKey('notes')).toBe('sse:{notes}');
      expect(a.log.liveChannel('notes')).toBe('sse:{notes}:live');
      const id = await a.processor.publish('notes', 'note.created', { text: 'hi' });
      const entries = (await a.connections.command.xrange('sse:{notes}', id, id)) as Array<[string, string[]]>;
      expect(entries).toEqual([[id, ['t', 'note.created', 'd', '{"text":"hi"}']]]);
      if (cluster) {
        const slot = await a.connections.command.call('CLUSTER', 'KEYSLOT', 'sse:{notes}');
        expect(await a.connections.command.call('CLUSTER', 'KEYSLOT', 'sse:{notes}:live')).toBe(slot);
      }
    });

    it('stores an append sent again after a lost reply once, answering with the first id', async () => {
      // What ioredis does when a connection drops before a reply (a failover):
      // the same command, token included, goes out again.
      const append = (a.connections.command as unknown as Record<string, (...args: unknown[]) => Promise<string>>).sseAppend!.bind(a.connections.command);
      const tokenKey = a.log.appendTokenKey('resent', 'token-1');
      const args = [a.log.streamKey('resent'), tokenKey, 1000, 'message', '{"n":1}', a.log.liveChannel('resent'), cluster ? 'SPUBLISH' : 'PUBLISH', 60];
      const first = await append(...args);
      const again = await append(...args);
      expect(again).toBe(first);
      expect(await a.connections.command.xlen(a.log.streamKey('resent'))).toBe(1);
      const ttl = await a.connections.command.ttl(tokenKey);
      expect(ttl).toBeGreaterThan(50);
      expect(ttl).toBeLessThanOrEqual(60);
      // Ordinary publishes each get their own token.
      await a.processor.publish('resent', 'message', { n: 2 });
      await a.processor.publish('resent', 'message', { n: 2 });
      expect(await a.connections.command.xlen(a.log.streamKey('resent'))).toBe(3);
      if (cluster) {
        const slot = await a.connections.command.call('CLUSTER', 'KEYSLOT', a.log.streamKey('resent'));
        expect(await a.connections.command.call('CLUSTER', 'KEYSLOT', tokenKey)).toBe(slot);
      }
    });

    it('fans out an event published on one instance to clients of both, in order, exactly once', async () => {
      const onA = await sse(a, 'notes');
      const onB = await sse(b, 'notes');
      const published = await Promise.all(Array.from({ length: 100 }, (_, index) => a.processor.publish('notes', 'message', { index })));
      await onA.waitForEvents(100);
      await onB.waitForEvents(100);
      const sorted = [...published].sort((x, y) => (x < y ? -1 : 1));
      expect(ids(onA)).toEqual(published.slice().sort(compare));
      expect(ids(onB)).toEqual(ids(onA));
      expect(new Set(ids(onB)).size).toBe(100);
      expect(sorted.length).toBe(100);
      onA.close();
      onB.close();
    });

    it('resumes on another instance: exactly the missed events, then live ones', async () => {
      const client = await sse(a, 'notes,revalidate');
      await a.processor.publish('notes', 'message', { warmup: true });
      await client.waitForEvents(1);
      const cursor = client.lastEventId;
      client.close();
      const missed: string[] = [];
      for (let index = 0; index < 50; index++) missed.push(await a.processor.publish('notes', 'message', { index }));
      const resumed = await sse(b, 'notes,revalidate', cursor);
      await resumed.waitForEvents(50);
      const live = await a.processor.publish('notes', 'message', { live: true });
      const liveRevalidate = await b.processor.publish('revalidate', 'revalidate', { keys: ['notes.list'] });
      await resumed.waitForEvents(52);
      expect(ids(resumed, 'notes')).toEqual([...missed, live]);
      expect(ids(resumed, 'revalidate')).toEqual([liveRevalidate]);
      resumed.close();
    });

    it('resumes while events are being published, with no gap and no duplicate', async () => {
      const first = await sse(b, 'burst');
      await a.processor.publish('burst', 'message', { n: -1 });
      await first.waitForEvents(1);
      const cursor = first.lastEventId;
      first.close();
      const published: string[] = [];
      let publishing = true;
      const publisher = (async () => {
        for (let index = 0; publishing || index < 300; index++) {
          published.push(await a.processor.publish('burst', 'message', { index }));
        }
      })();
      await sleep(30);
      const resumed = await sse(b, 'burst', cursor);
      await sleep(100);
      publishing = false;
      await publisher;
      await resumed.waitForEvents(published.length);
      expect(ids(resumed)).toEqual(published);
      resumed.close();
    });

    it('releases the Redis subscription when the last local subscriber leaves', async () => {
      const clients = await Promise.all([sse(a, 'release'), sse(a, 'release'), sse(b, 'release')]);
      await expect.poll(() => subscriberCount(a.connections, a.log, 'release')).toBe(2);
      clients[0]!.close();
      await sleep(100);
      expect(await subscriberCount(a.connections, a.log, 'release')).toBe(2);
      clients[1]!.close();
      await expect.poll(() => subscriberCount(a.connections, a.log, 'release')).toBe(1);
      clients[2]!.close();
      await expect.poll(() => subscriberCount(a.connections, a.log, 'release')).toBe(0);
      expect(a.processor.stats().channels).toBe(0);
    });

    it('catches up from the stream after its subscriber connection is killed', async () => {
      const client = await sse(b, 'blip');
      await a.processor.publish('blip', 'message', { n: 0 });
      await client.waitForEvents(1);
      // Kill the pub/sub connections on every node (as admin: the app user may
      // not): announcements sent meanwhile are lost to b.
      const nodes = cluster ? cluster.nodes : [standalone!.node];
      for (const node of nodes) await node.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
      const published: string[] = [];
      for (let index = 1; index <= 30; index++) published.push(await a.processor.publish('blip', 'message', { n: index }));
      await client.waitForEvents(31, 15_000);
      expect(ids(client).slice(1)).toEqual(published);
      client.close();
    });

    if (mode === 'standalone') {
      it('Redis down: a new stream is told to come back later (no error status); open streams carry on when Redis returns', async () => {
        const open = await sse(b, 'outage');
        await standalone!.node.stop();
        const refused = await sse(a, 'fresh');
        expect(refused.status).toBe(200);
        await refused.finished;
        expect(refused.retry).toBe(2_000);
        expect(refused.events).toEqual([]);
        await standalone!.node.start();
        await expect
          .poll(
            () =>
              a.processor.publish('outage', 'message', { back: true }).then(
                () => true,
                () => false,
              ),
            { timeout: 20_000, interval: 200 },
          )
          .toBe(true);
        await open.waitForEvents(1, 15_000);
        expect(open.envelopes()[0]).toMatchObject({ channel: 'outage', data: { back: true } });
        open.close();
      }, 60_000);
    }

    it('refuses an id outside 64-bit parts with 400 before touching Redis; resets an id beyond the stream, then goes live', async () => {
      for (const lastEventId of ['99999999999999999999-0', '18446744073709551616-0', '0-18446744073709551616']) {
        const answer = await SseClient.request({ port: a.port, path: '/api/v1/sse/events?channels=ahead', lastEventId });
        expect(answer, lastEventId).toMatchObject({ status: 400, json: { data: null, error: { code: 'INVALID_EVENT_ID' } } });
      }
      let last = await a.processor.publish('ahead', 'message', { n: 0 });
      for (const cursor of [`${Date.now() + 3_600_000}-0`, '18446744073709551615-18446744073709551615']) {
        const client = await sse(b, 'ahead', cursor);
        await client.waitForEvents(1);
        expect(client.events[0]!.event).toBe('reset');
        expect(client.envelopes()[0]).toEqual({ id: last, channel: 'ahead', type: 'reset', data: { reason: 'not-issued' } });
        const live = await a.processor.publish('ahead', 'message', { n: 1 });
        await client.waitForEvents(2);
        expect(ids(client)).toEqual([last, live]);
        client.close();
        // The next resume starts from the id the reset gave.
        const resumed = await sse(a, 'ahead', last);
        await resumed.waitForEvents(1);
        expect(ids(resumed)[0]).toBe(live);
        resumed.close();
        last = live;
      }
    });

    it("carries a publisher's trace context with its event (stream entry and live announcement) to other instances, never to clients", async () => {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const publisher = recordingTracing(traceparent);
      const receiver = recordingTracing('unused');
      const traced = await startInstance(settings, 10_000, publisher.tracing);
      const listening = await startInstance(settings, 10_000, receiver.tracing);
      try {
        const client = await sse(listening, 'traced');
        const id = await traced.processor.publish('traced', 'message', { n: 1 });
        await client.waitForEvents(1);
        // Live delivery on the other instance: the announcement carried it.
        expect(receiver.delivered).toEqual([{ channel: 'traced', events: [expect.objectContaining({ id, trace: traceparent })], streams: 1 }]);
        // The stream entry keeps it for replay and catch-up.
        const entries = (await traced.connections.command.xrange('sse:{traced}', id, id)) as Array<[string, string[]]>;
        expect(entries).toEqual([[id, ['t', 'message', 'd', '{"n":1}', 'tp', traceparent]]]);
        expect(await traced.log.read('traced', '0-0', 10)).toEqual([{ id, type: 'message', json: '{"n":1}', trace: traceparent }]);
        // Clients get the usual envelope.
        expect(client.envelopes()).toEqual([{ id, channel: 'traced', type: 'message', data: { n: 1 } }]);
        // Events published without tracing are announced and delivered as before.
        const untraced = await a.processor.publish('traced', 'message', { n: 2 });
        await client.waitForEvents(2);
        expect(receiver.delivered[1]?.events).toEqual([expect.objectContaining({ id: untraced, trace: undefined })]);
        client.close();
      } finally {
        await traced.close();
        await listening.close();
      }
    });

    it('keeps roughly MAXLEN entries per stream', async () => {
      const small = await startInstance(settings, 100);
      for (let index = 0; index < 1_000; index++) await small.processor.publish('trimmed', 'message', { index });
      const length = await small.connections.command.xlen('sse:{trimmed}');
      expect(length).toBeGreaterThanOrEqual(100);
      expect(length).toBeLessThan(300);
      // A resume from before the trimmed part gets a reset, not a silent gap.
      const client = await sse(small, 'trimmed', '1-0');
      await client.waitForEvents(1);
      expect(client.events[0]!.event).toBe('reset');
      client.close();
      await small.close();
    });
  });
}

function compare(x: string, y: string): number {
  const [xm = 0, xs = 0] = x.split('-').map(Number);
  const [ym = 0, ys = 0] = y.split('-').map(Number);
  return xm - ym || xs - ys;
}
