/**
 * What Redis keeps, as the project runs it (infra/redis/redis-start.sh with
 * redis.conf: AOF everysec, volatile-lru, the `app` user), with the app as a
 * separate process logged in as `app`:
 * - filled to maxmemory with cache entries, Redis evicts only them: every
 *   note, the id counter and every stream entry are still there;
 * - filled with notes, a POST answers 503 STORE_FULL and leaves nothing
 *   behind, earlier notes are intact and reads are served;
 * - killed with SIGKILL and started again on the same directory, it has every
 *   acknowledged note and event, and an SSE client resumes with nothing missing;
 * - a note overwritten by hand with something else is reported by key, and
 *   the rest of the list still serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createCaches } from '../../src/scaling/cache/index.js';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { createMemoryStore } from '../../src/scaling/store/memory-store.js';
import { startApp, postJson, type AppProcess } from '../support/app-process.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { freePort, startStandalone, testUsers, type StandaloneRedis } from '../support/redis-servers.js';
import { SseClient } from '../support/sse-client.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;
const NOTES = '/api/v1/notes';
const EVENTS = '/api/v1/sse/events?channels=notes';
const MAXMEMORY = ['--maxmemory', '4mb'];

interface Note {
  id: number;
  text: string;
}

/** Every key matching `pattern`, read as admin (SCAN: KEYS is not the app's to use, and blocks). */
async function keysOf(redis: StandaloneRedis, pattern: string): Promise<string[]> {
  const output = await redis.node.cli('--scan', '--pattern', pattern);
  return output ? output.split('\n').sort() : [];
}

async function info(redis: StandaloneRedis, section: string, field: string): Promise<number> {
  return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await redis.node.cli('INFO', section))?.[1]);
}

/** The `notes` stream's entry ids, read as admin. */
async function streamIds(redis: StandaloneRedis): Promise<string[]> {
  const output = await redis.node.cli('XRANGE', 'sse:{notes}', '-', '+');
  return output.split('\n').filter((line) => /^\d+-\d+$/.test(line));
}

async function startAppOn(redis: StandaloneRedis, name: string, extra: Record<string, string> = {}): Promise<AppProcess> {
  return startApp(name, { ...redis.appEnv(), ...extra });
}

async function postNotes(app: AppProcess, count: number, text = (i: number) => `note ${i}`): Promise<Note[]> {
  const notes: Note[] = [];
  for (let i = 0; i < count; i++) {
    const { status, json } = await postJson(app, NOTES, { text: text(i) });
    expect(status, JSON.stringify(json)).toBe(201);
    notes.push(json.data as Note);
  }
  return notes;
}

describe('filled to maxmemory with cache entries (standalone, the project Redis)', () => {
  let redis: StandaloneRedis;
  let app: AppProcess;
  let cacheConnections: RedisConnections;

  beforeAll(async () => {
    redis = await startStandalone({ project: testUsers(), args: MAXMEMORY });
    app = await startAppOn(redis, 'evictions');
    cacheConnections = createRedisConnections(readRedisSettings(redis.appEnv()) as Connected);
  });
  afterAll(async () => {
    await app?.stop();
    await cacheConnections?.quit();
    await redis?.close();
  });

  it('evicts only cache entries: every note, the id counter and every stream entry survive', async () => {
    const notes = await postNotes(app, 40);
    const before = { notes: await keysOf(redis, 'notes:*'), seq: await redis.node.cli('GET', 'notes:seq'), stream: await streamIds(redis) };
    expect(before.notes).toHaveLength(41); // 40 notes and notes:seq
    expect(before.stream).toHaveLength(40);

    // Real cache entries, written by the app's cache code as the app user: four times maxmemory.
    const caches = createCaches({
      instanceId: 'filler',
      redis: cacheConnections.command,
      pubsub: createMemoryStore(),
      settings: { ...loadConfig({}).cache, ttlMs: 600_000, graceMs: 0, l1MaxEntries: 10, l2TimeoutMs: 5_000 },
    });
    const bulk = caches.namespace<string>('bulk');
    const value = 'x'.repeat(1_000);
    for (let batch = 0; batch < 16; batch++) {
      await Promise.all(Array.from({ length: 1_000 }, (_, i) => bulk.set(`entry-${batch}-${i}`, value)));
    }
    await caches.close();

    expect(await info(redis, 'stats', 'evicted_keys')).toBeGreaterThan(10_000);
    const cached = await keysOf(redis, 'cache:bulk:g*');
    expect(cached.length).toBeGreaterThan(0);
    expect(cached.length).toBeLessThan(16_000);
    expect(await keysOf(redis, 'notes:*')).toEqual(before.notes);
    expect(await redis.node.cli('GET', 'notes:seq')).toBe(before.seq);
    expect(await streamIds(redis)).toEqual(before.stream);

    // The app reads them all, and keeps writing: Redis makes room by evicting more cache entries.
    const list = await (await fetch(`${app.url}${NOTES}`)).json();
    expect(list.data.map((note: Note) => note.id)).toEqual(notes.map((note) => note.id).reverse());
    const { status } = await postJson(app, NOTES, { text: 'room is made' });
    expect(status).toBe(201);
  });
});

describe('filled to maxmemory with notes (standalone, the project Redis)', () => {
  let redis: StandaloneRedis;
  let app: AppProcess;
  let metricsPort: number;

  beforeAll(async () => {
    redis = await startStandalone({ project: testUsers(), args: MAXMEMORY });
    metricsPort = await freePort();
    app = await startAppOn(redis, 'full', { METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.close();
  });

  it('answers 503 STORE_FULL with nothing half-written, keeps earlier notes, and serves reads', async () => {
    const created: Note[] = [];
    const refused: Array<{ status: number; json: any }> = [];
    const text = 'n'.repeat(500);
    // 16 in flight until Redis refuses, then a few more that must all be refused.
    while (refused.length < 32) {
      const answers = await Promise.all(Array.from({ length: 16 }, () => postJson(app, NOTES, { text })));
      for (const answer of answers) {
        if (answer.status === 201) created.push(answer.json.data);
        else refused.push(answer);
      }
      expect(created.length, 'Redis never filled up').toBeLessThan(20_000);
    }
    expect(created.length).toBeGreaterThan(1_000);
    for (const { status, json } of refused) {
      expect(status).toBe(503);
      expect(json).toEqual({ data: null, error: { code: 'STORE_FULL', message: 'The store is full: nothing was written. Try again later.' } });
    }

    // Nothing half-written: exactly one note and one event per 201, none for a 503.
    const noteKeys = (await keysOf(redis, 'notes:*')).filter((key) => key !== 'notes:seq');
    expect(noteKeys.sort()).toEqual(created.map((note) => `notes:${note.id}`).sort());
    expect(Number(await redis.node.cli('XLEN', 'sse:{notes}'))).toBe(created.length);

    // Earlier notes intact, reads served.
    for (const note of [created[0]!, created[Math.floor(created.length / 2)]!, created.at(-1)!]) {
      const answer = await fetch(`${app.url}${NOTES}/${note.id}`);
      expect(answer.status).toBe(200);
      expect((await answer.json()).data).toEqual(note);
    }
    // The list counts down the last 50 ids; ids a refused POST took are skipped.
    const list = await fetch(`${app.url}${NOTES}`);
    expect(list.status).toBe(200);
    const newest = Number(await redis.node.cli('GET', 'notes:seq'));
    const expected = created.filter((note) => note.id > newest - 50).sort((a, b) => b.id - a.id);
    expect(expected.length).toBeGreaterThan(0);
    expect((await list.json()).data).toEqual(expected);
    expect((await fetch(`${app.url}/health/ready`)).status).toBe(200);

    // The metrics the RedisMemoryNearLimit and StoreFull alerts read.
    const { samples } = parsePrometheusText(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    const node = `127.0.0.1:${redis.port}`;
    expect(sampleValue(samples, 'redis_memory_max_bytes', { node })).toBe(4 * 1024 * 1024);
    expect(sampleValue(samples, 'redis_memory_used_bytes', { node })).toBeGreaterThan(0.95 * 4 * 1024 * 1024);
    expect(sampleValue(samples, 'store_full_errors_total')).toBeGreaterThanOrEqual(refused.length);
  });
});

describe('redis-server killed with SIGKILL and started again on the same directory (standalone, AOF)', () => {
  let redis: StandaloneRedis;
  let app: AppProcess;

  beforeAll(async () => {
    redis = await startStandalone({ project: testUsers() });
    app = await startAppOn(redis, 'crash');
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.close();
  });

  it('has every acknowledged note and event back, and SSE clients resume with nothing missing', async () => {
    const live = await SseClient.open({ port: app.port, path: EVENTS });
    const before = await postNotes(app, 60);
    await live.waitFor((client) => client.envelopes().filter((e) => e.channel === 'notes').length === 60, 10_000, '60 events');
    const eventsBefore = live.envelopes().filter((event) => event.channel === 'notes');
    const streamBefore = await streamIds(redis);
    expect(streamBefore).toEqual(eventsBefore.map((event) => event.id));

    // Straight after the last 201: no time for anything but what AOF already holds.
    await redis.node.kill();
    await redis.node.start();

    expect(await streamIds(redis)).toEqual(streamBefore);
    for (const note of before) expect(JSON.parse(await redis.node.cli('GET', `notes:${note.id}`))).toEqual(note);
    expect(await redis.node.cli('GET', 'notes:seq')).toBe('60');

    // The app reconnects by itself; new notes continue the ids.
    await expect.poll(async () => (await fetch(`${app.url}/health/ready`)).status, { timeout: 15_000 }).toBe(200);
    const after = await postNotes(app, 10);
    expect(after.map((note) => note.id)).toEqual([61, 62, 63, 64, 65, 66, 67, 68, 69, 70]);

    // The client that stayed connected, and one that comes back from the 20th event, miss nothing.
    await live.waitFor((client) => client.envelopes().filter((e) => e.channel === 'notes').length === 70, 15_000, '70 events');
    const all = live.envelopes<Note>().filter((event) => event.channel === 'notes');
    expect(all.map((event) => event.data.id)).toEqual([...before, ...after].map((note) => note.id));
    live.close();
    const resumed = await SseClient.open({ port: app.port, path: EVENTS, lastEventId: all[19]!.id });
    await resumed.waitFor((client) => client.envelopes().filter((e) => e.channel === 'notes').length === 50, 10_000, '50 replayed events');
    expect(
      resumed
        .envelopes()
        .filter((e) => e.channel === 'notes')
        .map((event) => event.id),
    ).toEqual(all.slice(20).map((event) => event.id));
    resumed.close();
  });
});

describe('a stored note of the wrong shape (standalone, the project Redis)', () => {
  let redis: StandaloneRedis;
  let app: AppProcess;

  beforeAll(async () => {
    redis = await startStandalone({ project: testUsers() });
    app = await startAppOn(redis, 'shapes');
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.close();
  });

  it('GET names the key in a STORED_VALUE_INVALID error, and the list serves the other notes', async () => {
    const [first, , third] = await postNotes(app, 3);
    // Written by hand, as another program or an old version might.
    await redis.node.cli('SET', 'notes:2', JSON.stringify({ id: 'two', body: 'renamed field' }));

    const answer = await fetch(`${app.url}${NOTES}/2`);
    expect(answer.status).toBe(500);
    const { data, error } = await answer.json();
    expect(data).toBeNull();
    expect(error.code).toBe('STORED_VALUE_INVALID');
    expect(error.message).toMatch(/^The value stored at "notes:2" does not match its schema: /);
    expect(error.data).toEqual({ key: 'notes:2' });
    expect(error.details.map((detail: { path: string }) => detail.path).sort()).toEqual(['createdAt', 'id', 'instanceId', 'text']);
    expect(JSON.stringify(error)).not.toContain('renamed field');

    const list = await fetch(`${app.url}${NOTES}`);
    expect(list.status).toBe(200);
    expect((await list.json()).data).toEqual([third, first]);
    await expect.poll(() => app.output()).toContain('stored note does not match its schema');

    // Not JSON at all: the same answer.
    await redis.node.cli('SET', 'notes:3', 'plain text');
    expect((await (await fetch(`${app.url}${NOTES}/3`)).json()).error.code).toBe('STORED_VALUE_INVALID');
    expect((await fetch(`${app.url}${NOTES}/1`)).status).toBe(200);
  });
});
