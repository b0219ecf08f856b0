/**
 * Job workers as separate processes on one Redis (standalone): a worker
 * killed mid-job (SIGKILL) leaves the job to another worker, which completes
 * it; a worker sent SIGTERM stops taking jobs and finishes the one it runs,
 * or, past the shutdown deadline, leaves it to another worker; a repeating
 * job scheduled by three instances runs once per period.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import type { AppProcess } from '../support/app-process.js';
import { createProducer, readJobLog, startJobInstances, waitForLog } from '../support/job-processes.js';
import { startStandalone, type StandaloneRedis } from '../support/redis-servers.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;

describe('job workers in separate processes (standalone Redis)', () => {
  let redis: StandaloneRedis;
  let dir: string;
  let producer: ReturnType<typeof createProducer>;
  let workers: AppProcess[] = [];
  let logs = 0;

  beforeAll(async () => {
    redis = await startStandalone();
    dir = mkdtempSync(join(tmpdir(), 'job-workers-'));
    producer = createProducer(readRedisSettings({ REDIS_URL: redis.url }) as Connected);
  });
  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    workers = [];
    // Each test starts from an empty queue.
    await redis.node.cli('FLUSHALL');
  });
  afterAll(async () => {
    await producer?.close();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh log file and the environment of worker processes writing to it. */
  function setup(extra: Record<string, string> = {}) {
    const log = join(dir, `jobs-${++logs}.log`);
    // A 2 s lock: a dead worker's job is taken over within about 4 s (lock expiry + the next stalled check).
    const env = { REDIS_URL: redis.url, JOBS_LOCK_MS: '2000', JOBS_CONCURRENCY: '1', JOB_LOG: log, ...extra };
    return { log, env };
  }

  it('a worker killed mid-job (SIGKILL) leaves the job to another worker, which completes it', async () => {
    const { log, env } = setup();
    workers = await startJobInstances(['worker-a', 'worker-b'], env);
    // One attempt: taking over a dead worker's job is not a retry.
    const id = await producer.tasks.schedule({ task: 'slow', input: { ms: 2_000 }, attempts: 1 });
    const [started] = await waitForLog(log, `job ${id} to start`, (lines) => lines.some((line) => line.kind === 'start' && line.jobId === id));
    const victim = workers.find((worker) => worker.name === started!.instance)!;
    const survivor = workers.find((worker) => worker !== victim)!;
    await sleep(300);
    await victim.kill();

    const lines = await waitForLog(log, `job ${id} to complete`, (all) => all.some((line) => line.kind === 'success' && line.jobId === id), 20_000);
    const ofJob = lines.filter((line) => line.jobId === id);
    expect(ofJob.filter((line) => line.kind === 'start').map((line) => line.instance)).toEqual([victim.name, survivor.name]);
    expect(ofJob.filter((line) => line.kind === 'done').map((line) => line.instance)).toEqual([survivor.name]);
    expect(ofJob.filter((line) => line.kind === 'success').map((line) => line.instance)).toEqual([survivor.name]);
    expect(ofJob.filter((line) => line.kind === 'failure')).toEqual([]);
    expect(survivor.output()).toMatch(/job stalled/);
  }, 60_000);

  it('SIGTERM: the worker stops taking jobs, finishes the one it runs and exits 0; the others run the rest', async () => {
    const { log, env } = setup();
    workers = await startJobInstances(['worker-a', 'worker-b'], env);
    const id = await producer.tasks.schedule({ task: 'slow', input: { ms: 1_500 } });
    const [started] = await waitForLog(log, `job ${id} to start`, (lines) => lines.some((line) => line.kind === 'start' && line.jobId === id));
    const stopping = workers.find((worker) => worker.name === started!.instance)!;
    const other = workers.find((worker) => worker !== stopping)!;

    const signalledAt = Date.now();
    const stopped = stopping.stop();
    await sleep(100);
    const later = await Promise.all([1, 2, 3, 4].map((n) => producer.tasks.schedule({ task: 'record', input: { key: `after-${n}` } })));
    await stopped;
    expect(stopping.exitCode()).toBe(0);

    const lines = await waitForLog(log, 'the jobs scheduled after SIGTERM', (all) =>
      later.every((jobId) => all.some((line) => line.kind === 'done' && line.jobId === jobId)),
    );
    expect(lines.filter((line) => line.kind === 'done' && line.jobId === id).map((line) => line.instance)).toEqual([stopping.name]);
    expect(lines.filter((line) => line.kind === 'success' && line.jobId === id).map((line) => line.instance)).toEqual([stopping.name]);
    expect(lines.filter((line) => line.kind === 'start' && later.includes(line.jobId)).map((line) => line.instance)).toEqual(later.map(() => other.name));
    expect(lines.filter((line) => line.instance === stopping.name && line.kind === 'start' && line.at > signalledAt)).toEqual([]);
  }, 60_000);

  it('SIGTERM past the shutdown deadline: the worker exits 1 and another worker completes its job', async () => {
    const { log, env } = setup({ SHUTDOWN_TIMEOUT_MS: '1000' });
    workers = await startJobInstances(['worker-a', 'worker-b'], env);
    const id = await producer.tasks.schedule({ task: 'slow', input: { ms: 3_000 }, attempts: 1 });
    const [started] = await waitForLog(log, `job ${id} to start`, (lines) => lines.some((line) => line.kind === 'start' && line.jobId === id));
    const stopping = workers.find((worker) => worker.name === started!.instance)!;
    const other = workers.find((worker) => worker !== stopping)!;
    await stopping.stop();
    expect(stopping.exitCode()).toBe(1);
    expect(stopping.output()).toMatch(/shutdown deadline passed/);

    const lines = await waitForLog(log, `job ${id} to complete`, (all) => all.some((line) => line.kind === 'success' && line.jobId === id), 20_000);
    expect(lines.filter((line) => line.kind === 'done' && line.jobId === id).map((line) => line.instance)).toEqual([other.name]);
  }, 60_000);

  it('a repeating job that three instances schedule runs once per period', async () => {
    const { log, env } = setup({ REPEAT_EVERY_MS: '400', JOBS_CONCURRENCY: '2' });
    workers = await startJobInstances(['worker-a', 'worker-b', 'worker-c'], env);
    const lines = await waitForLog(log, 'eight periods', (all) => all.filter((line) => line.kind === 'done').length >= 8, 20_000);
    const runs = lines.filter((line) => line.kind === 'done');
    const due = runs.map((line) => Number(/^repeat:tick:(\d+)$/.exec(line.jobId)?.[1]));
    // Each period's job ran once: no due time twice, and consecutive ones one period apart.
    expect(new Set(due).size).toBe(due.length);
    const sorted = [...due].sort((a, b) => a - b);
    for (let index = 1; index < sorted.length; index++) expect(sorted[index]! - sorted[index - 1]!).toBe(400);
    await sleep(1_000);
    const after = readJobLog(log).filter((line) => line.kind === 'done');
    expect(new Set(after.map((line) => line.jobId)).size).toBe(after.length);
  }, 60_000);
});
