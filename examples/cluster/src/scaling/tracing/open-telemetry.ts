/**
 * The OpenTelemetry SDK, loaded only when tracing is on (see index.ts). It
 * reads the standard variables itself: OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf by default, http/json, grpc),
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and
 * OTEL_TRACES_SAMPLER_ARG (every trace by default), OTEL_PROPAGATORS, OTEL_BSP_*.
 * Only traces: metrics are Prometheus's (/metrics) and logs are pino's lines.
 */
import { createRequire } from 'node:module';
import { DiagLogLevel, context, diag, trace } from '@opentelemetry/api';
import { IORedisInstrumentation, type CommandArgs } from '@opentelemetry/instrumentation-ioredis';
import { defaultResource, envDetector, hostDetector, osDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Logger } from '../logger.js';
import type { Tracing, TracingSettings } from './index.js';
import { createRealtimeSpans } from './realtime-spans.js';
import { createRequestSpans, traceIdsOf } from './request-spans.js';

export function startOpenTelemetry(settings: TracingSettings): Tracing {
  const sdk = new NodeSDK({
    // Lowest precedence: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
    resource: defaultResource().merge(
      resourceFromAttributes({
        'service.name': settings.serviceName,
        'service.version': settings.serviceVersion,
        'service.instance.id': settings.instanceId,
      }),
    ),
    // The SDK's default set also replaces service.instance.id with a random one.
    ...(process.env.OTEL_NODE_RESOURCE_DETECTORS ? {} : { resourceDetectors: [hostDetector, osDetector, processDetector, envDetector] }),
    metricReaders: [],
    logRecordProcessors: [],
    // Redis commands inside a traced request or publish (not the background ones: sweeps, health checks).
    instrumentations: [new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: commandWithoutValues })],
  });
  sdk.start();
  // The instrumentation patches ioredis when it is required through its hook.
  // ioredis is CommonJS: the app's `import` and this `require` share one module
  // object, so this instruments every client, created before or after, with no
  // ESM loader hook (`--import`) in front of the app.
  createRequire(import.meta.url)('ioredis');

  const tracer = trace.getTracer(settings.serviceName, settings.serviceVersion);
  return {
    requests: createRequestSpans(tracer),
    realtime: createRealtimeSpans(tracer),
    logFields() {
      // A new object each time: pino merges the line's own fields into it.
      const span = trace.getSpan(context.active());
      return span === undefined ? {} : traceIdsOf(span.spanContext());
    },
    reportTo(logger: Logger) {
      // OTEL_LOG_LEVEL asks for the SDK's own console output (troubleshooting): leave it.
      if (process.env.OTEL_LOG_LEVEL) return;
      // Export failures (collector down, refused) are warnings: requests are never affected.
      const warn = (message: string, ...args: unknown[]) => logger.warn({ detail: args.map(String).join(' ') || undefined }, `opentelemetry: ${message}`);
      diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    },
    shutdown: () => sdk.shutdown(),
  };
}

/**
 * `db.query.text` of a Redis span: the command and its key (for EVAL/EVALSHA
 * the script's sha and its keys), never the values. The instrumentation's
 * default writes every argument of some commands, scripts included, which
 * would put event payloads (user content) into traces.
 */
function commandWithoutValues(command: string, args: CommandArgs): string {
  const shown = /^eval/i.test(command) ? 2 + (Number(args[1]) || 0) : 1;
  const parts = args.slice(0, shown).map((arg) => (typeof arg === 'string' || typeof arg === 'number' ? String(arg) : '?'));
  const hidden = args.length - parts.length;
  return [command, ...parts, ...(hidden > 0 ? [`[${hidden} other arguments]`] : [])].join(' ');
}
