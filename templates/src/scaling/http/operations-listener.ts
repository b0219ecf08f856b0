import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { JSON_CONTENT_TYPE, errorEnvelope } from '../../volt/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { RequestTracing } from '../tracing/index.js';
import { sendHealthReport, writeHealth, type Health } from './health.js';
import { addResponseHeaders } from './header-adding-response.js';
import { bearerTokenMatches, sendMetrics } from './metrics-endpoint.js';
import { createRequestIds } from './request-id.js';
import { createRequestLog, type RequestRecord } from './request-log.js';
import { SECURITY_HEADERS } from './security-headers.js';

declare module 'node:http' {
  interface IncomingMessage {
    /** Request id: a trusted proxy's `X-Request-Id` when valid, else generated (request-id.ts). */
    id?: string;
  }
}

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface OperationsOptions {
  instanceId: string;
  health: Health;
  metrics?: Metrics | undefined;
  /** One line per request at info (probes and scrapes at debug); pino or any logger of that shape. */
  logger?: Logger | undefined;
  /**
   * When set, `/metrics` and the detailed `/health` are also served on this
   * port to `Authorization: Bearer <token>`; everyone else gets the status only.
   */
  metricsToken?: string | undefined;
  /** Keep a well-formed incoming `X-Request-Id` (only behind a proxy that sets it). Default false. */
  trustRequestId?: boolean | undefined;
  /** The matched route pattern of a request (a metric label must not be the raw path). */
  routeOf?: ((req: IncomingMessage) => string | undefined) | undefined;
  /** Tracing on: each request past the operations routes runs inside its server span. */
  tracing?: RequestTracing | undefined;
}

export interface OperationsListener {
  listener: NodeListener;
  /**
   * For `server.on('clientError', ...)`: bytes node's parser rejects (no
   * request to answer) get a JSON 400 with the instance id and a closed
   * connection, a request that does not arrive in time a 408; the server
   * keeps serving.
   */
  clientError(error: NodeJS.ErrnoException, socket: Duplex): void;
  /** Requests started and not yet closed (SSE streams included). */
  readonly inFlight: number;
  /** Resolves once no request is in flight. */
  whenIdle(): Promise<void>;
}

const START = Symbol('requestStart');
const OPS_ROUTE = Symbol('opsRoute');
interface TrackedResponse extends ServerResponse {
  [START]?: number;
  [OPS_ROUTE]?: string;
}

const LIVE_BODY = Buffer.from('{"status":"pass"}');

/** What node's parser and timers report about a connection, as the client is told. */
const CLIENT_ERRORS: Record<string, { status: number; reason: string; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'Request Header Fields Too Large', code: 'BAD_REQUEST', message: 'Malformed HTTP request' },
  // headersTimeout or requestTimeout passed (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS).
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', code: 'REQUEST_TIMEOUT', message: 'The request did not arrive in time' },
  default: { status: 400, reason: 'Bad Request', code: 'BAD_REQUEST', message: 'Malformed HTTP request' },
};

/**
 * The node:http layer in front of the kernel: instance and request ids and
 * the security headers on every response, health probes and (optionally) metrics served before any
 * routing so they do not depend on the API's base path, and one `close`
 * listener per request that records the duration histogram, the request log
 * line and the in-flight count used by graceful shutdown.
 * Serve it with `createServer({ ServerResponse: HeaderAddingResponse }, listener)`:
 * the ids then go out with the kernel's own header list (plain responses
 * work too, through the slower `setHeader`).
 */
export function withOperations(kernel: NodeListener, options: OperationsOptions): OperationsListener {
  const { instanceId, health, metrics, logger, metricsToken, routeOf, tracing } = options;
  const nextRequestId = createRequestIds(instanceId, options.trustRequestId ?? false);
  const requestLog = logger ? createRequestLog(logger) : undefined;
  const serve: NodeListener = tracing === undefined ? kernel : (req, res) => tracing.serve(req, res, kernel);
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];

  // Life of a request, step 8: the response is done (or the client left).
  function onClose(this: TrackedResponse): void {
    const req = this.req;
    const durationMs = performance.now() - this[START]!;
    const status = this.statusCode;
    const opsRoute = this[OPS_ROUTE];
    const matched = opsRoute ?? routeOf?.(req);
    const route = matched ?? 'unmatched';
    metrics?.observeRequest(req.method ?? 'GET', route, status, durationMs);
    const trace = tracing?.end(this, matched, status, !this.writableFinished);
    const level = opsRoute === undefined ? 'info' : 'debug';
    // At LOG_LEVEL=warn no record is gathered at all.
    if (requestLog?.enabled(level)) {
      const record: RequestRecord = {
        reqId: req.id!,
        method: req.method!,
        path: pathOf(req.url),
        route,
        status,
        durationMs: Math.round(durationMs * 1000) / 1000,
        aborted: !this.writableFinished,
      };
      if (trace !== undefined) record.trace = trace;
      requestLog.write(record, level);
    }
    if (--inFlight === 0 && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  // Life of a request, step 3: the first code that sees a request.
  function listener(req: IncomingMessage, res: TrackedResponse): void {
    res[START] = performance.now();
    inFlight++;
    res.on('close', onClose); // emitted once; `on` skips the wrapper `once` allocates
    const id = nextRequestId(req);
    req.id = id;
    // Once draining, answer and let the client reconnect elsewhere, so
    // keep-alive clients (nginx upstream pools) leave this instance.
    if (health.draining) res.shouldKeepAlive = false;

    // The one place X-Instance-Id is set: every response, whoever writes it.
    addResponseHeaders(res, ['x-instance-id', instanceId, 'x-request-id', id, ...SECURITY_HEADERS]);
    const url = req.url ?? '/';
    if (url.startsWith('/health') || url.startsWith('/metrics')) {
      const path = pathOf(url);
      if (isOperation(path, req)) {
        res[OPS_ROUTE] = path;
        serveOperation(path, req, res);
        return;
      }
    }
    serve(req, res);
  }

  function isOperation(path: string, req: IncomingMessage): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/metrics') return metricsToken !== undefined && metrics !== undefined;
    return path === '/health' || path === '/health/live' || path === '/health/ready';
  }

  function serveOperation(path: string, req: IncomingMessage, res: ServerResponse): void {
    switch (path) {
      case '/health/live':
        writeHealth(res, 200, LIVE_BODY);
        return;
      case '/health/ready':
        void health.ready().then(({ ready, reason }) => {
          const body = ready ? { status: 'pass' } : { status: 'fail', output: reason };
          writeHealth(res, ready ? 200 : 503, Buffer.from(JSON.stringify(body)));
        });
        return;
      case '/health':
        // Version, memory and Redis timings help an attacker as much as an operator:
        // the public port shows them only to the token holder (and the metrics port to all).
        if (metricsToken !== undefined && bearerTokenMatches(req, metricsToken)) void sendHealthReport(health, res);
        else void health.report().then((report) => writeHealth(res, report.status === 'fail' ? 503 : 200, Buffer.from(`{"status":"${report.status}"}`)));
        return;
      case '/metrics':
        if (!bearerTokenMatches(req, metricsToken!)) {
          res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain; charset=utf-8' });
          res.end('metrics require a bearer token\n');
          return;
        }
        void sendMetrics(metrics!.registry as Registry, res);
        return;
    }
  }

  // Header values must be printable ASCII; a header line must not be forgeable.
  const instanceIdLine = `X-Instance-Id: ${instanceId.replace(/[^\x20-\x7e]/g, '')}\r\n`;
  function clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // node's own handler checks the same: once a response started, more bytes would corrupt it.
    const started = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (started?.headersSent) {
      socket.destroy();
      return;
    }
    const answer = CLIENT_ERRORS[error.code ?? ''] ?? CLIENT_ERRORS.default!;
    // The request line that was logged (a body that never arrived) gets the status the client got.
    if (started) started.statusCode = answer.status;
    const body = errorEnvelope({ code: answer.code, message: answer.message });
    socket.end(
      `HTTP/1.1 ${answer.status} ${answer.reason}\r\nConnection: close\r\nContent-Type: ${JSON_CONTENT_TYPE}\r\nX-Content-Type-Options: nosniff\r\n` +
        `${instanceIdLine}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  return {
    listener: listener as NodeListener,
    clientError,
    get inFlight() {
      return inFlight;
    },
    whenIdle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
