/**
 * The job queue of an app: BullMQ on Redis when Redis is configured, the
 * in-memory runner otherwise (`npm run dev`), behind one interface. `app.ts`
 * attaches it to `volt.jobs`, and the shutdown stops its workers.
 */
import { createJobRunner, type JobRunnerServices, type RegisteredJobs } from '../../volt/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { RedisConnections } from '../redis/connections.js';
import { createBullmqJobQueue } from './bullmq-job-queue.js';
import { createJobOutcomes } from './job-outcomes.js';
import type { JobSettings } from './job-settings.js';
import { createMemoryJobQueue } from './memory-job-queue.js';
import type { RunningJobQueue } from './running-job-queue.js';

export { queuePrefix } from './bullmq-job-queue.js';
export type { JobSettings } from './job-settings.js';
export type { QueueCount, RunningJobQueue } from './running-job-queue.js';

export interface JobQueueOptions {
  registered: RegisteredJobs;
  settings: JobSettings;
  /** The app's Redis; undefined: the in-memory runner. */
  redis: RedisConnections | undefined;
  /** What handlers and hooks get: the app context, the logger, realtime. */
  services: JobRunnerServices;
  instanceId: string;
  logger: Logger;
  metrics?: Metrics | undefined;
}

/** The namespaces `settings.queues` names, checked against the registered ones. */
export function selectQueues(settings: Pick<JobSettings, 'workers' | 'queues'>, namespaces: readonly string[]): string[] {
  if (!settings.workers) return [];
  if (settings.queues === '*') return [...namespaces];
  const unknown = settings.queues.filter((name) => !namespaces.includes(name));
  if (unknown.length > 0) {
    throw new Error(`JOBS_QUEUES: no job namespace ${unknown.map((name) => `"${name}"`).join(', ')} (registered: ${namespaces.join(', ') || 'none'})`);
  }
  return [...settings.queues];
}

export function createJobQueue(options: JobQueueOptions): RunningJobQueue {
  const runner = createJobRunner(options.registered, options.services);
  const outcomes = createJobOutcomes(runner, { logger: options.logger, metrics: options.metrics });
  const workOn = selectQueues(options.settings, runner.namespaces);
  if (!options.redis && workOn.length < runner.namespaces.length) {
    options.logger.warn({ queues: runner.namespaces }, 'JOBS_WORKERS/JOBS_QUEUES ignored without Redis: the in-memory runner runs every job in this process');
  }
  const queue = options.redis
    ? createBullmqJobQueue({ ...options, namespaces: runner.namespaces, workOn, connections: options.redis, outcomes })
    : // Without Redis this process is the only one that can run the jobs: it runs them all.
      createMemoryJobQueue({ namespaces: runner.namespaces, settings: options.settings, outcomes, logger: options.logger });
  // Counted at each scrape; a queue that cannot be read (Redis down) reports nothing.
  options.metrics?.trackJobQueues(() => queue.counts().catch(() => []));
  return queue;
}
