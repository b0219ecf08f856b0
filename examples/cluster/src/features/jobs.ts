/**
 * Every feature's background jobs, merged into the app's job namespaces
 * (`volt.jobs.notes.schedule(...)`). Kept apart from `index.ts`: `volt.ts`
 * needs these, and the controllers listed there import `volt.ts`.
 */
import { jobs } from '../jobs.js';
import { notesJobs } from './notes/notes.jobs.js';

export const REGISTERED_JOBS = jobs.merge({
  notes: notesJobs,
});
