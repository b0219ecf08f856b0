/**
 * A security review's probe, against a running instance (its own process) on
 * a real Redis: five clients resume from an old id, so their streams start by
 * replaying a long history, and never read; 20,000 events are published
 * meanwhile. Every stream is bounded (SSE_MAX_BUFFERED_BYTES counts the live
 * events queued behind a replay), so the instance's memory ends where it
 * started and the five are cut off; each then resumes from the last id it
 * read and gets every event, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareIds } from '../../src/scaling/realtime/event-id.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { startApp, type AppProcess } from '../support/app-process.js';
import { startStandalone, type StandaloneRedis } from '../support/redis-servers.js';
import { createRealtimePublisher, type RealtimePublisher } from '../support/realtime-publisher.js';
import { SseClient } from '../support/sse-client.js';

const SLOW_CLIENTS = 5;
const LIVE_EVENTS = 20_000;
/** About 5 MB of history: more than the kernel buffers a stalled loopback client (about 4 MB), so the replays wait on the clients. */
const HISTORY_EVENTS = 10_000;
const PAYLOAD = 'p'.repeat(400);
const MiB = 1024 * 1024;
const TOKEN = 'slow-clients-metrics-token';
const PATH = '/api/v1/sse/events?channels=notes';

let redis: StandaloneRedis;
let app: AppProcess;
let publisher: RealtimePublisher;

beforeAll(async () => {
  redis = await startStandalone();
  // Default bounds (SSE_MAX_BUFFERED_BYTES 1 MiB, SSE_WRITE_STALL_MS 30 s); history long enough to resume from.
  app = await startApp('slow-probe', { REDIS_URL: redis.url, SSE_STREAM_MAXLEN: '50000', METRICS_TOKEN: TOKEN }, { inspect: true });
  publisher = createRealtimePublisher({ mode: 'standalone', url: redis.url }, 0, 50_000);
});

afterAll(async () => {
  await app?.stop();
  await publisher?.close();
  await redis?.close();
});

/** Publishes `count` events, 64 at a time; returns their ids in stream order. */
async function publishMany(count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      ids.push(await publisher.publish('notes', 'note.created', { label, index, text: PAYLOAD }));
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return ids.sort(compareIds);
}

async function scrape(): Promise<ReturnType<typeof parsePrometheusText>['samples']> {
  const response = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return parsePrometheusText(await response.text()).samples;
}

describe('five resumed clients that never read, 20,000 events', () => {
  it('leave the heap where it was, are cut off, and each gets every event when it resumes', { timeout: 180_000 }, async () => {
    const history = await publishMany(HISTORY_EVENTS, 'history');
    // A client that reads: it shows when the instance has handled every live event.
    let readerLast = '';
    const reader = await SseClient.open({ port: app.port, path: PATH, keep: false, onEvent: (event) => (readerLast = event.id) });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await app.memoryAfterGc();

    const slow = await Promise.all(Array.from({ length: SLOW_CLIENTS }, () => SseClient.open({ port: app.port, path: PATH, lastEventId: history[0] })));
    for (const client of slow) client.pauseReading();
    const live = await publishMany(LIVE_EVENTS, 'live');
    const last = live.at(-1)!;
    await expect.poll(() => readerLast, { timeout: 60_000, interval: 100 }).toBe(last);
    const after = await app.memoryAfterGc();

    const samples = await scrape();
    const figures = {
      heapUsedMiB: [before.heapUsed / MiB, after.heapUsed / MiB].map((n) => Number(n.toFixed(1))),
      outsideHeapMiB: [before.external / MiB, after.external / MiB].map((n) => Number(n.toFixed(1))),
      rssMiB: [before.rss / MiB, after.rss / MiB].map((n) => Number(n.toFixed(1))),
      openStreams: sampleValue(samples, 'sse_active_connections'),
      cutOff: sampleValue(samples, 'sse_slow_clients_total', { reason: 'buffer' }),
    };
    console.log(`[slow clients] before -> after ${LIVE_EVENTS} events: ${JSON.stringify(figures)}`);
    // Each stream held at most SSE_MAX_BUFFERED_BYTES (1 MiB) before it was cut off; after, nothing of them is left.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(4 * MiB);
    expect(after.external - before.external).toBeLessThan(4 * MiB);
    expect(figures.openStreams).toBe(1);
    expect(figures.cutOff).toBe(SLOW_CLIENTS);

    // Each reads what reached it before the cut, then resumes from its last id: every event, in order, once.
    const expected = [...history.slice(1), ...live];
    for (const client of slow) {
      client.resumeReading();
      await client.closed;
      const resumed = await SseClient.open({ port: app.port, path: PATH, lastEventId: client.lastEventId, keep: true });
      await resumed.waitFor((c) => c.events.at(-1)?.id === last, 60_000, `event ${last}`);
      resumed.close();
      const ids = [...client.events, ...resumed.events].map((event) => event.id);
      expect(ids.length).toBe(expected.length);
      expect(ids).toEqual(expected);
    }
    reader.close();
  });
});
