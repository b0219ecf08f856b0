/**
 * The app's own job, end to end, on a standalone Redis and on a 6-node
 * cluster: 1,000 notes posted across three API instances (src/server.ts)
 * schedule 1,000 `notes.wordStats` jobs; each runs exactly once, counted by
 * its side effect, the `note.stats` event its completion publishes on the
 * `notes` channel (keyed by job id, naming the process that ran it). Two API
 * instances run workers (the default), the third only schedules
 * (JOBS_WORKERS=off), and a `npm run worker` process (src/worker.ts) runs
 * jobs too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { postJson, startApp, type AppProcess } from '../support/app-process.js';
import { startCluster, startStandalone, type RedisCluster, type StandaloneRedis } from '../support/redis-servers.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;

const NOTES = 1_000;

interface NoteStats {
  noteId: number;
  jobId: string;
  instanceId: string;
  words: number;
  uniqueWords: number;
  characters: number;
}

/** Every `note.stats` event in the `notes` channel's stream. */
async function statsEvents(redis: RedisConnections): Promise<NoteStats[]> {
  const entries = (await redis.command.xrange('sse:{notes}', '-', '+')) as Array<[string, string[]]>;
  return entries.filter(([, fields]) => fields[1] === 'note.stats').map(([, fields]) => JSON.parse(fields[3]!) as NoteStats);
}

async function postNotes(apps: AppProcess[]): Promise<number[]> {
  const ids: number[] = [];
  let next = 0;
  // 20 clients at a time, each request to the next instance in turn.
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < NOTES) {
        const index = next++;
        const { status, json } = await postJson(apps[index % apps.length]!, '/api/v1/notes', { text: `note ${index} has five words` });
        expect(status).toBe(201);
        ids.push(json.data.id as number);
      }
    }),
  );
  return ids;
}

describe.each([
  ['standalone', () => startStandalone()],
  ['cluster', () => startCluster()],
] as const)('notes.wordStats across three API instances and a worker process (%s)', (kind, start) => {
  let server: StandaloneRedis | RedisCluster;
  let apps: AppProcess[] = [];
  let worker: AppProcess | undefined;
  let redis: RedisConnections;

  beforeAll(async () => {
    server = await start();
    const redisEnv: Record<string, string> = 'url' in server ? { REDIS_URL: server.url } : { REDIS_CLUSTER_NODES: server.nodeList };
    const env = { ...redisEnv, JOBS_WORKERS: 'on' };
    [apps, worker] = await Promise.all([
      Promise.all([startApp('app1', env), startApp('app2', env), startApp('app3', { ...env, JOBS_WORKERS: 'off' })]),
      startApp('worker1', { ...env, LOG_LEVEL: 'info' }, { entry: 'src/worker.ts', ready: /"msg":"worker started"/ }),
    ]);
    redis = createRedisConnections(readRedisSettings(redisEnv) as Connected);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([...apps, ...(worker ? [worker] : [])].map((app) => app.stop()));
    await redis?.quit();
    await server?.close();
  }, 60_000);

  it('1,000 jobs scheduled through three instances run exactly once each', async () => {
    const noteIds = await postNotes(apps);
    const deadline = Date.now() + 60_000;
    let events = await statsEvents(redis);
    while (events.length < NOTES && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      events = await statsEvents(redis);
    }
    // A little longer: a job run twice would publish a second event.
    await new Promise((resolve) => setTimeout(resolve, 500));
    events = await statsEvents(redis);

    const byJob = new Map<string, number>();
    for (const event of events) byJob.set(event.jobId, (byJob.get(event.jobId) ?? 0) + 1);
    expect(events).toHaveLength(NOTES);
    expect([...byJob.values()].filter((count) => count !== 1)).toEqual([]);
    expect(new Set(events.map((event) => event.noteId))).toEqual(new Set(noteIds));
    expect(events.every((event) => event.words === 5 && event.uniqueWords === 5)).toBe(true);
    const ranBy = Object.fromEntries([...apps, worker!].map((process) => [process.name, events.filter((event) => event.instanceId === process.name).length]));
    console.log(`${kind}: jobs run per process`, JSON.stringify(ranBy));
    // Every process with workers took jobs; the instance with JOBS_WORKERS=off ran none.
    expect(ranBy).toEqual({ app1: expect.any(Number), app2: expect.any(Number), app3: 0, worker1: expect.any(Number) });
    for (const name of ['app1', 'app2', 'worker1']) expect(ranBy[name]).toBeGreaterThan(0);
  }, 180_000);

  if (kind === 'cluster') {
    it('no command got CROSSSLOT on any node', async () => {
      const cluster = server as RedisCluster;
      for (const node of cluster.nodes) expect(await node.cli('INFO', 'errorstats')).not.toMatch(/CROSSSLOT/);
    });
  }
});
