import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { startMetricsServer } from './scaling/http/metrics-endpoint.js';
import { createShutdown, serverResource } from './scaling/http/shutdown.js';
import { createLogger } from './scaling/logger.js';
import { describeRedis } from './scaling/redis/redis-settings.js';
import { startTracing } from './scaling/tracing/index.js';

const config = loadConfig();
// OpenTelemetry is loaded only when an OTLP endpoint is set, before the app
// handles anything: every request and Redis command is then traced from the first.
const tracing = config.tracing.enabled
  ? await startTracing({ serviceName: config.tracing.serviceName, serviceVersion: config.version, instanceId: config.instanceId })
  : undefined;
// With tracing on, lines logged inside a request carry its trace_id and span_id.
const logger = createLogger({ level: config.logLevel, instanceId: config.instanceId, mixin: tracing?.logFields });
tracing?.reportTo(logger);
const app = createApp(config, { logger, tracing });

// Life of a request, step 1 (README): node:http accepts connections and parses requests.
app.server.listen(config.port, config.host, () => {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  process.stdout.write(
    `${JSON.stringify({ level: 'info', time: Date.now(), instance: config.instanceId, url: `http://${host}:${port}`, redis: describeRedis(config.redis), msg: 'listening' })}\n`,
  );
});

// Prometheus scrapes this port on the private network; nginx only proxies PORT.
const metricsServer =
  config.metricsPort === null
    ? undefined
    : await startMetricsServer({ registry: app.metrics.registry, health: app.health, port: config.metricsPort, host: config.metricsHost });
if (metricsServer) {
  const address = metricsServer.address();
  logger.info({ host: config.metricsHost, port: typeof address === 'object' && address ? address.port : config.metricsPort }, 'metrics listening');
}

// SIGTERM/SIGINT: readiness fails and job workers stop taking jobs, drain delay, stop
// accepting, SSE streams end with a short retry, in-flight requests and running jobs
// finish, Redis quits, exit 0 (or 1 past the deadline).
createShutdown({
  server: app.server,
  health: app.health,
  requests: app.requests,
  drainMs: config.shutdownDrainMs,
  timeoutMs: config.shutdownTimeoutMs,
  realtime: app.realtime,
  jobs: app.jobs,
  resources: [
    serverResource('metrics server', metricsServer),
    ...app.resources,
    // Last: the spans of everything above are exported before exit.
    ...(tracing ? [{ name: 'tracing', close: () => tracing.shutdown() }] : []),
  ],
  logger,
}).installSignalHandlers();
