/**
 * Jobs for the job-queue tests: each run, completion and hook call is
 * reported to `record`, keyed by job id, so a test counts what ran where.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createJobs, type JobInfo, type RegisteredJobs } from '../../src/volt/index.js';

export type JobRecord =
  | { kind: 'start' | 'done'; task: string; job: JobInfo; payload: unknown; at: number }
  | { kind: 'success'; task: string; job: JobInfo; result: unknown; at: number }
  | { kind: 'failure'; task: string; job: JobInfo; error: string; at: number };

export interface TestJobsContext {
  instanceId: string;
}

/** The test jobs under `namespace` (a fresh name per test keeps queues apart on one Redis). */
export function createTestJobs(record: (event: JobRecord) => void, namespace = 'tasks') {
  const jobs = createJobs<TestJobsContext>({ defaultJobOptions: { attempts: 3, backoff: 100 } });
  const started = (task: string, job: JobInfo, payload: unknown) => record({ kind: 'start', task, job, payload, at: Date.now() });
  const done = (task: string, job: JobInfo, payload: unknown) => record({ kind: 'done', task, job, payload, at: Date.now() });

  const tasks = jobs.router({
    jobs: {
      /** Records the payload it got and returns a value derived from it. */
      record: jobs.register({
        input: z.object({ key: z.string(), extra: z.unknown().optional() }),
        handler: async ({ payload, input, job, context }) => {
          started('record', job, payload);
          done('record', job, payload);
          return { key: payload.key, sameAsInput: payload === input, instanceId: context.instanceId };
        },
      }),
      /** Fails its first `failTimes` attempts. */
      flaky: jobs.register({
        input: z.object({ failTimes: z.number().int().min(0) }),
        handler: async ({ payload, job }) => {
          started('flaky', job, payload);
          if (job.attemptsMade < payload.failTimes) throw new Error(`flaky attempt ${job.attemptsMade + 1}`);
          done('flaky', job, payload);
          return 'ok';
        },
      }),
      /** Always fails. */
      broken: jobs.register({
        input: z.object({ reason: z.string() }),
        handler: async ({ payload, job }) => {
          started('broken', job, payload);
          throw new Error(payload.reason);
        },
      }),
      /** Takes `ms` to finish. */
      slow: jobs.register({
        input: z.object({ ms: z.number().int().min(0), key: z.string().optional() }),
        handler: async ({ payload, job }) => {
          started('slow', job, payload);
          await sleep(payload.ms);
          done('slow', job, payload);
        },
      }),
    },
    onSuccess: ({ name, id, namespace, attemptsMade, attempts, createdAt, result }) =>
      record({ kind: 'success', task: name, job: { id, name, namespace, attemptsMade, attempts, createdAt }, result, at: Date.now() }),
    onFailure: ({ name, id, namespace, attemptsMade, attempts, createdAt }, error) =>
      record({ kind: 'failure', task: name, job: { id, name, namespace, attemptsMade, attempts, createdAt }, error: error.message, at: Date.now() }),
  });

  // Typed as one namespace named `namespace`: `client[namespace].schedule(...)`.
  return jobs.merge({ [namespace]: tasks }) as unknown as RegisteredJobs<Record<string, (typeof tasks)['jobs']>>;
}

export type TestJobs = ReturnType<typeof createTestJobs>;
