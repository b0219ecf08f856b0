/**
 * Job workers as separate processes on a real 6-node Redis Cluster: a
 * repeating job scheduled by three instances runs once per period; the
 * master holding the queue is killed (SIGKILL) while jobs run, and every job
 * still completes; and no command of BullMQ's ever gets CROSSSLOT (the queue's
 * keys share one hash tag).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queuePrefix } from '../../src/scaling/jobs/index.js';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import type { AppProcess } from '../support/app-process.js';
import { createProducer, readJobLog, startJobInstances, waitForLog } from '../support/job-processes.js';
import { startCluster, type RedisCluster } from '../support/redis-servers.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;

/** `errorstat_<CODE>:count=N` lines of every running node, by node. */
async function errorStats(cluster: RedisCluster): Promise<string[]> {
  const stats: string[] = [];
  for (const node of cluster.nodes.filter((candidate) => candidate.isRunning)) {
    const text = await node.cli('INFO', 'errorstats');
    for (const line of text.split('\n').filter((entry) => entry.startsWith('errorstat_'))) stats.push(`${node.address} ${line.trim()}`);
  }
  return stats;
}

describe('job workers in separate processes (6-node Redis Cluster)', () => {
  let cluster: RedisCluster;
  let dir: string;
  let producer: ReturnType<typeof createProducer>;
  let workers: AppProcess[] = [];
  let logs = 0;

  beforeAll(async () => {
    cluster = await startCluster();
    dir = mkdtempSync(join(tmpdir(), 'job-cluster-'));
    producer = createProducer(readRedisSettings({ REDIS_CLUSTER_NODES: cluster.nodeList }) as Connected);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    workers = [];
    // Each test starts from an empty queue (the schedule of the repeating job goes too).
    for (const node of cluster.nodes.filter((candidate) => candidate.isRunning)) {
      if ((await node.cli('ROLE')).startsWith('master')) await node.cli('FLUSHALL');
    }
  });
  afterAll(async () => {
    await producer?.close();
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function setup(extra: Record<string, string> = {}) {
    const log = join(dir, `jobs-${++logs}.log`);
    const env = { REDIS_CLUSTER_NODES: cluster.nodeList, JOBS_LOCK_MS: '2000', JOB_LOG: log, ...extra };
    return { log, env };
  }

  it('a repeating job that three instances schedule runs once per period', async () => {
    const { log, env } = setup({ REPEAT_EVERY_MS: '400', JOBS_CONCURRENCY: '2' });
    workers = await startJobInstances(['worker-a', 'worker-b', 'worker-c'], env);
    const lines = await waitForLog(log, 'six periods', (all) => all.filter((line) => line.kind === 'done').length >= 6, 20_000);
    const due = lines.filter((line) => line.kind === 'done').map((line) => Number(/^repeat:tick:(\d+)$/.exec(line.jobId)?.[1]));
    expect(new Set(due).size).toBe(due.length);
    const sorted = [...due].sort((a, b) => a - b);
    for (let index = 1; index < sorted.length; index++) expect(sorted[index]! - sorted[index - 1]!).toBe(400);
  }, 60_000);

  it('the master holding the queue is killed while jobs run: every job still completes', async () => {
    const { log, env } = setup({ JOBS_CONCURRENCY: '4' });
    workers = await startJobInstances(['worker-a', 'worker-b', 'worker-c'], env);
    const master = await cluster.masterFor(`${queuePrefix('tasks')}:tasks:wait`);

    const scheduled: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      scheduled.push(
        ...(await Promise.all(Array.from({ length: 30 }, (_, n) => producer.tasks.schedule({ task: 'slow', input: { ms: 100, key: `${batch}-${n}` } })))),
      );
    }
    await waitForLog(log, '40 completed jobs', (all) => all.filter((line) => line.kind === 'success').length >= 40);
    const failover = cluster.killMaster(master);
    // Scheduled while the master is down: each one acknowledged must complete too.
    const during = await Promise.allSettled(
      Array.from({ length: 20 }, (_, n) => producer.tasks.schedule({ task: 'slow', input: { ms: 100, key: `during-${n}` } })),
    );
    const { failoverMs } = await failover;
    const acknowledged = [...scheduled, ...during.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))];

    const lines = await waitForLog(
      log,
      `all ${acknowledged.length} acknowledged jobs to complete`,
      (all) => {
        const completed = new Set(all.filter((line) => line.kind === 'success').map((line) => line.jobId));
        return acknowledged.every((id) => completed.has(id));
      },
      90_000,
    );
    const runs = lines.filter((line) => line.kind === 'done');
    const report = {
      failoverMs,
      acknowledged: acknowledged.length,
      refusedDuringFailover: during.filter((result) => result.status === 'rejected').length,
      runs: runs.length,
      ranTwice: runs.length - new Set(runs.map((line) => line.jobId)).size,
      byInstance: Object.fromEntries(workers.map((worker) => [worker.name, runs.filter((line) => line.instance === worker.name).length])),
    };
    console.log('jobs through a master failover:', JSON.stringify(report));
    expect(lines.filter((line) => line.kind === 'failure')).toEqual([]);
    expect((await producer.queue.counts()).filter((row) => row.queue === 'tasks' && row.state === 'failed')).toEqual([
      { queue: 'tasks', state: 'failed', count: 0 },
    ]);
    await cluster.restart(master);
  }, 180_000);

  it('no command got CROSSSLOT on any node', async () => {
    expect(readJobLog(join(dir, 'jobs-1.log')).length).toBeGreaterThan(0);
    expect((await errorStats(cluster)).filter((line) => /CROSSSLOT/.test(line))).toEqual([]);
    // The check sees one: two keys in different slots, in one command.
    const node = cluster.nodes.find((candidate) => candidate.isRunning)!;
    await node.cli('MSET', 'a', '1', 'b', '2');
    expect((await errorStats(cluster)).filter((line) => /CROSSSLOT/.test(line))).toEqual([`${node.address} errorstat_CROSSSLOT:count=1`]);
  });
});
