import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createMemoryStore } from '../../src/scaling/store/memory-store.js';
import { createAuthService } from '../../src/features/auth/auth.service.js';
import { createNotesRepository } from '../../src/features/notes/notes.repository.js';
import { silentLogger } from '../../src/volt/index.js';
import { AppRouter } from '../../src/volt.router.js';
import { RecordingTransport } from './kernel/recording-transport.js';
import { getJson, postJson, rawExchange, serve } from './kernel/harness.js';

let app: App;
let base: string;
let port: number;

beforeAll(async () => {
  app = createApp(loadConfig({ NODE_ENV: 'test', INSTANCE_ID: 'unit-a', LOG_LEVEL: 'silent', METRICS_PORT: 'off' }), { logger: silentLogger });
  ({ port } = await serve(app.server));
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => app.close());

describe('app: ping', () => {
  it('GET /api/v1/ping answers exactly {"data":{"pong":true},"error":null}', async () => {
    const res = await fetch(`${base}/api/v1/ping`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"data":{"pong":true},"error":null}');
    expect(res.headers.get('x-instance-id')).toBe('unit-a');
  });
});

describe('app: X-Instance-Id and live probe', () => {
  it('is on 404s, 405s and the live probe too', async () => {
    const missing = await getJson(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-instance-id')).toBe('unit-a');
    const wrong = await getJson(`${base}/api/v1/ping`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('x-instance-id')).toBe('unit-a');
    const live = await getJson(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'pass' });
    expect(live.headers.get('x-instance-id')).toBe('unit-a');
  });

  it('answers unparseable HTTP with a JSON 400 and keeps serving', async () => {
    const reply = await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(reply).toContain('X-Instance-Id: unit-a');
    expect(reply).toContain('{"data":null,"error":{"code":"BAD_REQUEST","message":"Malformed HTTP request"}}');
    expect((await fetch(`${base}/api/v1/ping`)).status).toBe(200);
  });
});

describe('app: notes', () => {
  it('POST creates a note (201) with id, text, createdAt and instanceId; GET /:id reads it', async () => {
    const created = await postJson(`${base}/api/v1/notes`, { text: 'first note' });
    expect(created.status).toBe(201);
    const note = created.body.data;
    expect(note).toEqual({ id: expect.any(Number), text: 'first note', createdAt: expect.any(String), instanceId: 'unit-a', authorId: null });
    expect(new Date(note.createdAt).toISOString()).toBe(note.createdAt);
    const read = await getJson(`${base}/api/v1/notes/${note.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ data: note, error: null });
  });

  it('GET /:id of a missing or non-numeric id -> 404', async () => {
    expect((await getJson(`${base}/api/v1/notes/999999`)).status).toBe(404);
    const odd = await getJson(`${base}/api/v1/notes/abc`);
    expect(odd.status).toBe(404);
    expect(odd.body.error.code).toBe('NOT_FOUND');
  });

  it('rejects text outside 1..500 characters, naming the field', async () => {
    for (const text of ['', 'x'.repeat(501)]) {
      const res = await postJson(`${base}/api/v1/notes`, { text });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details[0]).toMatchObject({ location: 'body', path: 'text' });
    }
    const missing = await postJson(`${base}/api/v1/notes`, {});
    expect(missing.body.error.details[0]).toMatchObject({ path: 'text' });
    expect((await postJson(`${base}/api/v1/notes`, { text: 'x'.repeat(500) })).status).toBe(201);
  });

  it('concurrent creates get distinct ids; the list is newest first and capped at 50', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => postJson(`${base}/api/v1/notes`, { text: `bulk ${i}` })));
    const ids = results.map((r) => r.body.data.id as number);
    expect(new Set(ids).size).toBe(60);
    const list = await getJson(`${base}/api/v1/notes`);
    expect(list.status).toBe(200);
    const listed = list.body.data as Array<{ id: number }>;
    expect(listed).toHaveLength(50);
    const listedIds = listed.map((n) => n.id);
    expect(listedIds).toEqual([...listedIds].sort((a, b) => b - a));
    expect(listedIds[0]).toBe(Math.max(...ids));
  });

  it('two instances on one store see the same notes: notes:<id> keys, ids from notes:seq', async () => {
    const store = createMemoryStore();
    const config = (id: string) => loadConfig({ INSTANCE_ID: id, LOG_LEVEL: 'silent', METRICS_PORT: 'off' });
    const a = createApp(config('shared-a'), { store, logger: silentLogger });
    const b = createApp(config('shared-b'), { store, logger: silentLogger });
    const post = (app: App, text: string) =>
      app.router.handler(
        new Request('http://x/api/v1/notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) }),
      );
    const fromA = ((await (await post(a, 'from a')).json()) as { data: { id: number; instanceId: string } }).data;
    const fromB = ((await (await post(b, 'from b')).json()) as { data: { id: number; instanceId: string } }).data;
    expect([fromA.instanceId, fromB.instanceId]).toEqual(['shared-a', 'shared-b']);
    expect(fromB.id).toBe(fromA.id + 1);
    const seenByB = (await (await b.router.handler(new Request(`http://x/api/v1/notes/${fromA.id}`))).json()) as { data: unknown };
    expect(seenByB.data).toEqual(fromA);
    expect(await store.get(`notes:${fromA.id}`)).toEqual(fromA);
    expect(await store.get('notes:seq')).toBe(fromB.id);
    const listedByA = (await (await a.router.handler(new Request('http://x/api/v1/notes'))).json()) as { data: Array<{ id: number }> };
    expect(listedByA.data.map((n) => n.id)).toEqual([fromB.id, fromA.id]);
    await Promise.all([a.close(), b.close()]);
  });

  it('notes.list is the realtime-capable (stream) query', () => {
    expect(app.router.routes.find((r) => r.key === 'notes.list')).toEqual({ method: 'GET', path: '/api/v1/notes', key: 'notes.list', stream: true });
  });

  it('with a realtime transport, POST publishes note.created on `notes` and revalidates notes.list', async () => {
    const transport = new RecordingTransport();
    const store = createMemoryStore();
    const auth = createAuthService(loadConfig({}).auth, undefined);
    const services = { store, logger: silentLogger, instanceId: 'rt-1', auth, notes: createNotesRepository(store) };
    const router = AppRouter.instance({ store, logger: silentLogger, services, realtime: transport, config: { basePATH: '/api/v1' } });
    const res = await router.handler(
      new Request('http://x/api/v1/notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"live"}' }),
    );
    expect(res.status).toBe(201);
    const note = ((await res.json()) as { data: { id: number } }).data;
    await transport.waitFor(2);
    expect(transport.published).toContainEqual({ channel: 'notes', type: 'note.created', data: note });
    expect(transport.published).toContainEqual({ channel: 'revalidate', type: 'revalidate', data: { keys: ['notes.list'] } });
  });
});

describe('AppRouter without app services', () => {
  it('serves the features on the builder defaults (memory store), e.g. for Fetch runtimes', async () => {
    const created = await AppRouter.handler(
      new Request('http://x/api/v1/notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"standalone"}' }),
    );
    expect(created.status).toBe(201);
    const list = (await (await AppRouter.handler(new Request('http://x/api/v1/notes'))).json()) as { data: Array<{ text: string }> };
    expect(list.data[0]?.text).toBe('standalone');
  });
});
