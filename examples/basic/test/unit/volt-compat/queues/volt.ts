// Step C of Volt's queues guide: `.jobs(REGISTERED_JOBS)` on the builder.
import { Volt } from '../../../../src/volt/index.js';
import { createContext, type AppContext } from './context.js';
import { REGISTERED_JOBS } from './registered-jobs.js';

const context = createContext();

export const volt = Volt.context<AppContext>(() => context)
  .jobs(REGISTERED_JOBS)
  .config({ baseURL: 'http://localhost:3000', basePATH: '/api/v1' })
  .create();
