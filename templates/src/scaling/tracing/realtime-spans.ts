/**
 * Realtime events across instances: a `realtime publish` span around the
 * append, and on every instance a `realtime deliver` span per batch written
 * to its SSE streams, linked to the publish spans of the events in it (the
 * channel is an attribute, not part of the name: private channels are many).
 * The publish span's context
 * travels with the event through the channel log (a field of the Redis Stream
 * entry and of the live announcement, never part of what clients receive) as
 * a W3C `traceparent` string.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Link, type SpanContext, type Tracer } from '@opentelemetry/api';
import type { RealtimeTracing } from './index.js';
import { traceIdsOf } from './request-spans.js';

export function createRealtimeSpans(tracer: Tracer): RealtimeTracing {
  return {
    publish(channel, type, append) {
      return tracer.startActiveSpan('realtime publish', { kind: SpanKind.PRODUCER }, async (span) => {
        const recording = span.isRecording();
        if (recording) {
          span.setAttributes({
            'messaging.system': 'sse',
            'messaging.operation.type': 'send',
            'messaging.operation.name': 'publish',
            'messaging.destination.name': channel,
            'sse.event.type': type,
          });
        }
        try {
          const id = await append(toTraceparent(span.spanContext()));
          if (recording) span.setAttribute('messaging.message.id', id);
          return id;
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      });
    },

    delivered(channel, events, streams) {
      const links: Link[] = [];
      for (const event of events) {
        const published = fromTraceparent(event.trace);
        if (published !== undefined) links.push({ context: published });
      }
      // Events published with tracing off have nothing to link to.
      if (links.length === 0) return;
      // One event: its delivery joins the publisher's trace (and follows its
      // sampling decision); a batch starts its own trace, linked to each publish.
      const parent = events.length === 1 ? trace.setSpanContext(ROOT_CONTEXT, links[0]!.context) : ROOT_CONTEXT;
      const span = tracer.startSpan(
        'realtime deliver',
        {
          kind: SpanKind.CONSUMER,
          links,
          attributes: {
            'messaging.system': 'sse',
            'messaging.operation.type': 'process',
            'messaging.operation.name': 'deliver',
            'messaging.destination.name': channel,
            'messaging.batch.message_count': events.length,
            ...(events.length === 1 ? { 'messaging.message.id': events[0]!.id } : {}),
            'sse.streams': streams,
          },
        },
        parent,
      );
      span.end();
    },
  };
}

function toTraceparent(spanContext: SpanContext): string {
  const { trace_id, span_id, trace_flags } = traceIdsOf(spanContext);
  return `00-${trace_id}-${span_id}-${trace_flags}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

function fromTraceparent(text: string | undefined): SpanContext | undefined {
  if (text === undefined) return undefined;
  const match = TRACEPARENT.exec(text);
  if (match === null || match[1] === INVALID_TRACE_ID || match[2] === INVALID_SPAN_ID) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED, isRemote: true };
}
