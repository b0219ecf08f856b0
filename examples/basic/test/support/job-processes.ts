/**
 * Helpers for tests that run jobs in several processes: job-instance.ts
 * processes, the log they share, and a producer in the test process that
 * schedules without running anything (JOBS_WORKERS=off, as an API instance
 * configured to leave jobs to workers would).
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createJobQueue, type JobSettings } from '../../src/scaling/jobs/index.js';
import { createRedisConnections } from '../../src/scaling/redis/connections.js';
import type { RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { attachJobQueue, silentLogger } from '../../src/volt/index.js';
import { createJobsClient } from '../../src/volt/jobs.js';
import { disabledRealtime } from '../../src/volt/realtime.js';
import { startApp, type AppProcess } from './app-process.js';
import { createTestJobs } from './test-jobs.js';

export interface JobLogLine {
  kind: 'start' | 'done' | 'success' | 'failure';
  jobId: string;
  instance: string;
  at: number;
  task: string;
}

export function readJobLog(file: string): JobLogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, jobId, instance, at, task] = line.split(' ');
      return { kind: kind as JobLogLine['kind'], jobId: jobId!, instance: instance!, at: Number(at), task: task! };
    });
}

export async function waitForLog(file: string, what: string, check: (lines: JobLogLine[]) => boolean, timeoutMs = 30_000): Promise<JobLogLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = readJobLog(file);
    if (check(lines)) return lines;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; log:\n${lines
          .slice(-40)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      );
    await sleep(50);
  }
}

/** Job-instance processes named `names`, all with `env` (REDIS_*, JOBS_*, JOB_LOG...). */
export function startJobInstances(names: string[], env: Record<string, string>): Promise<AppProcess[]> {
  return Promise.all(
    names.map((name) => startApp(name, { JOBS_WORKERS: 'on', ...env }, { entry: 'test/support/job-instance.ts', ready: /"msg":"job instance ready"/ })),
  );
}

const PRODUCER_SETTINGS: JobSettings = {
  workers: false,
  concurrency: 1,
  queues: '*',
  lockMs: 30_000,
  keepCompleted: 10_000,
  keepCompletedMs: 3_600_000,
  keepFailed: 10_000,
  keepFailedMs: 3_600_000,
  countsTimeoutMs: 1_000,
};

/** `volt.jobs` for the test jobs in the test process: schedules, runs nothing. */
export function createProducer(redis: Exclude<RedisSettings, { mode: 'none' }>) {
  const connections = createRedisConnections(redis);
  const registered = createTestJobs(() => {
    throw new Error('the producer runs no jobs');
  });
  const queue = createJobQueue({
    registered,
    settings: PRODUCER_SETTINGS,
    redis: connections,
    services: { context: { instanceId: 'producer' }, logger: silentLogger, realtime: disabledRealtime },
    instanceId: 'producer',
    logger: silentLogger,
  });
  const jobs = createJobsClient(registered);
  attachJobQueue(jobs, queue);
  return {
    tasks: jobs.tasks!,
    queue,
    async close() {
      await queue.close();
      await connections.quit();
    },
  };
}
