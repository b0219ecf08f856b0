/**
 * Memory per stream is bounded in every state: replaying history, live, and
 * ending at shutdown. Past `maxBufferedBytes` unsent (queued behind a replay
 * plus buffered for the socket), or after `writeStallMs` without the client
 * taking a byte, a stream is closed; the client resumes by id and loses
 * nothing. Clients here stop reading for real (paused sockets), so the
 * kernel's buffers fill first, then the server's.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/scaling/metrics/index.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import type { SseClient } from '../support/sse-client.js';
import { closeHarnesses, harness, type Harness } from './sse-harness.js';

afterEach(closeHarnesses);

const KiB = 1024;
const PAYLOAD = 'x'.repeat(1000);
/** About 9 MB of events: more than a paused loopback client and the server's kernel buffers take (about 4 MB). */
const HISTORY = 8_000;
const STALL_MS = 1_000;

async function publish(h: Harness, count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) ids.push(await h.processor.publish('notes', 'message', { label, index, payload: PAYLOAD }));
  return ids;
}

/** Lets the client read what reached it, then resumes from its last id and collects events through `lastId`. */
async function resumeAfterCutOff(h: Harness, client: SseClient, lastId: string): Promise<string[]> {
  client.resumeReading();
  await client.closed;
  const resumed = await h.open('channels=notes', client.lastEventId);
  await resumed.waitFor((c) => c.events.at(-1)?.id === lastId, 20_000, `event ${lastId}`);
  resumed.close();
  return [...client.envelopes(), ...resumed.envelopes()].map((event) => event.id);
}

describe('SSE streams whose client stops reading', () => {
  it('while replaying: live events queued behind the replay count against the bound, and past it the stream is closed; a resume gets every event', {
    timeout: 30_000,
  }, async () => {
    const metrics = createMetrics({ instanceId: 'slow', defaultMetrics: false });
    // A stall timeout far away: only the byte bound can end this stream.
    const h = await harness({ maxLength: 20_000, maxBufferedBytes: 64 * KiB, writeStallMs: 60_000, metrics });
    const history = await publish(h, HISTORY, 'history');
    const reader = await h.open('channels=notes');
    const slow = await h.open('channels=notes', history[0]);
    slow.pauseReading();
    // The replay is now held up by the client; live events keep coming.
    const live: string[] = [];
    while (h.processor.stats().connections === 2 && live.length < 3_000) {
      live.push(...(await publish(h, 1, 'live')));
      await nextTurn();
    }
    expect(h.processor.stats().connections, 'the slow stream was closed').toBe(1);
    expect(live.length).toBeLessThan(3_000);
    expect(sampleValue(parsePrometheusText(await metrics.registry.metrics()).samples, 'sse_slow_clients_total', { reason: 'buffer' })).toBe(1);

    const received = await resumeAfterCutOff(h, slow, live.at(-1)!);
    expect(received).toEqual([...history.slice(1), ...live]);
    await reader.waitForEvents(live.length);
    expect(reader.envelopes().map((event) => event.id)).toEqual(live);
  });

  it('replays to a reading client with the smallest bound, whose half is below the socket high-water mark (no drain event comes there)', {
    timeout: 30_000,
  }, async () => {
    const h = await harness({ maxLength: 5_000, maxBufferedBytes: 16 * KiB, writeStallMs: 60_000 });
    const history = await publish(h, 2_000, 'history');
    const client = await h.open('channels=notes', history[0]);
    await client.waitFor((c) => c.events.at(-1)?.id === history.at(-1), 20_000, `event ${history.at(-1)}`);
    expect(client.envelopes().map((event) => event.id)).toEqual(history.slice(1));
    expect(h.processor.stats().connections).toBe(1);
  });

  it('closes a stream whose client takes no byte for writeStallMs, replaying or live, and leaves slow but reading clients alone', {
    timeout: 30_000,
  }, async () => {
    const metrics = createMetrics({ instanceId: 'stall', defaultMetrics: false });
    // Long enough that a loaded machine's timer delays never make the trickling client below look stalled.
    const h = await harness({ maxLength: 20_000, writeStallMs: STALL_MS, metrics });
    const history = await publish(h, HISTORY, 'history');

    // Replaying, with nothing else published: the replay waits for the client, which never reads.
    const replaying = await h.open('channels=notes', history[0]);
    replaying.pauseReading();
    await expect.poll(() => h.serverSocket(replaying).destroyed, { timeout: 5_000 }).toBe(true);

    // Live, with a backlog far below the byte bound (1 MiB): the kernel's buffers fill first.
    const live = await h.open('channels=notes');
    const trickle = await h.open('channels=notes');
    live.pauseReading();
    trickle.pauseReading();
    const published: string[] = [];
    while (h.unsent(live) === 0) {
      published.push(...(await publish(h, 1, 'fill')));
      await nextTurn();
    }
    expect(h.unsent(live)).toBeLessThan(256 * KiB);
    // `trickle` reads a little every 150 ms: slow, but never stalled for STALL_MS.
    const reading = setInterval(() => {
      trickle.resumeReading();
      setTimeout(() => trickle.pauseReading(), 5);
    }, 150);
    try {
      const stalledAt = Date.now();
      await expect.poll(() => h.serverSocket(live).destroyed, { timeout: 5_000 }).toBe(true);
      expect(Date.now() - stalledAt).toBeGreaterThanOrEqual(STALL_MS - 50);
      // Keep the trickling client behind for a while: it is slow, not stalled.
      for (let round = 0; round < 10; round++) {
        published.push(...(await publish(h, 300, 'more')));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(h.serverSocket(trickle).destroyed).toBe(false);
    } finally {
      clearInterval(reading);
    }
    trickle.resumeReading();
    await trickle.waitFor((c) => c.events.at(-1)?.id === published.at(-1), 20_000, 'every event');
    expect(trickle.envelopes().map((event) => event.id)).toEqual(published);
    expect(sampleValue(parsePrometheusText(await metrics.registry.metrics()).samples, 'sse_slow_clients_total', { reason: 'stall' })).toBe(2);

    // Both cut-off clients resume and miss nothing.
    expect(await resumeAfterCutOff(h, live, published.at(-1)!)).toEqual(published);
    expect(await resumeAfterCutOff(h, replaying, published.at(-1)!)).toEqual([...history.slice(1), ...published]);
  });

  it('at shutdown, a stream whose client does not read is cut off after closeFlushMs instead of holding the instance open', { timeout: 30_000 }, async () => {
    const h = await harness({ maxLength: 20_000, closeFlushMs: 300 });
    const reader = await h.open('channels=notes');
    const stuck = await h.open('channels=notes');
    stuck.pauseReading();
    while (h.unsent(stuck) === 0) {
      await publish(h, 1, 'fill');
      await nextTurn();
    }
    const closing = Date.now();
    await h.processor.close();
    await expect.poll(() => h.serverSocket(stuck).destroyed, { timeout: 3_000 }).toBe(true);
    expect(Date.now() - closing).toBeLessThan(2_000);
    // A client that reads gets the short retry and the end of its stream, as before.
    await reader.waitFor((c) => c.retry === 500, 5_000, 'the closing retry');
    await reader.finished;
  });
});

describe('SSE connections per instance', () => {
  it('past maxConnections, answers an empty stream with a retry, so the client comes back later to any instance', async () => {
    const metrics = createMetrics({ instanceId: 'cap', defaultMetrics: false });
    const h = await harness({ maxConnections: 2, retryMs: 1_000, metrics });
    const first = await h.open('channels=notes');
    await h.open('channels=notes');
    const refused = await h.open('channels=notes');
    expect(refused.status).toBe(200);
    await refused.finished;
    expect(refused.connected).toBeUndefined();
    expect(refused.events).toEqual([]);
    // Spread over up to twice the usual retry, so refused clients do not all come back at once.
    expect(refused.retry).toBeGreaterThanOrEqual(1_000);
    expect(refused.retry).toBeLessThanOrEqual(2_000);
    expect(h.processor.stats().connections).toBe(2);

    // Streams opening at the same moment cannot slip past the cap together.
    first.close();
    await expect.poll(() => h.processor.stats().connections).toBe(1);
    const burst = await Promise.all(Array.from({ length: 6 }, () => h.open('channels=notes')));
    await Promise.all(burst.map((client) => client.waitFor((c) => c.connected !== undefined || c.retry !== undefined, 2_000, 'an answer')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(burst.filter((client) => client.connected !== undefined)).toHaveLength(1);
    expect(h.processor.stats().connections).toBe(2);
    expect(sampleValue(parsePrometheusText(await metrics.registry.metrics()).samples, 'sse_refused_total', { reason: 'capacity' })).toBe(6);
  });
});
