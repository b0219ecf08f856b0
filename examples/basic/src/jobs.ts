import { createJobs } from './volt/index.js';
import type { AppContext } from './volt.js';

/**
 * The app's job definer (Volt's `jobs`): each feature registers its jobs in
 * `features/<name>/<name>.jobs.ts` with `jobs.register` and `jobs.router`,
 * and `features/jobs.ts` merges the routers. Handlers get the same context as
 * actions. These options apply to every job unless a router, a job or a
 * `schedule` call sets its own.
 */
export const jobs = createJobs<AppContext>({
  defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 1_000 } },
});
