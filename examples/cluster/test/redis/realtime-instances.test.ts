/**
 * Realtime across three app instances running as separate processes
 * (`src/server.ts`) on real Redis, standalone and cluster, with clients on
 * real sockets and no sticky sessions: any instance serves any client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { startApp, postJson, type AppProcess } from '../support/app-process.js';
import { startCluster, startStandalone, type RedisCluster, type StandaloneRedis } from '../support/redis-servers.js';
import { createRealtimePublisher, type RealtimePublisher } from '../support/realtime-publisher.js';
import { ResumingSseClient, SseClient } from '../support/sse-client.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;
const EVENTS = '/api/v1/sse/events';

function streamIds(client: { envelopes(): Array<{ id: string; channel: string }> }, channel: string): string[] {
  return client
    .envelopes()
    .filter((event) => event.channel === channel)
    .map((event) => event.id);
}

function expectStrictlyIncreasing(ids: string[]): void {
  for (let index = 1; index < ids.length; index++) {
    const [pm, ps] = ids[index - 1]!.split('-').map(Number) as [number, number];
    const [cm, cs] = ids[index]!.split('-').map(Number) as [number, number];
    expect(cm > pm || (cm === pm && cs > ps), `${ids[index - 1]} < ${ids[index]}`).toBe(true);
  }
}

for (const mode of ['standalone', 'cluster'] as const) {
  describe(`realtime across 3 app processes (${mode} Redis)`, () => {
    let standalone: StandaloneRedis | undefined;
    let cluster: RedisCluster | undefined;
    let env: Record<string, string>;
    let apps: AppProcess[] = [];
    /** Instances a single test starts; stopped in afterAll even when the test fails. */
    const extra: AppProcess[] = [];
    const startExtra = async (name: string, options?: Parameters<typeof startApp>[2]) => {
      const app = await startApp(name, env, options);
      extra.push(app);
      return app;
    };
    let publisher: RealtimePublisher;
    /** Publishes on `notes` every ~5 ms until stopped; `acknowledged` holds the ids in order. */
    const publishSteadily = () => {
      const acknowledged: string[] = [];
      let running = true;
      const loop = (async () => {
        for (let index = 0; running; index++) {
          acknowledged.push(await publisher.publish('notes', 'message', { index }));
          await sleep(5);
        }
      })();
      return {
        acknowledged,
        stop: () => {
          running = false;
          return loop;
        },
      };
    };

    beforeAll(async () => {
      if (mode === 'standalone') {
        standalone = await startStandalone();
        env = { REDIS_URL: standalone.url };
      } else {
        cluster = await startCluster();
        env = { REDIS_CLUSTER_NODES: cluster.nodeList };
      }
      apps = await Promise.all([1, 2, 3].map((n) => startApp(`app${n}`, env)));
      publisher = createRealtimePublisher(readRedisSettings(env) as Connected);
    }, 120_000);

    afterAll(async () => {
      await Promise.all([...apps, ...extra].map((app) => app.stop()));
      await publisher?.close();
      await standalone?.close();
      await cluster?.close();
    }, 60_000);

    it('delivers what instance 1 publishes (POST /notes and realtime publishes) to clients of all three, in order, exactly once', async () => {
      const clients = await Promise.all(apps.map((app) => SseClient.open({ port: app.port, path: `${EVENTS}?channels=notes,revalidate` })));
      for (const client of clients) expect(client.status).toBe(200);
      const noteIds: number[] = [];
      for (let index = 0; index < 10; index++) {
        const { status, json } = await postJson(apps[0]!, '/api/v1/notes', { text: `note ${index}` });
        expect(status).toBe(201);
        noteIds.push(json.data.id);
      }
      const published: string[] = [];
      for (let index = 0; index < 20; index++) published.push(await publisher.publish('notes', 'message', { index }));

      for (const client of clients) {
        await client.waitFor((c) => c.events.length >= 40, 15_000, '30 notes + 10 revalidate events');
        const events = client.envelopes<{ id?: number; keys?: string[] }>();
        expect(events.length).toBe(40);
        const notes = events.filter((event) => event.type === 'note.created');
        expect(notes.map((event) => event.data.id)).toEqual(noteIds);
        expect(events.filter((event) => event.type === 'message').map((event) => event.id)).toEqual(published);
        const revalidations = events.filter((event) => event.channel === 'revalidate');
        expect(revalidations.map((event) => event.data.keys)).toEqual(noteIds.map(() => ['notes.list']));
        // Every client saw the same stream ids, each once, in increasing order.
        expectStrictlyIncreasing(streamIds(client, 'notes'));
        expect(streamIds(client, 'notes')).toEqual(streamIds(clients[0]!, 'notes'));
        expect(new Set(events.map((event) => `${event.channel}/${event.id}`)).size).toBe(40);
        client.close();
      }
    });

    it('resumes a client on another instance: exactly the 50 missed events, then live ones', async () => {
      const first = await SseClient.open({ port: apps[0]!.port, path: `${EVENTS}?channels=notes,revalidate` });
      await publisher.publish('notes', 'message', { before: true });
      await first.waitForEvents(1);
      const lastId = first.lastEventId;
      first.close();
      const missed: string[] = [];
      for (let index = 0; index < 50; index++) missed.push(await publisher.publish('notes', 'message', { index }));

      const resumed = await SseClient.open({ port: apps[1]!.port, path: `${EVENTS}?channels=notes,revalidate`, lastEventId: lastId });
      await resumed.waitForEvents(50);
      const { json } = await postJson(apps[2]!, '/api/v1/notes', { text: 'live' });
      await resumed.waitForEvents(52);
      const events = resumed.envelopes<{ id?: number }>();
      expect(events.slice(0, 50).map((event) => event.id)).toEqual(missed);
      expect(events[50]).toMatchObject({ channel: 'notes', type: 'note.created', data: { id: json.data.id } });
      expect(events[51]).toMatchObject({ channel: 'revalidate', type: 'revalidate', data: { keys: ['notes.list'] } });
      await sleep(200);
      expect(resumed.events.length).toBe(52);
      resumed.close();
    });

    it('an instance killed mid-stream (SIGKILL): its clients resume on the others and lose nothing', async () => {
      const victim = await startExtra('victim');
      const ports = () => [victim, ...apps].filter((app) => app.pid !== undefined).map((app) => app.port);
      const clients = Array.from({ length: 6 }, () => new ResumingSseClient(ports, `${EVENTS}?channels=notes`, 0));
      await Promise.all(clients.map((client) => client.start()));
      const publishing = publishSteadily();
      const { acknowledged } = publishing;
      await sleep(500);
      await victim.kill();
      await sleep(1_000);
      await publishing.stop();
      for (const client of clients) {
        await client.waitFor((c) => streamIds(c, 'notes').length >= acknowledged.length, 15_000, `${acknowledged.length} events`);
        expect(client.reconnects).toBeGreaterThanOrEqual(1);
        const received = streamIds(client, 'notes');
        expect(received).toEqual(acknowledged);
        client.stop();
      }
    }, 60_000);

    it('an instance shut down gracefully (SIGTERM): streams end with a short retry, clients resume elsewhere, nothing lost', async () => {
      const leaving = await startExtra('leaving');
      const raw = await SseClient.open({ port: leaving.port, path: `${EVENTS}?channels=notes` });
      const ports = () => [leaving, ...apps].map((app) => app.port);
      const clients = Array.from({ length: 4 }, () => new ResumingSseClient(ports, `${EVENTS}?channels=notes`, 0));
      await Promise.all(clients.map((client) => client.start()));
      const publishing = publishSteadily();
      const { acknowledged } = publishing;
      await sleep(300);
      await leaving.stop();
      await sleep(500);
      await publishing.stop();
      // The stream said "come back in 500 ms" before it ended.
      expect(raw.retry).toBe(500);
      expect(raw.ended).toBe(true);
      for (const client of clients) {
        await client.waitFor((c) => streamIds(c, 'notes').length >= acknowledged.length, 15_000, `${acknowledged.length} events`);
        expect(client.reconnects).toBeGreaterThanOrEqual(1);
        expect(streamIds(client, 'notes')).toEqual(acknowledged);
        client.stop();
      }
      raw.close();
    }, 60_000);

    it('1,000 idle connections: one Redis subscription per channel, released with memory when they close', async () => {
      const app = await startExtra('memory', { inspect: true });
      const channels = ['notes', 'revalidate', 'broadcast'];
      const openMany = async () => {
        const opened: SseClient[] = [];
        for (let index = 0; index < 1_000; index += 100) {
          const batch = await Promise.all(
            Array.from({ length: 100 }, (_, offset) =>
              SseClient.open({ port: app.port, path: `${EVENTS}?channels=${channels[(index + offset) % 3]}`, keep: false }),
            ),
          );
          opened.push(...batch);
        }
        return opened;
      };
      const allReleased = () => Promise.all(channels.map((channel) => expect.poll(() => publisher.subscribers(channel), { timeout: 10_000 }).toBe(0)));
      // Warm-up cycle: compiled code, and node:http's pool of up to 1,000 reusable
      // HTTP parsers, fill here once; the baseline is the process after it.
      for (const client of await openMany()) client.close();
      await allReleased();
      const baselineHeap = await app.heapUsedAfterGc();
      const baselineRss = app.rssKiB();

      const clients = await openMany();
      expect(clients.every((client) => client.status === 200)).toBe(true);
      // Hundreds of local subscribers per channel, one subscription each in Redis.
      for (const channel of channels) expect(await publisher.subscribers(channel)).toBe(1);
      const openHeap = await app.heapUsedAfterGc();
      const openRss = app.rssKiB();

      for (const client of clients) client.close();
      await allReleased();
      await sleep(200);
      const closedHeap = await app.heapUsedAfterGc();
      const kib = (bytes: number) => Math.round(bytes / 1024);
      console.log(
        `[${mode}] heap after GC KiB: baseline ${kib(baselineHeap)}, 1,000 open +${kib(openHeap - baselineHeap)}, ` +
          `closed +${kib(closedHeap - baselineHeap)}; rss KiB baseline ${baselineRss}, open +${openRss - baselineRss}, closed +${app.rssKiB() - baselineRss}`,
      );
      // Open connections cost memory; closed ones give it back. A retained
      // connection keeps its socket and response (most of what it costs), so
      // anything above a tenth of the open cost would be a leak, not noise.
      expect(openHeap - baselineHeap).toBeGreaterThan(1_000 * 1024);
      expect(closedHeap - baselineHeap).toBeLessThan((openHeap - baselineHeap) / 10);
      await app.stop();
    }, 60_000);
  });
}
