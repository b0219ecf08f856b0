import { performance } from 'node:perf_hooks';
import { JobPayloadError, type JobInfo, type JobRunner } from '../../volt/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';

export interface JobOutcomesOptions {
  logger: Logger;
  metrics?: Metrics | undefined;
}

/**
 * What every job queue does around a job: times each attempt, counts the
 * outcomes, logs failures, and calls the job's hooks once the queue has
 * recorded the outcome. Hooks are tracked, so stopping the workers also
 * waits for the hooks of the jobs they finished.
 */
export function createJobOutcomes(runner: JobRunner, options: JobOutcomesOptions) {
  const { logger, metrics } = options;
  const hooks = new Set<Promise<void>>();
  // A series per task from the start, so a rate reads 0 rather than nothing.
  for (const { namespace, task } of runner.tasks) {
    const labels = { queue: namespace, task };
    metrics?.jobsCompletedTotal.inc(labels, 0);
    metrics?.jobsFailedTotal.inc(labels, 0);
    metrics?.jobsRetriesTotal.inc(labels, 0);
  }

  function track(hook: Promise<void>): void {
    hooks.add(hook);
    void hook.finally(() => hooks.delete(hook));
  }

  const describe = (info: JobInfo) => ({ job: `${info.namespace}.${info.name}`, jobId: info.id, attemptsMade: info.attemptsMade, attempts: info.attempts });

  return {
    /** Runs one attempt: the payload parsed, the handler called, the time observed. */
    async attempt(info: JobInfo, data: unknown): Promise<unknown> {
      const started = performance.now();
      let outcome: 'completed' | 'failed' = 'failed';
      try {
        const result = await runner.run(info, data);
        outcome = 'completed';
        return result;
      } finally {
        metrics?.jobsDuration.observe({ queue: info.namespace, task: info.name, outcome }, (performance.now() - started) / 1000);
      }
    },

    /** The queue recorded the job as completed. */
    completed(info: JobInfo, data: unknown, result: unknown): void {
      metrics?.jobsCompletedTotal.inc({ queue: info.namespace, task: info.name });
      track(runner.succeeded(info, data, result));
    },

    /** The queue recorded a failed attempt: retried later, or (`final`) failed for good. */
    failed(info: JobInfo, data: unknown, error: Error, final: boolean): void {
      const labels = { queue: info.namespace, task: info.name };
      if (!final) {
        metrics?.jobsRetriesTotal.inc(labels);
        logger.warn({ ...describe(info), err: error }, 'job attempt failed, will retry');
        return;
      }
      metrics?.jobsFailedTotal.inc(labels);
      logger.error({ ...describe(info), err: error }, 'job failed');
      track(runner.failed(info, data, error));
    },

    /** A failure that retrying cannot fix (the payload does not match the job's schema). */
    isPermanent(error: unknown): boolean {
      return error instanceof JobPayloadError;
    },

    /** Resolves once every hook started so far has finished. */
    async settled(): Promise<void> {
      while (hooks.size > 0) await Promise.allSettled([...hooks]);
    },
  };
}

export type JobOutcomes = ReturnType<typeof createJobOutcomes>;
