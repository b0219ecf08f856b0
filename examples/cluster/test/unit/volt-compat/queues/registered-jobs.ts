// Step B of Volt's queues guide: the routers merged into REGISTERED_JOBS.
import { emailJobRouter } from './email.jobs.js';
import { jobs } from './jobs.js';
import { systemJobRouter } from './system.jobs.js';

export const REGISTERED_JOBS = jobs.merge({
  emails: emailJobRouter,
  system: systemJobRouter,
});
