/**
 * Signed-in realtime across two app instances on real Redis (standalone and
 * cluster): a ticket issued by one instance opens a stream on the other, once;
 * private events cross instances to their owner only; a stream that expires
 * on one instance resumes on the other with nothing lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { AUTH_ENV, signToken } from '../support/auth-tokens.js';
import { serve } from '../support/serve.js';
import { SseClient } from '../support/sse-client.js';
import { startBackend, type Kind, type RedisBackend } from './cache-fixtures.js';

const EVENTS = '/api/v1/sse/events';

interface Instance {
  app: App;
  port: number;
  url: string;
}

describe.each<Kind>(['standalone', 'cluster'])('signed-in realtime across instances: %s Redis', (kind) => {
  let backend: RedisBackend;
  let a: Instance;
  let b: Instance;
  const clients: SseClient[] = [];

  async function instance(name: string): Promise<Instance> {
    const redisEnv = kind === 'standalone' ? { REDIS_URL: backend.standalone!.url } : { REDIS_CLUSTER_NODES: backend.cluster!.nodeList };
    const app = createApp(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', METRICS_PORT: 'off', INSTANCE_ID: name, ...redisEnv, ...AUTH_ENV }));
    const { port, url } = await serve(app.server);
    return { app, port, url };
  }

  beforeAll(async () => {
    backend = await startBackend(kind);
    [a, b] = await Promise.all([instance('auth-a'), instance('auth-b')]);
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([a, b].map((node) => node?.app.close()));
    await backend?.close();
  });

  async function ticketFrom(node: Instance, token: string): Promise<string> {
    const res = await fetch(`${node.url}/api/v1/sse/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(201);
    return ((await res.json()) as { data: { ticket: string } }).data.ticket;
  }
  async function open(node: Instance, query: string, lastEventId?: string): Promise<SseClient> {
    const client = await SseClient.open({ port: node.port, path: `${EVENTS}?${query}`, ...(lastEventId ? { lastEventId } : {}) });
    clients.push(client);
    return client;
  }
  async function postNote(node: Instance, text: string, token: string): Promise<number> {
    const res = await fetch(`${node.url}/api/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ text }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { data: { id: number } }).data.id;
  }
  const privateNotes = (client: SseClient, channel: string) =>
    client
      .envelopes<{ id: number }>()
      // Notes only: each note's background job adds a note.stats event on the notes channel.
      .filter((event) => event.channel === channel && event.type === 'note.created')
      .map((event) => event.data.id);

  it('a ticket issued by one instance opens a stream on the other, once, and lives 30 s in Redis', async () => {
    const ticket = await ticketFrom(a, await signToken({ sub: 'alice' }));
    const key = `sse:ticket:${ticket}`;
    const node = backend.standalone ? backend.standalone.node : await backend.cluster!.masterFor(key);
    const ttl = Number(await node.cli('PTTL', key));
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);

    const stream = await open(b, `channels=user:alice&ticket=${ticket}`);
    expect(stream.status).toBe(200);
    expect(await node.cli('EXISTS', key)).toBe('0');
    for (const other of [a, b]) {
      const reused = await SseClient.request({ port: other.port, path: `${EVENTS}?channels=user:alice&ticket=${ticket}` });
      expect(reused).toMatchObject({ status: 401, json: { data: null, error: { code: 'UNAUTHORIZED', details: { reason: 'ticket' } } } });
    }
  });

  it('two instances racing for one ticket: exactly one stream opens', async () => {
    const ticket = await ticketFrom(a, await signToken({ sub: 'alice' }));
    const answers = await Promise.all([a, b, a, b].map((node) => SseClient.open({ port: node.port, path: `${EVENTS}?channels=user:alice&ticket=${ticket}` })));
    clients.push(...answers);
    expect(answers.map((client) => client.status).sort()).toEqual([200, 401, 401, 401]);
  });

  it("a note written on one instance reaches its author's stream on the other, and nobody else's private channel", async () => {
    const aliceToken = await signToken({ sub: 'alice' });
    const bobToken = await signToken({ sub: 'bob' });
    const alice = await open(b, `channels=notes,user:alice&ticket=${await ticketFrom(a, aliceToken)}`);
    const bob = await open(a, `channels=notes,user:bob&ticket=${await ticketFrom(b, bobToken)}`);
    for (const client of [alice, bob]) await client.waitFor((c) => c.connected !== undefined, 10_000, 'connected');
    const fromAlice = await postNote(a, 'alice on a', aliceToken);
    const fromBob = await postNote(b, 'bob on b', bobToken);
    await alice.waitFor((c) => privateNotes(c, 'notes').includes(fromBob), 10_000, 'both public notes');
    await bob.waitFor((c) => privateNotes(c, 'notes').includes(fromBob), 10_000, 'both public notes');
    await alice.waitFor((c) => privateNotes(c, 'user:alice').length > 0, 10_000, "alice's note");
    await bob.waitFor((c) => privateNotes(c, 'user:bob').length > 0, 10_000, "bob's note");
    expect(privateNotes(alice, 'user:alice')).toEqual([fromAlice]);
    expect(privateNotes(bob, 'user:bob')).toEqual([fromBob]);
    expect(privateNotes(alice, 'notes')).toEqual([fromAlice, fromBob]);
  });

  it('a stream that expires on one instance resumes on the other with a new ticket, losing nothing', async () => {
    const shortLived = await signToken({ sub: 'erin', expiresIn: 2 });
    const first = await open(a, `channels=notes,user:erin&ticket=${await ticketFrom(b, shortLived)}`);
    const early = await postNote(b, 'early', shortLived);
    await first.waitFor((c) => privateNotes(c, 'user:erin').includes(early), 10_000, 'the early note');
    await first.waitFor((c) => c.events.some((event) => event.event === 'auth.expired'), 10_000, 'auth.expired');

    const fresh = await signToken({ sub: 'erin' });
    const missed = [await postNote(a, 'missed on a', fresh), await postNote(b, 'missed on b', fresh)];
    const resumed = await open(b, `channels=notes,user:erin&ticket=${await ticketFrom(a, fresh)}`, first.lastEventId);
    expect(resumed.status).toBe(200);
    await resumed.waitFor((c) => privateNotes(c, 'user:erin').length >= 2, 10_000, 'the missed notes');
    const late = await postNote(a, 'late', fresh);
    await resumed.waitFor((c) => privateNotes(c, 'user:erin').includes(late), 10_000, 'the live note');
    expect([...privateNotes(first, 'user:erin'), ...privateNotes(resumed, 'user:erin')]).toEqual([early, ...missed, late]);
    expect([...privateNotes(first, 'notes'), ...privateNotes(resumed, 'notes')]).toEqual([early, ...missed, late]);
  });

  // One Redis server to stop is enough to show it (a cluster's failover is covered by the realtime suites).
  if (kind === 'standalone')
    it('with Redis down, a ticket request is a 503 to retry (not a 500, not a 401), and Redis back, tickets work again', async () => {
      const token = await signToken({ sub: 'alice' });
      const node = backend.standalone!.node;
      await node.stop();
      try {
        const res = await fetch(`${a.url}/api/v1/sse/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(503);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE');
        expect((await fetch(`${a.url}/api/v1/ping`)).status).toBe(200);
      } finally {
        await node.start();
      }
      await expect
        .poll(async () => (await fetch(`${a.url}/api/v1/sse/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, {
          timeout: 20_000,
        })
        .toBe(201);
    });
});
