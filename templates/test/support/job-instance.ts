/**
 * A job worker process for the multi-process job tests: the app's job queue
 * (src/scaling/jobs) on its Redis connections, with the app's shutdown
 * sequence, running the test jobs (test-jobs.ts) instead of the app's. Every
 * start, completion and hook call is appended to `JOB_LOG` as one line:
 * `<kind> <job id> <instance> <time ms> <task>`. Settings come from the
 * environment as for the app (REDIS_*, JOBS_*, INSTANCE_ID). With
 * `REPEAT_EVERY_MS`, the process also schedules the `record` task to repeat
 * at that period, as an app would at start-up.
 */
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadConfig } from '../../src/config.js';
import { createShutdown } from '../../src/scaling/http/shutdown.js';
import { createJobQueue } from '../../src/scaling/jobs/index.js';
import { createLogger } from '../../src/scaling/logger.js';
import { createMetrics } from '../../src/scaling/metrics/index.js';
import { createRedisConnections } from '../../src/scaling/redis/connections.js';
import { attachJobQueue } from '../../src/volt/index.js';
import { createJobsClient } from '../../src/volt/jobs.js';
import { disabledRealtime } from '../../src/volt/realtime.js';
import { createTestJobs } from './test-jobs.js';

const config = loadConfig(process.env);
if (config.redis.mode === 'none') throw new Error('job-instance needs Redis');
const jobLog = process.env.JOB_LOG;
if (!jobLog) throw new Error('JOB_LOG is required');
const { instanceId } = config;
const logger = createLogger({ level: config.logLevel, instanceId });
const metrics = createMetrics({ instanceId });
const connections = createRedisConnections(config.redis, { logger, metrics });

const registered = createTestJobs((record) => appendFileSync(jobLog, `${record.kind} ${record.job.id} ${instanceId} ${record.at} ${record.task}\n`));
const queue = createJobQueue({
  registered,
  settings: config.jobs,
  redis: connections,
  services: { context: { instanceId }, logger, realtime: disabledRealtime },
  instanceId,
  logger,
  metrics,
});
const jobs = createJobsClient(registered);
attachJobQueue(jobs, queue);

const every = Number(process.env.REPEAT_EVERY_MS ?? 0);
if (every > 0) await jobs.tasks!.schedule({ task: 'record', input: { key: 'tick' }, options: { jobId: 'tick', repeat: { every } } });

createShutdown({
  // No HTTP server to drain: an unopened one.
  server: createServer(),
  health: { startDraining() {} },
  requests: { inFlight: 0, whenIdle: async () => {} },
  drainMs: 0,
  timeoutMs: config.shutdownTimeoutMs,
  jobs: queue,
  resources: [
    { name: 'jobs', close: () => queue.close() },
    { name: 'redis', close: () => connections.quit() },
  ],
  logger,
}).installSignalHandlers();

process.stdout.write(`${JSON.stringify({ instance: instanceId, msg: 'job instance ready' })}\n`);
