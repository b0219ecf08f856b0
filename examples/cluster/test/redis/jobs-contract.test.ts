/**
 * One contract, three backends: the in-memory job runner (`npm run dev`) and
 * BullMQ on a real standalone server and on a real 6-node cluster must
 * behave the same: payloads parsed by the job's schema, bad input refused
 * with nothing added, delays, attempts with backoff, hooks called once, job
 * ids that deduplicate, repeating schedules, concurrency, and workers that
 * stop without dropping the job they run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobQueue, type JobSettings, type RunningJobQueue } from '../../src/scaling/jobs/index.js';
import { createMetrics, type Metrics } from '../../src/scaling/metrics/index.js';
import { createRedisConnections, type RedisConnections } from '../../src/scaling/redis/connections.js';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { attachJobQueue, silentLogger, VoltError, type JobRequest } from '../../src/volt/index.js';
import { disabledRealtime } from '../../src/volt/realtime.js';
import { createJobsClient } from '../../src/volt/jobs.js';
import { parsePrometheusText } from '../support/prometheus-text.js';
import { startCluster, startStandalone } from '../support/redis-servers.js';
import { createTestJobs, type JobRecord } from '../support/test-jobs.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;

interface Server {
  connections(): RedisConnections;
  close(): Promise<void>;
}

const SETTINGS: JobSettings = {
  workers: true,
  concurrency: 2,
  queues: '*',
  lockMs: 30_000,
  keepCompleted: 100,
  keepCompletedMs: 3_600_000,
  keepFailed: 100,
  keepFailedMs: 3_600_000,
  countsTimeoutMs: 1_000,
};

async function redisServer(kind: 'standalone' | 'cluster'): Promise<Server> {
  const server = kind === 'standalone' ? await startStandalone() : await startCluster();
  const settings = readRedisSettings('url' in server ? { REDIS_URL: server.url } : { REDIS_CLUSTER_NODES: server.nodeList }) as Connected;
  return { connections: () => createRedisConnections(settings), close: () => server.close() };
}

const backends: Array<[string, (() => Promise<Server>) | null]> = [
  ['memory', null],
  ['redis standalone', () => redisServer('standalone')],
  ['redis cluster', () => redisServer('cluster')],
];

let namespaces = 0;
const payload = (record: JobRecord | undefined) => (record && 'payload' in record ? record.payload : undefined);
const failure = (record: JobRecord | undefined) => (record && 'error' in record ? record.error : undefined);

describe.each(backends)('job queue contract: %s', (_name, startServer) => {
  let server: Server | null = null;
  const open: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    server = startServer ? await startServer() : null;
  }, 60_000);
  afterEach(async () => {
    while (open.length > 0) await open.pop()!();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A queue (with its `volt.jobs`) on a fresh namespace: one "instance" with workers. */
  function instance(settings: Partial<JobSettings> = {}) {
    const namespace = `tasks${++namespaces}`;
    const records: JobRecord[] = [];
    const registered = createTestJobs((record) => records.push(record), namespace);
    const connections = server?.connections();
    const metrics: Metrics = createMetrics({ instanceId: 'contract', defaultMetrics: false });
    const queue: RunningJobQueue = createJobQueue({
      registered,
      settings: { ...SETTINGS, ...settings },
      redis: connections,
      services: { context: { instanceId: 'contract' }, logger: silentLogger, realtime: disabledRealtime },
      instanceId: 'contract',
      logger: silentLogger,
      metrics,
    });
    const client = createJobsClient(registered);
    const detach = attachJobQueue(client, queue);
    open.push(async () => {
      detach();
      await queue.close();
      await connections?.quit();
    });
    const jobs = client[namespace]!;
    const of = (kind: JobRecord['kind'], task?: string) => records.filter((record) => record.kind === kind && (!task || record.task === task));
    const until = async (what: string, check: () => boolean, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; records: ${JSON.stringify(records)}`);
        await sleep(10);
      }
    };
    const metric = async (name: string) => {
      const { samples } = parsePrometheusText(await metrics.registry.metrics());
      return samples.filter((sample) => sample.name === name && sample.labels.queue === namespace).reduce((sum, sample) => sum + sample.value, 0);
    };
    const depth = async (state: string) => (await queue.counts()).find((row) => row.queue === namespace && row.state === state)?.count;
    return { namespace, jobs, queue, records, of, until, metric, depth };
  }

  it('runs a job with its parsed payload, once, and calls onSuccess once with its result', async () => {
    const { jobs, of, until, metric } = instance();
    const id = await jobs.schedule({ task: 'record', input: { key: 'a' } });
    expect(id).toMatch(/^\d+$/);
    await until('the success hook', () => of('success').length === 1);
    expect(of('start')).toHaveLength(1);
    expect(of('start')[0]).toMatchObject({ task: 'record', payload: { key: 'a' }, job: { id, name: 'record', attemptsMade: 0, attempts: 3 } });
    expect(of('success')[0]).toMatchObject({ job: { id, name: 'record' }, result: { key: 'a', sameAsInput: true, instanceId: 'contract' } });
    await sleep(100);
    expect(of('start')).toHaveLength(1);
    expect(await metric('jobs_completed_total')).toBe(1);
    expect(await metric('jobs_duration_seconds_count')).toBe(1);
  });

  it('refuses an input that fails the schema with the validation error, and adds nothing', async () => {
    const { jobs, records, depth } = instance();
    const error = await jobs.schedule({ task: 'record', input: { key: 42 } as never }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VoltError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, details: [{ location: 'input', path: 'key' }] });
    expect((error as Error).message).toMatch(/^Invalid input for job tasks\d+\.record: key: /);
    await expect(jobs.schedule({ task: 'record', input: { key: 'x' }, options: { attempts: 0 } })).rejects.toThrow(/attempts must be a whole number >= 1/);
    await expect(jobs.schedule({ task: 'nope' as 'record', input: { key: 'x' } })).rejects.toMatchObject({ code: 'UNKNOWN_JOB' });
    await sleep(150);
    expect(records).toEqual([]);
    expect(await depth('waiting')).toBe(0);
    expect(await depth('delayed')).toBe(0);
  });

  it('waits `delay` before the first run', async () => {
    const { jobs, of, until, depth } = instance();
    const scheduled = Date.now();
    await jobs.schedule({ task: 'record', input: { key: 'later' }, options: { delay: 700 } });
    expect(await depth('delayed')).toBe(1);
    await sleep(300);
    expect(of('start')).toHaveLength(0);
    await until('the delayed run', () => of('done').length === 1);
    expect(of('start')[0]!.at - scheduled).toBeGreaterThanOrEqual(690);
  });

  it('retries a throwing handler per attempts with fixed backoff; onSuccess once, onFailure never', async () => {
    const { jobs, of, until, metric } = instance();
    await jobs.schedule({ task: 'flaky', input: { failTimes: 2 }, attempts: 3, backoff: 200 });
    await until('the success hook', () => of('success').length === 1);
    const starts = of('start').map((record) => record.at);
    expect(starts).toHaveLength(3);
    expect(of('start').map((record) => record.job.attemptsMade)).toEqual([0, 1, 2]);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(190);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(190);
    expect(of('failure')).toHaveLength(0);
    expect(await metric('jobs_retries_total')).toBe(2);
    expect(await metric('jobs_completed_total')).toBe(1);
  });

  it('fails after the last attempt with exponential backoff, calling onFailure exactly once', async () => {
    const { jobs, of, until, metric, depth } = instance();
    const id = await jobs.schedule({ task: 'broken', input: { reason: 'boom' }, options: { attempts: 3, backoff: { type: 'exponential', delay: 150 } } });
    await until('the failure hook', () => of('failure').length === 1);
    await sleep(400);
    const starts = of('start').map((record) => record.at);
    expect(starts).toHaveLength(3);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(140);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(290);
    expect(of('failure')).toHaveLength(1);
    expect(of('failure')[0]).toMatchObject({ job: { id, name: 'broken', attemptsMade: 3, attempts: 3 }, error: 'boom' });
    expect(of('success')).toHaveLength(0);
    expect(await metric('jobs_failed_total')).toBe(1);
    expect(await metric('jobs_retries_total')).toBe(2);
    expect(await depth('failed')).toBe(1);
  });

  it('fails a stored payload that no longer matches the schema at once, without retrying', async () => {
    const { namespace, queue, of, until } = instance();
    // What a job scheduled by an older build looks like to this one: added without the schema's check.
    const request: JobRequest = {
      namespace,
      task: 'record',
      payload: { key: 7 },
      options: { attempts: 3, backoff: { type: 'fixed', delay: 0 }, delay: 0, jobId: undefined, repeat: undefined },
    };
    await queue.add(request);
    await until('the failure hook', () => of('failure').length === 1);
    expect(of('start')).toHaveLength(0);
    expect(failure(of('failure')[0])).toMatch(/does not match its schema: key: /);
    expect(of('failure')[0]!.job.attemptsMade).toBe(1);
  });

  it('deduplicates by jobId while the job exists', async () => {
    const { jobs, of, until } = instance();
    const first = await jobs.schedule({ task: 'record', input: { key: 'once' }, options: { jobId: 'report-7', delay: 300 } });
    const second = await jobs.enqueue({ task: 'record', input: { key: 'twice' }, jobId: 'report-7' });
    expect([first, second]).toEqual(['report-7', 'report-7']);
    await until('the run', () => of('done').length === 1);
    await sleep(300);
    expect(of('done').map(payload)).toEqual([{ key: 'once' }]);
    // Kept as completed: still deduplicated.
    expect(await jobs.schedule({ task: 'record', input: { key: 'again' }, jobId: 'report-7' })).toBe('report-7');
    await sleep(200);
    expect(of('done')).toHaveLength(1);
    await expect(jobs.schedule({ task: 'record', input: { key: 'x' }, jobId: 'a:b' })).rejects.toThrow(/jobId must be/);
    await expect(jobs.schedule({ task: 'record', input: { key: 'x' }, jobId: '12' })).rejects.toThrow(/jobId must be/);
  });

  it('runs a repeating job once per period, up to its limit', async () => {
    const { jobs, of, until } = instance();
    const id = await jobs.schedule({ task: 'record', input: { key: 'tick' }, options: { repeat: { every: 300, limit: 3 } } });
    expect(id).toBe('record');
    await until('three runs', () => of('done').length === 3, 5_000);
    await sleep(600);
    const runs = of('done');
    expect(runs).toHaveLength(3);
    // Each run is the schedule's job for one period: `repeat:<schedule>:<due time>`, the first due at once.
    const due = runs.map((run) => Number(/^repeat:record:(\d+)$/.exec(run.job.id)?.[1]));
    expect(due[1]! - due[0]!).toBe(300);
    expect(due[2]! - due[1]!).toBe(300);
    for (const [index, run] of runs.entries()) expect(run.at).toBeGreaterThanOrEqual(due[index]!);
  });

  it('runs a cron schedule at the next matching second', async () => {
    const { jobs, of, until } = instance();
    await jobs.schedule({ task: 'record', input: { key: 'cron' }, jobId: 'every-second', repeat: { cron: '* * * * * *', limit: 1 } });
    await until('the cron run', () => of('done').length === 1, 3_000);
    await expect(jobs.schedule({ task: 'record', input: { key: 'x' }, repeat: { cron: 'not a pattern' } })).rejects.toThrow();
    await expect(jobs.schedule({ task: 'record', input: { key: 'x' }, repeat: { every: 100, cron: '* * * * *' } })).rejects.toThrow(/exactly one of/);
  });

  it('stores payloads as JSON: a Date arrives as its ISO string', async () => {
    const { jobs, of, until } = instance();
    const when = new Date('2030-01-02T03:04:05.000Z');
    await jobs.schedule({ task: 'record', input: { key: 'date', extra: { when } } });
    await until('the run', () => of('done').length === 1);
    expect(payload(of('done')[0])).toEqual({ key: 'date', extra: { when: '2030-01-02T03:04:05.000Z' } });
  });

  it('runs at most `concurrency` jobs at once per queue', async () => {
    const { jobs, of, until } = instance({ concurrency: 2 });
    for (let index = 0; index < 6; index++) await jobs.schedule({ task: 'slow', input: { ms: 150, key: String(index) } });
    await until('six runs', () => of('done').length === 6);
    const events = [...of('start').map((record) => ({ at: record.at, delta: 1 })), ...of('done').map((record) => ({ at: record.at, delta: -1 }))].sort(
      (a, b) => a.at - b.at || a.delta - b.delta,
    );
    let running = 0;
    let most = 0;
    for (const event of events) most = Math.max(most, (running += event.delta));
    expect(most).toBe(2);
  });

  it('stops taking jobs when the workers stop, and lets the running job finish first', async () => {
    const { jobs, queue, of, until, depth } = instance({ concurrency: 1 });
    await jobs.schedule({ task: 'slow', input: { ms: 400, key: 'running' } });
    await until('the slow job to start', () => of('start').length === 1);
    await jobs.schedule({ task: 'slow', input: { ms: 0, key: 'queued' } });
    await queue.stopWorkers();
    expect(of('done').map((record) => (payload(record) as { key: string }).key)).toEqual(['running']);
    expect(of('success')).toHaveLength(1);
    await sleep(200);
    expect(of('start')).toHaveLength(1);
    expect(await depth('waiting')).toBe(1);
  });
});

describe('job workers whose blocking connection is reconnecting when they stop', () => {
  it('let it reconnect, then stop gracefully (the running job finishes), rather than wait for an end that never comes', async () => {
    const server = await redisServer('standalone');
    const connections = server.connections();
    const namespace = `tasks${++namespaces}`;
    const records: JobRecord[] = [];
    const registered = createTestJobs((record) => records.push(record), namespace);
    const queue = createJobQueue({
      registered,
      settings: SETTINGS,
      redis: connections,
      services: { context: { instanceId: 'contract' }, logger: silentLogger, realtime: disabledRealtime },
      instanceId: 'contract',
      logger: silentLogger,
    });
    const jobs = createJobsClient(registered);
    const detach = attachJobQueue(jobs, queue);
    try {
      const { command } = connections;
      // A job runs while the connection drops; stopping lets it finish, once.
      await jobs[namespace]!.schedule({ task: 'slow', input: { ms: 500, key: 'running' } });
      for (const deadline = Date.now() + 10_000; !records.some((record) => record.kind === 'start') && Date.now() < deadline; ) await sleep(10);
      // The worker's copy of its connection that blocks waiting for jobs.
      const waiting = async () => {
        const line = String(await command.client('LIST'))
          .split('\n')
          .find((client) => / cmd=bzpopmin /.test(client));
        return line ? /\bid=(\d+)/.exec(line)![1]! : undefined;
      };
      let blocked = await waiting();
      for (const deadline = Date.now() + 10_000; !blocked && Date.now() < deadline; blocked = await waiting()) await sleep(20);
      expect(blocked, 'a worker waits for jobs').toBeDefined();
      await command.client('KILL', 'ID', blocked!);
      // The app's connections wait at least 50 ms (their backoff's floor) before they reconnect.
      await sleep(20);
      const outcome = await Promise.race([queue.close().then(() => 'closed'), sleep(10_000).then(() => 'still closing after 10 s')]);
      expect(outcome).toBe('closed');
      expect(records.filter((record) => record.kind === 'done').map((record) => (payload(record) as { key: string }).key)).toEqual(['running']);
      expect(records.filter((record) => record.kind === 'success')).toHaveLength(1);
    } finally {
      detach();
      await connections.quit();
      await server.close();
    }
  }, 60_000);
});
