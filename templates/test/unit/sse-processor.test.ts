import { afterEach, describe, expect, it } from 'vitest';
import type { LogHandlers } from '../../src/scaling/realtime/channel-log.js';
import { MemoryChannelLog } from '../../src/scaling/realtime/memory-channel-log.js';
import { createMetrics } from '../../src/scaling/metrics/index.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { SseClient } from '../support/sse-client.js';
import { PATH, closeHarnesses, harness } from './sse-harness.js';

afterEach(closeHarnesses);

describe('SSE processor (memory log, real sockets)', () => {
  it('writes the SSE headers, a retry on connect and one envelope per event', async () => {
    const h = await harness({ retryMs: 1234 });
    const client = await h.open('channels=notes');
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.headers['x-accel-buffering']).toBe('no');
    expect(client.headers.connection).toBe('keep-alive');
    await client.waitFor((c) => c.retry !== undefined && c.connected !== undefined, 2_000, 'retry and connected');
    expect(client.retry).toBe(1234);
    expect(client.connected).toEqual({ instanceId: 'test-instance', channels: ['notes'], resumedFrom: null });

    const id = await h.processor.publish('notes', 'note.created', { text: 'line one\nline two' });
    await client.waitForEvents(1);
    expect(id).toMatch(/^\d+-\d+$/);
    expect(client.events[0]).toEqual({
      id,
      event: 'note.created',
      data: JSON.stringify({ id, channel: 'notes', type: 'note.created', data: { text: 'line one\nline two' } }),
    });
  });

  it('delivers in order, once, to every subscriber of a channel and nothing from other channels', async () => {
    const h = await harness();
    const a = await h.open('channels=notes');
    const b = await h.open('channels=notes,revalidate');
    const other = await h.open('channels=revalidate');
    const ids: string[] = [];
    for (let index = 0; index < 20; index++) ids.push(await h.processor.publish('notes', 'message', { index }));
    await a.waitForEvents(20);
    await b.waitForEvents(20);
    expect(a.envelopes().map((event) => event.id)).toEqual(ids);
    expect(b.envelopes().map((event) => event.id)).toEqual(ids);
    expect(other.events).toEqual([]);
    // Several channels: the SSE id names a position in each of them.
    expect(b.lastEventId).toMatch(new RegExp(`^notes:${ids[19]},revalidate:\\d+-\\d+$`));
  });

  it('answers 400 / 403 as JSON envelopes before any stream byte', async () => {
    const h = await harness();
    const unknown = await SseClient.request({ port: h.port, path: `${PATH}?channels=secrets` });
    expect(unknown.status).toBe(400);
    expect(unknown.headers['content-type']).toMatch(/^application\/json/);
    expect(unknown.json).toEqual({ data: null, error: { code: 'UNKNOWN_CHANNEL', message: 'unknown channel "secrets"' } });
    const malformed = await SseClient.request({ port: h.port, path: `${PATH}?channels=${encodeURIComponent('{notes}')}` });
    expect(malformed).toMatchObject({ status: 400, json: { data: null, error: { code: 'INVALID_CHANNEL' } } });
    const forbidden = await SseClient.request({ port: h.port, path: `${PATH}?channels=user:42`, headers: { 'x-test-user': '7' } });
    expect(forbidden).toMatchObject({ status: 403, json: { data: null, error: { code: 'FORBIDDEN_CHANNEL' } } });
    const badId = await SseClient.request({ port: h.port, path: `${PATH}?channels=notes`, lastEventId: 'not-an-id' });
    expect(badId).toMatchObject({ status: 400, json: { data: null, error: { code: 'INVALID_EVENT_ID' } } });
    const own = await SseClient.request({ port: h.port, path: `${PATH}?channels=user:42`, headers: { 'x-test-user': '42' } });
    expect(own.status).toBe(200);
    expect(h.processor.stats().connections).toBeLessThanOrEqual(1);
  });

  it('resumes from Last-Event-ID (header or query) with every later event, then live, without duplicates', async () => {
    const h = await harness();
    const first = await h.open('channels=notes');
    for (let index = 0; index < 5; index++) await h.processor.publish('notes', 'message', { index });
    await first.waitForEvents(5);
    const resumeFrom = first.lastEventId;
    first.close();
    const missed: string[] = [];
    for (let index = 5; index < 55; index++) missed.push(await h.processor.publish('notes', 'message', { index }));

    const byHeader = await h.open('channels=notes', resumeFrom);
    const byQuery = await h.open(`channels=notes&lastEventId=${encodeURIComponent(resumeFrom)}`);
    await byHeader.waitForEvents(50);
    await byQuery.waitForEvents(50);
    const live = await h.processor.publish('notes', 'message', { index: 55 });
    await byHeader.waitForEvents(51);
    await byQuery.waitForEvents(51);
    expect(byHeader.envelopes().map((event) => event.id)).toEqual([...missed, live]);
    expect(byQuery.envelopes().map((event) => event.id)).toEqual([...missed, live]);
    expect(byHeader.connected?.resumedFrom).toBe(resumeFrom);
    expect(byQuery.connected?.resumedFrom).toBe(resumeFrom);
  });

  it('gives a stream that saw no event a resume point: the connected event carries the starting id', async () => {
    const h = await harness();
    await h.processor.publish('notes', 'message', { index: 'before' });
    const first = await h.open('channels=notes');
    await first.waitFor((c) => c.connected !== undefined, 2_000, 'connected');
    const startedAt = first.lastEventId;
    expect(startedAt).toMatch(/^\d+-\d+$/);
    first.close();
    await first.closed;
    const missed = [await h.processor.publish('notes', 'message', { index: 0 }), await h.processor.publish('notes', 'message', { index: 1 })];

    const resumed = await h.open('channels=notes', startedAt);
    await resumed.waitForEvents(2);
    expect(resumed.envelopes().map((event) => event.id)).toEqual(missed);
    expect(resumed.connected?.resumedFrom).toBe(startedAt);
  });

  it('resumes several channels from one composite id', async () => {
    const h = await harness();
    const client = await h.open('channels=notes,revalidate');
    await h.processor.publish('notes', 'message', { n: 1 });
    await h.processor.publish('revalidate', 'revalidate', { keys: ['notes.list'] });
    await client.waitForEvents(2);
    const cursor = client.lastEventId;
    client.close();
    const notes2 = await h.processor.publish('notes', 'message', { n: 2 });
    const reval2 = await h.processor.publish('revalidate', 'revalidate', { keys: ['a'] });
    const notes3 = await h.processor.publish('notes', 'message', { n: 3 });

    const resumed = await h.open('channels=notes,revalidate', cursor);
    await resumed.waitForEvents(3);
    const byChannel = (channel: string) =>
      resumed
        .envelopes()
        .filter((event) => event.channel === channel)
        .map((event) => event.id);
    expect(byChannel('notes')).toEqual([notes2, notes3]);
    expect(byChannel('revalidate')).toEqual([reval2]);
    expect(resumed.lastEventId).toBe(`notes:${notes3},revalidate:${reval2}`);
  });

  it('sends a reset when the resume point fell out of the ring buffer, then follows live', async () => {
    const h = await harness({ maxLength: 10 });
    const client = await h.open('channels=notes');
    await h.processor.publish('notes', 'message', { n: 0 });
    await client.waitForEvents(1);
    const old = client.lastEventId;
    client.close();
    const ids: string[] = [];
    for (let index = 1; index <= 25; index++) ids.push(await h.processor.publish('notes', 'message', { n: index }));

    const resumed = await h.open('channels=notes', old);
    await resumed.waitForEvents(1);
    expect(resumed.events[0]!.event).toBe('reset');
    expect(JSON.parse(resumed.events[0]!.data)).toEqual({ id: ids[24], channel: 'notes', type: 'reset', data: { reason: 'history-trimmed' } });
    expect(resumed.events[0]!.id).toBe(ids[24]);
    const live = await h.processor.publish('notes', 'message', { n: 26 });
    await resumed.waitForEvents(2);
    expect(resumed.events.map((event) => event.id)).toEqual([ids[24], live]);

    // A resume point still inside the buffer replays normally.
    const recent = await h.open('channels=notes', ids[20]);
    await recent.waitForEvents(5);
    expect(recent.envelopes().map((event) => event.id)).toEqual([...ids.slice(21), live]);
  });

  it('answers 400 INVALID_EVENT_ID for an id whose parts do not fit in 64 bits, and takes the largest that does', async () => {
    const h = await harness();
    for (const lastEventId of ['99999999999999999999-0', '18446744073709551616-0', '0-18446744073709551616', 'notes:1-0,revalidate:99999999999999999999-0']) {
      for (const how of ['header', 'query'] as const) {
        const request =
          how === 'header'
            ? { port: h.port, path: `${PATH}?channels=notes,revalidate`, lastEventId }
            : { port: h.port, path: `${PATH}?channels=notes,revalidate&lastEventId=${encodeURIComponent(lastEventId)}` };
        const answer = await SseClient.request(request);
        expect(answer, `${lastEventId} (${how})`).toMatchObject({ status: 400, json: { data: null, error: { code: 'INVALID_EVENT_ID' } } });
      }
    }
    const largest = await h.open('channels=notes', '18446744073709551615-18446744073709551615');
    expect(largest.status).toBe(200);
    expect(h.processor.stats().connections).toBe(1);
  });

  it('sends a reset for an id beyond anything the channel issued, then every live event', async () => {
    const h = await harness();
    const issued = [await h.processor.publish('notes', 'message', { n: 0 }), await h.processor.publish('notes', 'message', { n: 1 })];
    const future = `${Date.now() + 3_600_000}-0`;
    for (const cursor of [future, '18446744073709551615-18446744073709551615']) {
      const client = await h.open('channels=notes', cursor);
      await client.waitForEvents(1);
      expect(client.events[0]!.event).toBe('reset');
      expect(JSON.parse(client.events[0]!.data)).toEqual({ id: issued.at(-1), channel: 'notes', type: 'reset', data: { reason: 'not-issued' } });
      // The stream now stands at the channel's last id: a later resume from it replays normally.
      expect(client.lastEventId).toBe(issued.at(-1));
      const live = await h.processor.publish('notes', 'message', { n: 'live' });
      await client.waitForEvents(2);
      expect(client.envelopes()[1]).toMatchObject({ id: live, data: { n: 'live' } });
      issued.push(live);
      client.close();
    }
    // Several channels: only the one whose id is ahead is reset; the other replays.
    const revalidate = await h.processor.publish('revalidate', 'revalidate', { keys: ['a'] });
    const missed = await h.processor.publish('revalidate', 'revalidate', { keys: ['b'] });
    const mixed = await h.open('channels=notes,revalidate', `notes:${future},revalidate:${revalidate}`);
    await mixed.waitForEvents(2);
    expect(mixed.envelopes().map((event) => [event.channel, event.type, event.id])).toEqual(
      expect.arrayContaining([
        ['notes', 'reset', issued.at(-1)],
        ['revalidate', 'revalidate', missed],
      ]),
    );
    const live = await h.processor.publish('notes', 'message', { n: 'after' });
    await mixed.waitForEvents(3);
    expect(mixed.envelopes()[2]).toMatchObject({ channel: 'notes', id: live });
  });

  it('pings every connection from one shared interval', async () => {
    const h = await harness({ heartbeatMs: 50 });
    const a = await h.open('channels=notes');
    const b = await h.open('channels=revalidate');
    await a.waitFor((c) => c.pings >= 2, 2_000, 'pings');
    await b.waitFor((c) => c.pings >= 2, 2_000, 'pings');
  });

  it('releases a channel when its last local subscriber leaves', async () => {
    const h = await harness();
    const a = await h.open('channels=notes,revalidate');
    const b = await h.open('channels=notes');
    expect(h.log.subscriptionCount).toBe(2);
    expect(h.processor.stats()).toEqual({ connections: 2, channels: 2 });
    a.close();
    await expect.poll(() => h.processor.stats()).toEqual({ connections: 1, channels: 1 });
    expect(h.log.subscriptionCount).toBe(1);
    b.close();
    await expect.poll(() => h.log.subscriptionCount).toBe(0);
    expect(h.processor.stats()).toEqual({ connections: 0, channels: 0 });
  });

  it('closes a client that stops reading once its unsent bytes pass the bound; it can resume by id', async () => {
    const h = await harness({ maxBufferedBytes: 64 * 1024, maxLength: 10_000 });
    const slow = await h.open('channels=notes');
    const fast = await h.open('channels=notes');
    // The slow client stops reading: the kernel's socket buffer fills, then node's.
    slow.pauseReading();
    // One event per loop turn, so the reading client keeps up and only the paused one falls behind.
    const payload = 'x'.repeat(16 * 1024);
    let published = 0;
    while (h.processor.stats().connections === 2 && published < 3_000) {
      await h.processor.publish('notes', 'message', { index: published++, payload });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect.poll(() => h.processor.stats().connections).toBe(1);
    expect(published).toBeLessThan(3_000);
    await fast.waitForEvents(published, 10_000);
    expect(fast.events.length).toBe(published);
    // The dropped client resumes from its last id and gets everything it missed.
    const resumed = await h.open('channels=notes', slow.lastEventId || '0-0');
    const alreadyHad = slow.events.length;
    await resumed.waitForEvents(published - alreadyHad, 10_000);
    expect(resumed.envelopes().map((event) => event.id)).toEqual(
      fast
        .envelopes()
        .slice(alreadyHad)
        .map((event) => event.id),
    );
    await fast.waitFor((c) => c.events.length > 0);
  });

  it('close(): a short retry then the end of every stream', async () => {
    const h = await harness({ closeRetryMs: 500 });
    const a = await h.open('channels=notes');
    const b = await h.open('channels=revalidate');
    await a.waitFor((c) => c.retry === 2_000, 2_000, 'initial retry');
    await h.processor.close();
    await a.waitFor((c) => c.retry === 500, 2_000, 'short retry');
    await b.waitFor((c) => c.retry === 500, 2_000, 'short retry');
    await expect.poll(() => h.processor.stats().connections).toBe(0);
    // A client arriving now gets an empty stream that says where to go: come back in 500 ms
    // (an error status would make EventSource give up for good).
    const late = await h.open('channels=notes');
    expect(late.status).toBe(200);
    await late.finished;
    expect(late.retry).toBe(500);
    expect(late.events).toEqual([]);
  });

  it('measures delivery lag from the time in the event id, once per event however many clients get it', async () => {
    // Announcements arrive 60 ms after the append, as from a slow pub/sub hop.
    class LateAnnouncements extends MemoryChannelLog {
      override setHandlers(handlers: LogHandlers): void {
        super.setHandlers({ ...handlers, live: (channel, event) => void setTimeout(() => handlers.live(channel, event), 60) });
      }
    }
    const metrics = createMetrics({ instanceId: 'lag-test', defaultMetrics: false });
    const h = await harness({ log: new LateAnnouncements({ maxLength: 100 }), metrics });
    const clients = [await h.open('channels=notes'), await h.open('channels=notes'), await h.open('channels=notes')];
    for (let index = 0; index < 5; index++) await h.processor.publish('notes', 'message', { index });
    for (const client of clients) await client.waitForEvents(5);
    const { samples } = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(samples, 'sse_events_total', { type: 'message' })).toBe(15);
    expect(sampleValue(samples, 'sse_delivery_lag_seconds_count')).toBe(5);
    expect(sampleValue(samples, 'sse_delivery_lag_seconds_bucket', { le: '0.05' })).toBe(0);
    expect(sampleValue(samples, 'sse_delivery_lag_seconds_sum')).toBeGreaterThanOrEqual(5 * 0.059);
  });

  it('refuses to publish on a malformed channel or event type', async () => {
    const h = await harness();
    await expect(h.processor.publish('{bad}', 'message', {})).rejects.toThrow(/channel/);
    await expect(h.processor.publish('notes', 'bad\ntype', {})).rejects.toThrow(/event type/);
  });

  it("ends a stream at the expiry its context gives, not before; an expiry past a timer's range waits too", async () => {
    const expiries = new Map<string, number>([
      ['soon', Date.now() + 300],
      ['in a month', Date.now() + 30 * 86_400_000],
    ]);
    const h = await harness({ expiresAt: (context) => (context.user ? expiries.get(context.user.id) : undefined) });
    const open = (user: string) => SseClient.open({ port: h.port, path: `${PATH}?channels=notes`, headers: { 'x-test-user': user } });
    const [soon, later, anonymous] = await Promise.all([open('soon'), open('in a month'), h.open('channels=notes')]);
    await soon.waitFor((c) => c.events.some((event) => event.event === 'auth.expired'), 5_000, 'auth.expired');
    await soon.finished;
    await h.processor.publish('notes', 'message', { after: true });
    for (const client of [later, anonymous]) await client.waitForEvents(1);
    expect(later.events.map((event) => event.event)).toEqual(['message']);
    expect(h.processor.stats().connections).toBe(2);
    later.close();
    soon.close();
  });
});
