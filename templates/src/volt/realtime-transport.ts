import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorDoc } from './openapi/types.js';
import type { Procedure } from './types.js';

/** One envelope for every realtime event: messages and revalidations alike. */
export interface RealtimeEvent<T = unknown> {
  /** SSE `event:` field, e.g. `message`, `note.created`, `revalidate`. */
  type: string;
  channel: string;
  data: T;
}

/**
 * What the kernel needs from a realtime implementation. The kernel owns the
 * Volt-facing API (`realtime.publish/to/broadcast/revalidate`,
 * `response.revalidate`); a transport owns delivery: the SSE endpoint, channel
 * rules and authorization, fan-out across instances and replay by id.
 * Implementations live in `src/scaling/realtime/`.
 */
export interface RealtimeTransport {
  /**
   * Procedures the kernel runs on the events route before `serve`, as on an
   * action (`use`): e.g. one that puts the signed-in user in the context, or
   * answers 401. The context `serve` receives is the one they leave.
   */
  readonly use?: readonly Procedure[] | undefined;
  /** Publish one event; resolves with the id clients will see as SSE `id:`. */
  publish(channel: string, type: string, data: unknown): Promise<string>;
  /**
   * Serve `GET {basePATH}/sse/events` once the request context is built, so
   * channel authorization can see who is asking.
   */
  serve(req: IncomingMessage, res: ServerResponse, context: unknown): void;
  /** For the API document: the errors `serve` refuses a stream with (bad or forbidden channels). */
  readonly errors?: readonly ErrorDoc[];
  /** End every open stream with a short `retry:` (graceful shutdown). */
  close(): Promise<void>;
}
