// Volt's services/jobs.ts: the job definer of the app, with default
// options for every job. Volt builds it with its BullMQ adapter factory; here
// it is the kernel's `createJobs` (the app attaches the queue: BullMQ on
// Redis, or in memory).
import { createJobs } from '../../../../src/volt/index.js';
import type { AppContext } from './context.js';

export const jobs = createJobs<AppContext>({
  defaultJobOptions: {
    attempts: 3, // Retry a failed job up to 3 times
    backoff: {
      type: 'exponential',
      delay: 1000, // Wait 1s before the first retry, 2s for the second, etc.
    },
  },
});
