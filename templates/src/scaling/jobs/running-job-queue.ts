import type { JobQueue } from '../../volt/index.js';

/** Jobs of one queue in one state. */
export interface QueueCount {
  queue: string;
  state: string;
  count: number;
}

/** A job queue as the app runs it: `volt.jobs` adds to it; its workers run the jobs. */
export interface RunningJobQueue extends JobQueue {
  /** Where jobs wait: Redis through BullMQ, or this process's memory. */
  readonly backend: 'bullmq' | 'memory';
  /** Takes no more jobs; resolves once the running ones and their hooks finished. */
  stopWorkers(): Promise<void>;
  /** Stops the workers, then scheduling (call it once nothing schedules any more). */
  close(): Promise<void>;
  /** Jobs per queue and state: waiting, delayed, active, failed. */
  counts(): Promise<QueueCount[]>;
}
