/**
 * OpenTelemetry traces, opt-in: `config.tracing.enabled` (an OTLP endpoint is
 * set) makes server.ts call `startTracing`, which loads the SDK. Nothing here
 * imports an OpenTelemetry package, so with tracing off none is ever loaded;
 * the request path and the realtime transport take the hooks below as
 * optional arguments and skip them when absent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggedEvent } from '../realtime/channel-log.js';
import type { Logger } from '../logger.js';

/**
 * The oldest Node.js the OpenTelemetry packages in package.json support (their
 * `engines`); the app itself runs on older versions with tracing off.
 */
export const TRACING_MIN_NODE = '22.15.0';

export interface TracingSettings {
  /** `service.name` unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names the service. */
  serviceName: string;
  serviceVersion: string;
  /** `service.instance.id`: the instance id of logs, metrics and X-Instance-Id. */
  instanceId: string;
}

/** The ids a log line carries so it leads to its trace (OpenTelemetry's log correlation names). */
export interface TraceIds {
  trace_id: string;
  span_id: string;
  /** `01` when the trace is sampled (exported), `00` when it is not. */
  trace_flags: string;
}

/** The server span of each API request (the operations layer calls these). */
export interface RequestTracing {
  /** Starts the request's span (continuing an incoming `traceparent`) and runs `handle` inside it. */
  serve(req: IncomingMessage, res: ServerResponse, handle: (req: IncomingMessage, res: ServerResponse) => void): void;
  /**
   * Ends the span `serve` started for this response (undefined if none), named
   * by its route pattern (undefined when no route matched); returns its ids for the request log line.
   */
  end(res: ServerResponse, route: string | undefined, status: number, aborted: boolean): TraceIds | undefined;
}

/** Spans of the realtime transport: publish, then delivery on every instance. */
export interface RealtimeTracing {
  /**
   * Runs `append` inside a publish span. `append` receives the span's trace
   * context as text, to store with the event so its deliveries link to it.
   */
  publish(channel: string, type: string, append: (traceContext: string | undefined) => Promise<string>): Promise<string>;
  /** One delivered batch (a live event, or events read back from the log) written to `streams` local streams. */
  delivered(channel: string, events: readonly LoggedEvent[], streams: number): void;
}

export interface Tracing {
  requests: RequestTracing;
  realtime: RealtimeTracing;
  /** pino's `mixin`: the active span's ids on every log line written inside a request. */
  logFields(): Partial<TraceIds>;
  /** Where the SDK's own warnings go (an unreachable collector, dropped spans). */
  reportTo(logger: Logger): void;
  /** Exports the spans still buffered (graceful shutdown). */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK. On a Node.js older than the SDK supports it
 * fails here, with the way out, before loading any of it.
 */
export async function startTracing(settings: TracingSettings): Promise<Tracing> {
  assertTracingRuntime(process.versions.node);
  const { startOpenTelemetry } = await import('./open-telemetry.js');
  return startOpenTelemetry(settings);
}

export function assertTracingRuntime(nodeVersion: string): void {
  if (compareVersions(nodeVersion, TRACING_MIN_NODE) >= 0) return;
  throw new Error(
    `Tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT is set) but needs Node.js >= ${TRACING_MIN_NODE}, and this is ${nodeVersion}. ` +
      'Run on Node.js 22.15+ or 24 (the Docker image does), or unset OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to run without tracing.',
  );
}

function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
