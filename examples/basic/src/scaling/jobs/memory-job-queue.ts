/**
 * Jobs without Redis (`npm run dev`): the same rules as the BullMQ queue, in
 * this process. Payloads go through JSON as they would through Redis; delays,
 * attempts with backoff, job ids that deduplicate, repeating schedules and
 * the concurrency limit behave the same. Jobs live only as long as the
 * process: what is still waiting at exit is dropped (and logged).
 */
import { CronExpressionParser } from 'cron-parser';
import type { JobInfo, JobRepeat, JobRequest, ResolvedJobOptions } from '../../volt/index.js';
import type { Logger } from '../logger.js';
import type { JobOutcomes } from './job-outcomes.js';
import type { JobSettings } from './job-settings.js';
import type { QueueCount, RunningJobQueue } from './running-job-queue.js';

interface MemoryJob {
  id: string;
  task: string;
  data: unknown;
  options: ResolvedJobOptions;
  attemptsMade: number;
  createdAt: number;
  state: 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';
  finishedAt: number;
}

interface Schedule {
  timer: NodeJS.Timeout | undefined;
  runs: number;
}

export interface MemoryJobQueueOptions {
  namespaces: readonly string[];
  settings: Pick<JobSettings, 'concurrency' | 'keepCompleted' | 'keepCompletedMs' | 'keepFailed' | 'keepFailedMs'>;
  outcomes: JobOutcomes;
  logger: Logger;
}

/** Exponential: `delay`, then twice that, four times... after each failed attempt (as BullMQ computes it). */
export function backoffDelay(options: ResolvedJobOptions, attemptsMade: number): number {
  const { type, delay } = options.backoff;
  return type === 'exponential' ? Math.round(2 ** (attemptsMade - 1) * delay) : delay;
}

/** When a schedule runs next after `after` (ms), or undefined when it is over. */
export function nextRun(repeat: JobRepeat, after: number, runs: number, first: boolean): number | undefined {
  if (repeat.limit !== undefined && runs >= repeat.limit) return undefined;
  const start = repeat.startDate === undefined ? 0 : new Date(repeat.startDate).getTime();
  let next: number;
  if (repeat.every !== undefined) {
    // The first run is right away (or at the start date), then one every period.
    next = first ? Math.max(after, start) : after + repeat.every;
  } else {
    const from = new Date(Math.max(after, start - 1));
    next = CronExpressionParser.parse(repeat.cron!, { currentDate: from, ...(repeat.tz ? { tz: repeat.tz } : {}) })
      .next()
      .getTime();
  }
  if (repeat.endDate !== undefined && next > new Date(repeat.endDate).getTime()) return undefined;
  return next;
}

class MemoryQueue {
  private readonly jobs = new Map<string, MemoryJob>();
  private readonly waiting: MemoryJob[] = [];
  private readonly delayed = new Map<MemoryJob, NodeJS.Timeout>();
  private readonly kept = { completed: [] as MemoryJob[], failed: [] as MemoryJob[] };
  private readonly schedules = new Map<string, Schedule>();
  private lastId = 0;
  private active = 0;
  private stopping = false;
  private idle: (() => void) | undefined;

  constructor(
    readonly namespace: string,
    private readonly options: MemoryJobQueueOptions,
  ) {}

  add(request: JobRequest): string {
    const { options } = request;
    if (options.repeat) return this.upsertSchedule(request, options.repeat);
    if (options.jobId !== undefined && this.jobs.has(options.jobId)) return options.jobId;
    return this.enqueue(options.jobId ?? String(++this.lastId), request.task, request.payload, options, options.delay);
  }

  private enqueue(id: string, task: string, payload: unknown, options: ResolvedJobOptions, delayMs: number): string {
    // Through JSON, as Redis stores it: what reaches the handler is the same either way.
    const data = payload === undefined ? undefined : JSON.parse(JSON.stringify(payload));
    const job: MemoryJob = { id, task, data, options, attemptsMade: 0, createdAt: Date.now(), state: 'waiting', finishedAt: 0 };
    this.jobs.set(id, job);
    if (delayMs > 0) this.delay(job, delayMs);
    else this.push(job);
    return id;
  }

  private upsertSchedule(request: JobRequest, repeat: JobRepeat): string {
    const id = request.options.jobId ?? request.task;
    const previous = this.schedules.get(id);
    if (previous) clearTimeout(previous.timer);
    // Checks the pattern now, as BullMQ does when the schedule is stored.
    const first = nextRun(repeat, Date.now(), 0, true);
    const schedule: Schedule = { timer: undefined, runs: 0 };
    this.schedules.set(id, schedule);
    const plan = (at: number | undefined) => {
      if (at === undefined) {
        this.schedules.delete(id);
        return;
      }
      schedule.timer = setTimeout(
        () => {
          // Timers may fire a millisecond early; a run never starts before its due time.
          if (Date.now() < at) return plan(at);
          schedule.runs++;
          this.enqueue(`repeat:${id}:${at}`, request.task, request.payload, { ...request.options, repeat: undefined, jobId: undefined }, 0);
          plan(nextRun(repeat, at, schedule.runs, false));
        },
        Math.max(0, at - Date.now()),
      );
    };
    plan(first);
    return id;
  }

  private delay(job: MemoryJob, delayMs: number): void {
    job.state = 'delayed';
    this.delayed.set(
      job,
      setTimeout(() => {
        this.delayed.delete(job);
        this.push(job);
      }, delayMs),
    );
  }

  private push(job: MemoryJob): void {
    job.state = 'waiting';
    this.waiting.push(job);
    this.pump();
  }

  private pump(): void {
    while (!this.stopping && this.active < this.options.settings.concurrency && this.waiting.length > 0) {
      void this.run(this.waiting.shift()!);
    }
  }

  private info(job: MemoryJob): JobInfo {
    return {
      id: job.id,
      name: job.task,
      namespace: this.namespace,
      attemptsMade: job.attemptsMade,
      attempts: job.options.attempts,
      createdAt: new Date(job.createdAt),
    };
  }

  private async run(job: MemoryJob): Promise<void> {
    const { outcomes } = this.options;
    this.active++;
    job.state = 'active';
    try {
      const result = await outcomes.attempt(this.info(job), job.data);
      job.attemptsMade++;
      this.finish(job, 'completed');
      outcomes.completed(this.info(job), job.data, result);
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      job.attemptsMade++;
      const final = job.attemptsMade >= job.options.attempts || outcomes.isPermanent(error);
      if (final) this.finish(job, 'failed');
      else this.delay(job, backoffDelay(job.options, job.attemptsMade));
      outcomes.failed(this.info(job), job.data, error, final);
    } finally {
      this.active--;
      if (this.active === 0) this.idle?.();
      this.pump();
    }
  }

  /** Completed and failed jobs are kept (their ids deduplicate) up to a count and an age. */
  private finish(job: MemoryJob, state: 'completed' | 'failed'): void {
    const { settings } = this.options;
    job.state = state;
    job.finishedAt = Date.now();
    const kept = this.kept[state];
    kept.push(job);
    const [limit, maxAgeMs] = state === 'completed' ? [settings.keepCompleted, settings.keepCompletedMs] : [settings.keepFailed, settings.keepFailedMs];
    while (kept.length > limit || (kept.length > 0 && kept[0]!.finishedAt < job.finishedAt - maxAgeMs)) {
      const dropped = kept.shift()!;
      if (this.jobs.get(dropped.id) === dropped) this.jobs.delete(dropped.id);
    }
  }

  counts(): QueueCount[] {
    const counts = { waiting: this.waiting.length, delayed: this.delayed.size, active: this.active, failed: this.kept.failed.length };
    return Object.entries(counts).map(([state, count]) => ({ queue: this.namespace, state, count }));
  }

  /** Takes no more jobs; resolves once the running ones finished. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.active > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }

  /** Drops timers and whatever still waits; returns how many jobs were dropped. */
  close(): number {
    for (const schedule of this.schedules.values()) clearTimeout(schedule.timer);
    for (const timer of this.delayed.values()) clearTimeout(timer);
    const dropped = this.waiting.length + this.delayed.size;
    this.schedules.clear();
    this.delayed.clear();
    this.waiting.length = 0;
    return dropped;
  }
}

export function createMemoryJobQueue(options: MemoryJobQueueOptions): RunningJobQueue {
  const queues = new Map(options.namespaces.map((namespace) => [namespace, new MemoryQueue(namespace, options)]));
  let stopped: Promise<void> | undefined;
  const stopWorkers = () =>
    (stopped ??= (async () => {
      await Promise.all([...queues.values()].map((queue) => queue.stop()));
      await options.outcomes.settled();
    })());
  return {
    backend: 'memory',
    async add(request) {
      const queue = queues.get(request.namespace);
      if (!queue) throw new Error(`no job queue ${request.namespace}`);
      return queue.add(request);
    },
    stopWorkers,
    async close() {
      await stopWorkers();
      let dropped = 0;
      for (const queue of queues.values()) dropped += queue.close();
      if (dropped > 0) options.logger.warn({ dropped }, 'in-memory jobs dropped at shutdown (without Redis, jobs live only in this process)');
    },
    async counts() {
      return [...queues.values()].flatMap((queue) => queue.counts());
    },
  };
}
