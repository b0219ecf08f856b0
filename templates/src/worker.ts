/**
 * A process that only runs background jobs (`npm run worker`): the app
 * without its HTTP API, working on the queues of JOBS_QUEUES with
 * JOBS_CONCURRENCY jobs each. Run it to keep long or heavy jobs off the API
 * instances (set JOBS_WORKERS=off on those). `/metrics` and `/health` on
 * METRICS_PORT; SIGTERM stops taking jobs and lets the running ones finish.
 */
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { startMetricsServer } from './scaling/http/metrics-endpoint.js';
import { createShutdown, serverResource } from './scaling/http/shutdown.js';
import { createLogger } from './scaling/logger.js';
import { describeRedis } from './scaling/redis/redis-settings.js';

const config = loadConfig({ ...process.env, JOBS_WORKERS: 'on' });
const logger = createLogger({ level: config.logLevel, instanceId: config.instanceId });
if (config.redis.mode === 'none') {
  logger.error({}, 'npm run worker needs Redis (REDIS_URL or REDIS_CLUSTER_NODES): without it, jobs run inside the API process');
  logger.flush();
  process.exit(1);
}
const app = createApp(config, { logger });

const metricsServer =
  config.metricsPort === null
    ? undefined
    : await startMetricsServer({ registry: app.metrics.registry, health: app.health, port: config.metricsPort, host: config.metricsHost });
logger.info({ redis: describeRedis(config.redis), queues: config.jobs.queues, concurrency: config.jobs.concurrency }, 'worker started');

// The same shutdown as the API's, with nothing to drain: the workers stop
// taking jobs, the running ones finish (or are left to another worker at the
// deadline), Redis quits.
createShutdown({
  server: app.server,
  health: app.health,
  requests: app.requests,
  drainMs: 0,
  timeoutMs: config.shutdownTimeoutMs,
  jobs: app.jobs,
  resources: [serverResource('metrics server', metricsServer), ...app.resources],
  logger,
}).installSignalHandlers();
