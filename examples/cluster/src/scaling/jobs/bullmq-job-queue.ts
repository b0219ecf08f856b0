/**
 * Jobs on Redis through BullMQ: one BullMQ queue per namespace, one job name
 * per task. Any instance schedules, any instance's workers run the job, and
 * Redis decides which one: each job runs once, and a job whose worker died
 * (its lock expired) is handed to another worker.
 *
 * Connections: scheduling shares the app's command connection; the workers
 * share one dedicated connection from src/scaling/redis/, and each opens a
 * copy of it that blocks waiting for jobs (so users, passwords and cluster
 * options apply to every one).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions, type RepeatOptions } from 'bullmq';
import type { JobInfo, JobRequest } from '../../volt/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { RedisConnections } from '../redis/connections.js';
import type { JobOutcomes } from './job-outcomes.js';
import type { JobSettings } from './job-settings.js';
import type { QueueCount, RunningJobQueue } from './running-job-queue.js';

/**
 * Keys of a queue: `jobs:{notes}:notes:wait`, `...:active`, ... The hash tag
 * puts every key of one queue in one cluster slot, so BullMQ's scripts (which
 * touch several keys at once) never cross slots, while different queues
 * spread over the masters. The same keys on a standalone server.
 */
export function queuePrefix(namespace: string): string {
  return `jobs:{${namespace}}`;
}

/** How long a closing worker waits for its blocking connection to reconnect (the app's backoff tops out at 2 s). */
const RECONNECT_WAIT_MS = 3_000;

export interface BullmqJobQueueOptions {
  namespaces: readonly string[];
  /** The namespaces whose jobs this process runs (none: it only schedules). */
  workOn: readonly string[];
  connections: RedisConnections;
  settings: JobSettings;
  outcomes: JobOutcomes;
  instanceId: string;
  logger: Logger;
  metrics?: Metrics | undefined;
}

function info(namespace: string, job: Job): JobInfo {
  return {
    id: job.id ?? '',
    name: job.name,
    namespace,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    createdAt: new Date(job.timestamp),
  };
}

/** A client that has connected at least once; none while it is still connecting or when it never could. */
async function connectedOnce<T>(client: Promise<T> | undefined): Promise<T | undefined> {
  // A settled promise wins the race over the `undefined` after it.
  return client && Promise.race([client, undefined]).catch(() => undefined);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createBullmqJobQueue(options: BullmqJobQueueOptions): RunningJobQueue {
  const { connections, settings, outcomes, logger, metrics } = options;
  const retention: Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> = {
    removeOnComplete: { count: settings.keepCompleted, age: Math.ceil(settings.keepCompletedMs / 1000) },
    removeOnFail: { count: settings.keepFailed, age: Math.ceil(settings.keepFailedMs / 1000) },
  };

  const queues = new Map<string, Queue>();
  for (const namespace of options.namespaces) {
    const queue = new Queue(namespace, { connection: connections.command, prefix: queuePrefix(namespace) });
    // The shared connection's errors are counted and logged where it is made.
    queue.on('error', (error) => logger.debug({ err: error, queue: namespace }, 'job queue error'));
    queues.set(namespace, queue);
  }

  const workerConnection = options.workOn.length > 0 ? connections.worker('jobs') : undefined;
  const workers = options.workOn.map((namespace) => {
    const worker = new Worker(
      namespace,
      // Life of a job, step 4: on whichever instance's worker took the job.
      async (job: Job) => {
        try {
          return await outcomes.attempt(info(namespace, job), job.data);
        } catch (error) {
          // BullMQ fails an UnrecoverableError at once, whatever attempts remain.
          if (outcomes.isPermanent(error)) throw new UnrecoverableError((error as Error).message);
          throw error;
        }
      },
      {
        connection: workerConnection!,
        prefix: queuePrefix(namespace),
        name: options.instanceId,
        concurrency: settings.concurrency,
        lockDuration: settings.lockMs,
        stalledInterval: settings.lockMs,
        // A job whose worker died is run again once; dying a second time fails it.
        maxStalledCount: 1,
      },
    );
    // The worker's own errors (its blocking copy included) count against the worker connection.
    const connection = 'worker:jobs';
    // Life of a job, step 5: BullMQ has recorded the outcome.
    worker.on('completed', (job, result) => outcomes.completed(info(namespace, job), job.data, result));
    worker.on('failed', (job, error) => {
      // `finishedOn` is set only when the job failed for good (no attempt left).
      if (job) outcomes.failed(info(namespace, job), job.data, error, typeof job.finishedOn === 'number');
    });
    worker.on('stalled', (jobId) => logger.warn({ queue: namespace, jobId }, 'job stalled (its worker stopped renewing the lock): queued to run again'));
    worker.on('error', (error) => {
      metrics?.redisCommandErrorsTotal.inc({ connection });
      logger.warn({ err: error, queue: namespace }, 'job worker error');
    });
    return worker;
  });

  function queueOf(namespace: string): Queue {
    const queue = queues.get(namespace);
    if (!queue) throw new Error(`no job queue ${namespace}`);
    return queue;
  }

  /**
   * Closes a worker: it stops fetching, its running jobs finish, its connections close.
   * Without Redis no running job can record its outcome (its lock expires and another
   * worker runs it again), and BullMQ would wait for a connection: close at once.
   */
  async function closeWorker(worker: Worker): Promise<void> {
    if (workerConnection?.status !== 'ready') return worker.close(true);
    // A graceful close ends the worker's blocking copy of the connection and waits for
    // its `end`, which ioredis never emits for a copy still waiting to reconnect after
    // a drop: give it time to come back first, and if it does not, close at once.
    const blocking = await connectedOnce(worker.backend.blockingClient);
    for (const deadline = Date.now() + RECONNECT_WAIT_MS; blocking && blocking.status !== 'ready' && Date.now() < deadline; ) await sleep(50);
    return worker.close(blocking !== undefined && blocking.status !== 'ready');
  }

  let stopped: Promise<void> | undefined;
  const stopWorkers = () =>
    (stopped ??= (async () => {
      await Promise.all(workers.map(closeWorker));
      await outcomes.settled();
    })());

  return {
    backend: 'bullmq',
    /** Life of a job, step 3. */
    async add(request: JobRequest) {
      const queue = queueOf(request.namespace);
      const { attempts, backoff, delay, jobId, repeat } = request.options;
      const jobOptions: JobsOptions = { attempts, backoff, ...retention };
      if (repeat) {
        const schedulerId = jobId ?? request.task;
        const repeatOptions: Omit<RepeatOptions, 'key'> = {};
        if (repeat.every !== undefined) repeatOptions.every = repeat.every;
        if (repeat.cron !== undefined) repeatOptions.pattern = repeat.cron;
        if (repeat.tz !== undefined) repeatOptions.tz = repeat.tz;
        if (repeat.limit !== undefined) repeatOptions.limit = repeat.limit;
        if (repeat.startDate !== undefined) repeatOptions.startDate = repeat.startDate;
        if (repeat.endDate !== undefined) repeatOptions.endDate = repeat.endDate;
        await queue.upsertJobScheduler(schedulerId, repeatOptions, { name: request.task, data: request.payload, opts: jobOptions });
        return schedulerId;
      }
      const job = await queue.add(request.task, request.payload, { ...jobOptions, delay, ...(jobId ? { jobId } : {}) });
      return job.id!;
    },
    stopWorkers,
    async close() {
      await stopWorkers();
      // The queues share the app's command connection: closing them leaves it open.
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
    async counts() {
      const rows = await Promise.all(
        [...queues].map(async ([namespace, queue]): Promise<QueueCount[]> => {
          const counts = await withTimeout(queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'failed'), settings.countsTimeoutMs, 'job counts');
          const byState = {
            waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
            delayed: counts.delayed ?? 0,
            active: counts.active ?? 0,
            failed: counts.failed ?? 0,
          };
          return Object.entries(byState).map(([state, count]) => ({ queue: namespace, state, count }));
        }),
      );
      return rows.flat();
    },
  };
}
