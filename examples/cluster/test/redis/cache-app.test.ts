/**
 * GET /api/v1/notes goes through the distributed cache; POST invalidates it
 * on every instance. Three app processes on a real Redis (standalone and
 * cluster), and a real Redis stop/start under a running app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAppProcess, type AppProcess } from './cache-app-processes.js';
import { startBackend, type Kind, type RedisBackend } from './cache-fixtures.js';

interface Note {
  id: number;
  text: string;
}

async function listNotes(app: AppProcess): Promise<{ status: number; notes: Note[] }> {
  const response = await fetch(`${app.url}/api/v1/notes`);
  const body = (await response.json()) as { data: Note[] | null };
  return { status: response.status, notes: body.data ?? [] };
}

async function createNote(app: AppProcess, text: string): Promise<Response> {
  return fetch(`${app.url}/api/v1/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
}

function redisEnv(backend: RedisBackend): Record<string, string> {
  return backend.kind === 'standalone' ? { REDIS_URL: backend.standalone!.url } : { REDIS_CLUSTER_NODES: backend.cluster!.nodeList };
}

describe.each<Kind>(['standalone', 'cluster'])('notes list cache across app processes: %s', (kind) => {
  let backend: RedisBackend;
  let apps: AppProcess[] = [];

  beforeAll(async () => {
    backend = await startBackend(kind);
    // A long ttl: only an invalidation can make a cached list change.
    const env = { ...redisEnv(backend), CACHE_NOTES_TTL_MS: '600000', CACHE_NOTES_GRACE_MS: '0' };
    apps = await Promise.all(['app1', 'app2', 'app3'].map((name) => startAppProcess(name, env)));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await backend?.close();
  });

  it('serves the cached list; after a POST the writer serves the new list at once, the other instances as soon as the invalidation reaches them', async () => {
    for (const app of apps) expect(await listNotes(app)).toEqual({ status: 200, notes: [] });
    // The list is cached in Redis under the namespace generation.
    const node = backend.kind === 'standalone' ? () => Promise.resolve(backend.standalone!.node) : (key: string) => backend.cluster!.masterFor(key);
    const generation = await (await node('cache:notes:gen')).cli('GET', 'cache:notes:gen');
    expect(generation).toMatch(/^\d{13}$/);
    const listKey = `cache:notes:g${generation}:list`;
    expect(await (await node(listKey)).cli('EXISTS', listKey)).toBe('1');

    // Each instance had the old list in L1. Pub/sub carries the invalidation to the
    // others: a read that overtakes it (another socket, another event loop) may
    // still get the old list for that moment.
    let longestLagMs = 0;
    for (let round = 1; round <= 12; round++) {
      const writer = apps[round % 3]!;
      const response = await createNote(writer, `note ${round}`);
      expect(response.status).toBe(201);
      const written = performance.now();
      for (const reader of [writer, ...apps.filter((app) => app !== writer)]) {
        let { status, notes } = await listNotes(reader);
        while (reader !== writer && notes[0]?.id !== round && performance.now() - written < 2_000) {
          await sleep(5);
          ({ status, notes } = await listNotes(reader));
        }
        if (reader !== writer) longestLagMs = Math.max(longestLagMs, performance.now() - written);
        expect(status).toBe(200);
        expect(notes[0], `${reader.name} after note ${round} on ${writer.name}`).toMatchObject({ id: round, text: `note ${round}` });
        expect(notes).toHaveLength(round);
      }
    }
    console.log(`[${kind}] the other instances served the new list within ${longestLagMs.toFixed(0)} ms of the 201`);
  });
});

describe('notes list with Redis stopped under a running app (standalone)', () => {
  let backend: RedisBackend;
  let app: AppProcess;

  beforeAll(async () => {
    backend = await startBackend('standalone');
    app = await startAppProcess('solo', { ...redisEnv(backend), CACHE_NOTES_TTL_MS: '300', CACHE_NOTES_GRACE_MS: '600000', CACHE_L2_TIMEOUT_MS: '200' });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await backend?.close();
  });

  it('keeps serving GET /api/v1/notes from L1 while Redis is down, and recovers when it returns', async () => {
    expect((await createNote(app, 'before the outage')).status).toBe(201);
    const before = await listNotes(app);
    expect(before.notes.map((n) => n.text)).toEqual(['before the outage']);

    await backend.standalone!.node.stop();
    const started = performance.now();
    let served = 0;
    let slowest = 0;
    // Two seconds of reads: fresh, then stale within the grace (the ttl is 300 ms).
    while (performance.now() - started < 2_000) {
      const t = performance.now();
      const { status, notes } = await listNotes(app);
      slowest = Math.max(slowest, performance.now() - t);
      expect(status).toBe(200);
      expect(notes).toEqual(before.notes);
      served++;
      await sleep(50);
    }
    console.log(`[app, redis down] ${served} GET /api/v1/notes served from L1, slowest ${slowest.toFixed(0)} ms`);
    // A write cannot succeed without its store; it fails cleanly.
    expect((await createNote(app, 'during the outage')).status).toBeGreaterThanOrEqual(500);

    await backend.standalone!.node.start();
    // Redis restarted empty (no persistence): writes work again, and the list follows them.
    await expect.poll(async () => (await createNote(app, 'after the outage')).status, { timeout: 20_000, interval: 250 }).toBe(201);
    await expect.poll(async () => (await listNotes(app)).notes.map((n) => n.text), { timeout: 10_000, interval: 100 }).toEqual(['after the outage']);
  });
});
