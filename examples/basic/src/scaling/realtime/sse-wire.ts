/**
 * The SSE wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 *
 * Every event uses one envelope: `event:` is the event type, `data:` one line of
 * JSON `{ id, channel, type, data }` where `id` is the channel's stream id (a
 * client may dedupe by `channel` + `id`), and `id:` is the resume cursor (see
 * event-id.ts). JSON never contains a raw newline, so `data:` is always one line.
 */
import type { ServerResponse } from 'node:http';
import { JSON_CONTENT_TYPE, errorEnvelope } from '../../volt/index.js';

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // no-transform: proxies and compression middleware must not buffer or gzip the stream.
  'Cache-Control': 'no-cache, no-transform',
  // nginx: pass bytes through as they come even where proxy_buffering is on.
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
} as const;

export const PING_FRAME = ': ping\n\n';

export function retryFrame(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

/** The event type every stream starts with, before any replay. */
export const CONNECTED_EVENT = 'connected';

/**
 * The first event of every stream: which instance serves it, its channels and
 * the id it resumes from (null when it starts live). Sent with the stream's
 * starting cursor as `id:` (see eventFrame), so a client that drops before any
 * channel event still resumes from where it started.
 */
export function connectedFrame(instanceId: string | undefined, channels: readonly string[], resumedFrom: string): string {
  const data = { instanceId: instanceId ?? null, channels, resumedFrom: resumedFrom.trim() || null };
  return `event: ${CONNECTED_EVENT}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The part of an event frame shared by every connection: the `id:` line differs
 * per connection (its cursor), the rest is built once per event.
 */
export function eventBody(channel: string, streamId: string, type: string, json: string): string {
  return `event: ${type}\ndata: {"id":"${streamId}","channel":${JSON.stringify(channel)},"type":"${type}","data":${json}}\n\n`;
}

export function eventFrame(cursor: string, body: string): string {
  return `id: ${cursor}\n${body}`;
}

/** Event types go on the `event:` line unescaped, so they are restricted. */
const EVENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function isEventType(type: string): boolean {
  return EVENT_TYPE.test(type);
}

/**
 * Sent in place of a channel's replay when the server cannot replay from the
 * client's id: the client refetches its state, then follows live events.
 */
export const RESET_EVENT = 'reset';

/** Why a channel was reset (`data.reason` of the reset event). */
export const RESET_REASON = {
  /** Events after the client's id were trimmed from the channel's history. */
  trimmed: 'history-trimmed',
  /** The id is beyond anything the channel issued (another deployment, lost Redis data, made up). */
  notIssued: 'not-issued',
} as const;

/** The last event of a stream whose credentials ran out (the token's `exp`). */
export const EXPIRED_EVENT = 'auth.expired';

/**
 * `auth.expired`, sent with the stream's cursor as `id:` (see eventFrame):
 * the client fetches fresh credentials and resumes from there, losing nothing.
 */
export function expiredFrame(): string {
  return `event: ${EXPIRED_EVENT}\ndata: ${JSON.stringify({ reason: 'credentials-expired', at: new Date().toISOString() })}\n\n`;
}

/** A JSON error envelope, only before any stream byte went out. */
export function sendJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = errorEnvelope({ code, message });
  res.writeHead(status, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
