/**
 * Private realtime channels on one instance (in-memory adapters, real
 * sockets): one-time tickets open `user:<id>` for that user only, private
 * events reach their owner only, a stream ends with `auth.expired` at the
 * token's `exp` and resumes with a new ticket without losing an event, and
 * neither tickets nor tokens reach the logs. Across instances on Redis:
 * test/redis/auth-realtime.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp, type App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createSseTickets } from '../../../src/features/auth/sse-tickets.js';
import type { User } from '../../../src/features/auth/user.js';
import { createLogger } from '../../../src/scaling/logger.js';
import { AUTH_ENV, signToken } from '../../support/auth-tokens.js';
import { serve } from '../../support/serve.js';
import { SseClient } from '../../support/sse-client.js';

const EVENTS = '/api/v1/sse/events';
const logLines: string[] = [];
let app: App;
let port: number;
let base: string;
const clients: SseClient[] = [];

beforeAll(async () => {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'debug', METRICS_PORT: 'off', INSTANCE_ID: 'private-1', ...AUTH_ENV });
  // Every log line of the app, request lines included, to check what they hold.
  const logger = createLogger({ level: 'debug', instanceId: config.instanceId, destination: { write: (line: string) => logLines.push(line) } });
  app = createApp(config, { logger });
  ({ port, url: base } = await serve(app.server));
});
afterAll(async () => {
  for (const client of clients) client.close();
  await app.close();
});

async function ticketFor(token: string): Promise<{ ticket: string; expiresAt: string; channel: string }> {
  const res = await fetch(`${base}/api/v1/sse/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(201);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return ((await res.json()) as { data: { ticket: string; expiresAt: string; channel: string } }).data;
}

async function open(query: string, lastEventId?: string): Promise<SseClient> {
  const client = await SseClient.open({ port, path: `${EVENTS}?${query}`, ...(lastEventId ? { lastEventId } : {}) });
  clients.push(client);
  return client;
}

async function postNote(text: string, token?: string): Promise<{ id: number; authorId: string | null }> {
  const res = await fetch(`${base}/api/v1/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ text }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { data: { id: number; authorId: string | null } }).data;
}

const noteIds = (client: SseClient, channel: string) =>
  client
    .envelopes<{ id: number }>()
    .filter((event) => event.channel === channel && event.type === 'note.created')
    .map((event) => event.data.id);

describe('private channels with one-time tickets', () => {
  it("a ticket opens its user's channel once; a reused, unknown or malformed ticket is a 401", async () => {
    const alice = await ticketFor(await signToken({ sub: 'alice' }));
    expect(alice.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(alice.channel).toBe('user:alice');
    expect(Date.parse(alice.expiresAt) - Date.now()).toBeLessThanOrEqual(30_000);
    const stream = await open(`channels=notes,user:alice&ticket=${alice.ticket}`);
    expect(stream.status).toBe(200);
    await stream.waitFor((c) => c.connected !== undefined, 5_000, 'the connected event');
    expect(stream.connected?.channels).toEqual(['notes', 'user:alice']);

    for (const ticket of [alice.ticket, 'x'.repeat(43), 'not-a-ticket']) {
      const reused = await SseClient.request({ port, path: `${EVENTS}?channels=notes,user:alice&ticket=${ticket}` });
      expect(reused.status).toBe(401);
      expect(reused.json).toEqual({ data: null, error: { code: 'UNAUTHORIZED', message: expect.any(String), details: { reason: 'ticket' } } });
    }
  });

  it("another user's channel is a 403, with a ticket, a bearer token or none", async () => {
    const { ticket } = await ticketFor(await signToken({ sub: 'bob' }));
    const withTicket = await SseClient.request({ port, path: `${EVENTS}?channels=notes,user:alice&ticket=${ticket}` });
    expect(withTicket).toMatchObject({ status: 403, json: { data: null, error: { code: 'FORBIDDEN_CHANNEL' } } });
    const withBearer = await SseClient.request({
      port,
      path: `${EVENTS}?channels=user:alice`,
      headers: { authorization: `Bearer ${await signToken({ sub: 'bob' })}` },
    });
    expect(withBearer.status).toBe(403);
    const anonymous = await SseClient.request({ port, path: `${EVENTS}?channels=user:alice` });
    expect(anonymous.status).toBe(403);
    // Anonymous streams still follow public channels.
    expect((await SseClient.request({ port, path: `${EVENTS}?channels=notes` })).status).toBe(200);
  });

  it('each private event reaches its owner only; public notes reach everyone', async () => {
    const aliceToken = await signToken({ sub: 'alice' });
    const bobToken = await signToken({ sub: 'bob' });
    const alice = await open(`channels=notes,user:alice&ticket=${(await ticketFor(aliceToken)).ticket}`);
    const bob = await open(`channels=notes,user:bob&ticket=${(await ticketFor(bobToken)).ticket}`);
    for (const client of [alice, bob]) await client.waitFor((c) => c.connected !== undefined, 5_000, 'connected');

    const byAlice = await postNote('from alice', aliceToken);
    const byBob = await postNote('from bob', bobToken);
    const anonymous = await postNote('from nobody');
    expect([byAlice.authorId, byBob.authorId, anonymous.authorId]).toEqual(['alice', 'bob', null]);

    for (const client of [alice, bob]) await client.waitFor((c) => noteIds(c, 'notes').includes(anonymous.id), 5_000, 'the public notes');
    await alice.waitFor((c) => noteIds(c, 'user:alice').length === 1, 5_000, "alice's private note");
    await bob.waitFor((c) => noteIds(c, 'user:bob').length === 1, 5_000, "bob's private note");
    await sleep(100);
    expect(noteIds(alice, 'user:alice')).toEqual([byAlice.id]);
    expect(noteIds(bob, 'user:bob')).toEqual([byBob.id]);
    for (const client of [alice, bob]) {
      expect(noteIds(client, 'notes')).toEqual([byAlice.id, byBob.id, anonymous.id]);
      expect(client.envelopes().filter((event) => event.channel.startsWith('user:')).length).toBe(1);
    }
  });

  it("ends the stream with auth.expired at the token's exp; a new ticket resumes from its id with nothing lost", async () => {
    const shortLived = await signToken({ sub: 'erin', expiresIn: 2 });
    const stream = await open(`channels=notes,user:erin&ticket=${(await ticketFor(shortLived)).ticket}`);
    await stream.waitFor((c) => c.connected !== undefined, 5_000, 'connected');
    const before = await postNote('before expiry', shortLived);
    await stream.waitFor((c) => noteIds(c, 'user:erin').includes(before.id), 5_000, 'the first note');

    await stream.waitFor((c) => c.events.some((event) => event.event === 'auth.expired'), 5_000, 'auth.expired');
    await Promise.race([stream.finished, stream.closed]);
    const expired = stream.events.at(-1)!;
    expect(expired.event).toBe('auth.expired');
    expect(JSON.parse(expired.data)).toEqual({ reason: 'credentials-expired', at: expect.any(String) });
    expect(stream.lastEventId).toBe(expired.id);

    // Written while erin has no stream: the resumed one must replay them.
    const fresh = await signToken({ sub: 'erin' });
    const missed = [await postNote('missed 1', fresh), await postNote('missed 2', fresh)];
    const resumed = await open(`channels=notes,user:erin&ticket=${(await ticketFor(fresh)).ticket}`, stream.lastEventId);
    expect(resumed.status).toBe(200);
    await resumed.waitFor((c) => noteIds(c, 'user:erin').length >= 2 && noteIds(c, 'notes').length >= 2, 5_000, 'the missed notes');
    const live = await postNote('after resume', fresh);
    await resumed.waitFor((c) => noteIds(c, 'user:erin').includes(live.id), 5_000, 'the live note');
    const all = [before.id, ...missed.map((note) => note.id), live.id];
    expect([...noteIds(stream, 'user:erin'), ...noteIds(resumed, 'user:erin')]).toEqual(all);
    expect([...noteIds(stream, 'notes'), ...noteIds(resumed, 'notes')]).toEqual(all);
  });

  it('a bearer token opens a stream too (clients that can send headers), and it expires the same way', async () => {
    const stream = await open(`channels=user:frank`);
    expect(stream.status).toBe(403);
    const client = await SseClient.open({
      port,
      path: `${EVENTS}?channels=user:frank`,
      headers: { authorization: `Bearer ${await signToken({ sub: 'frank', expiresIn: 1 })}` },
    });
    clients.push(client);
    expect(client.status).toBe(200);
    await client.waitFor((c) => c.events.some((event) => event.event === 'auth.expired'), 5_000, 'auth.expired');
  });

  it('no log line holds a ticket or a token (the request log drops the query)', async () => {
    const token = await signToken({ sub: 'grace' });
    const { ticket } = await ticketFor(token);
    const client = await open(`channels=user:grace&ticket=${ticket}`);
    expect(client.status).toBe(200);
    client.close();
    await sleep(300); // request lines are written in batches
    const all = logLines.join('');
    expect(all).toContain('"path":"/api/v1/sse/events"');
    expect(all).not.toContain(ticket);
    expect(all).not.toContain(token.split('.')[2]!);
  });
});

describe('tickets without Redis', () => {
  const user = (id: string, expiresInMs: number): User => ({ id, name: null, expiresAt: clock + expiresInMs, claims: { sub: id } });
  let clock = 1_000_000;
  const now = () => clock;

  it('are valid for the configured time, never past the token, and once', async () => {
    const tickets = createSseTickets({ redis: undefined, ttlSeconds: 30, now });
    const issued = await tickets.issue(user('alice', 3_600_000));
    expect(issued.expiresAt).toBe(clock + 30_000);
    clock += 29_000;
    expect((await tickets.redeem(issued.ticket))?.id).toBe('alice');
    expect(await tickets.redeem(issued.ticket)).toBeNull();

    const late = await tickets.issue(user('alice', 3_600_000));
    clock += 30_001;
    expect(await tickets.redeem(late.ticket)).toBeNull();

    const shortToken = await tickets.issue(user('bob', 5_000));
    expect(shortToken.expiresAt).toBe(clock + 5_000);
    clock += 5_001;
    expect(await tickets.redeem(shortToken.ticket)).toBeNull();
  });

  it('are bounded in number: the oldest go first', async () => {
    const tickets = createSseTickets({ redis: undefined, ttlSeconds: 30, now, maxInMemory: 3 });
    const issued = [];
    for (let index = 0; index < 5; index++) issued.push(await tickets.issue(user(`u${index}`, 60_000)));
    expect(await tickets.redeem(issued[0]!.ticket)).toBeNull();
    expect(await tickets.redeem(issued[1]!.ticket)).toBeNull();
    expect((await tickets.redeem(issued[4]!.ticket))?.id).toBe('u4');
  });
});
