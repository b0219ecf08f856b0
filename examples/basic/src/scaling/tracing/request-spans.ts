/**
 * The server span of each API request: started by the operations layer before
 * the kernel runs (so everything the request does is inside it), ended when
 * the response closes, named by its route template (`POST /api/v1/notes`,
 * `GET /api/v1/notes/:id`) with the response status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  propagation,
  trace,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { rawHeader } from '../http/request-id.js';
import type { RequestTracing, TraceIds } from './index.js';

const SPAN = Symbol('serverSpan');
interface TracedResponse extends ServerResponse {
  [SPAN]?: Span | undefined;
}

/** Incoming `traceparent`/`tracestate` read from `rawHeaders` (node builds `req.headers` only when asked). */
const rawHeaders: TextMapGetter<readonly string[]> = {
  keys: (headers) => headers.filter((_, index) => index % 2 === 0).map((name) => name.toLowerCase()),
  get: (headers, key) => rawHeader(headers, key),
};

export function createRequestSpans(tracer: Tracer): RequestTracing {
  return {
    serve(req, res: TracedResponse, handle) {
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      // A `traceparent` from nginx (or any caller) makes this request part of that trace.
      const parent = propagation.extract(ROOT_CONTEXT, req.rawHeaders, rawHeaders);
      // What a sampler may look at; the rest only for spans that are recorded.
      const attributes = { 'http.request.method': method, 'url.path': query === -1 ? url : url.slice(0, query), 'url.scheme': 'http' };
      const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
      if (span.isRecording()) {
        const userAgent = rawHeader(req.rawHeaders, 'user-agent');
        span.setAttributes({
          'network.peer.address': req.socket.remoteAddress,
          // The id in the X-Request-Id response header and the request log line.
          'http.request.id': req.id,
          ...(userAgent === undefined ? {} : { 'user_agent.original': userAgent }),
        });
      }
      res[SPAN] = span;
      context.with(trace.setSpan(parent, span), handle, undefined, req as IncomingMessage, res);
    },

    end(res: TracedResponse, route, status, aborted) {
      const span = res[SPAN];
      if (span === undefined) return undefined;
      res[SPAN] = undefined;
      if (!span.isRecording()) return traceIdsOf(span.spanContext());
      // A path no route matched keeps the bare method as its name (paths are unbounded).
      if (route !== undefined) {
        span.updateName(`${res.req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      // The client left before the whole response was written (an SSE stream always ends so).
      if (aborted) span.setAttribute('http.response.aborted', true);
      span.end();
      return traceIdsOf(span.spanContext());
    },
  };
}

export function traceIdsOf(spanContext: SpanContext): TraceIds {
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: spanContext.traceFlags & TraceFlags.SAMPLED ? '01' : '00',
  };
}
