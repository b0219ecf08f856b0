/**
 * The SSE processor: serves `GET {basePATH}/sse/events`, replays history to
 * resuming clients, keeps streams alive with a heartbeat and ends them on
 * shutdown. Fan-out is the hubs' job (channel-hub.ts): one per channel with
 * local listeners.
 *
 * A stream that resumes registers with its hubs first (live events then
 * queue on the stream), replays the log after its ids, then writes the queue
 * skipping ids it already sent: no gap, no duplicate.
 *
 * Memory per stream is bounded in every state. Replaying, live or ending, a
 * stream is closed when it holds more than `maxBufferedBytes` unsent (events
 * queued behind its replay plus bytes its socket has not taken) or when its
 * client has taken no byte for `writeStallMs`; the client resumes by id and
 * loses nothing. The number of streams per instance is capped too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { BROADCAST_CHANNEL, REVALIDATE_CHANNEL } from '../../volt/index.js';
import type { RealtimeTransport } from '../../volt/realtime-transport.js';
import type { Procedure } from '../../volt/types.js';
import type { Logger } from '../logger.js';
import type { RealtimeTracing } from '../tracing/index.js';
import { ChannelHub, READ_BATCH, type HubMetrics, type StreamWriter } from './channel-hub.js';
import type { ChannelLog, LoggedEvent } from './channel-log.js';
import { CHANNEL_REFUSALS, ChannelPolicy, isChannelName, standardChannelRules, type ChannelRule } from './channel-rules.js';
import { compareIds, cursorPosition, parseCursor, type ResumeCursor } from './event-id.js';
import { SseConnection, type QueuedEvent } from './sse-connection.js';
import {
  PING_FRAME,
  RESET_EVENT,
  RESET_REASON,
  SSE_HEADERS,
  connectedFrame,
  eventBody,
  eventFrame,
  expiredFrame,
  isEventType,
  retryFrame,
  sendJsonError,
} from './sse-wire.js';

/** Structurally typed so any metrics registry fits. */
export interface SseMetrics extends HubMetrics {
  sseActiveConnections: { inc(value?: number): void; dec(value?: number): void };
  sseSlowClientsTotal: { inc(labels: { reason: SlowClientReason }): void };
  sseRefusedTotal: { inc(labels: { reason: RefusalReason }): void };
}

/** Why a stream was closed for not keeping up: too much unsent, or nothing taken for too long. */
type SlowClientReason = 'buffer' | 'stall';
/** Why a new stream was told to come back later. */
type RefusalReason = 'capacity' | 'unavailable' | 'shutdown';

/** The tunable numbers; `config.ts` holds their values (`SSE_*`). */
export interface SseSettings {
  /** `: ping` interval, below proxy idle timeouts. */
  heartbeatMs: number;
  /** `retry:` sent on connect. */
  retryMs: number;
  /** `retry:` sent when the instance shuts down, so clients come back at once elsewhere. */
  closeRetryMs: number;
  /** A stream holding more unsent bytes than this (queued behind its replay plus buffered for its socket) is closed; the client resumes by id. */
  maxBufferedBytes: number;
  /** A stream whose client takes no byte for this long is closed; the client resumes by id. */
  writeStallMs: number;
  /** At shutdown: how long an ending stream may take to flush before its socket is cut. */
  closeFlushMs: number;
  /** Streams served at once; past it, new ones get an empty stream with a `retry:`. */
  maxConnections: number;
  /** Safety net: compare each hub with its log this often (0: never). */
  catchUpIntervalMs: number;
  /** Channels one stream may name. */
  maxChannelsPerStream: number;
}

export interface SseProcessorOptions<Context = unknown> extends SseSettings {
  log: ChannelLog;
  /** The app's channels (each feature's `*.channels.ts`); `standardChannelRules()` are always added. */
  channels?: ChannelRule<Context>[] | undefined;
  /** Named in the `connected` event each stream starts with. */
  instanceId?: string | undefined;
  /**
   * Procedures the kernel runs before a stream opens: they say who is asking
   * (the context channel rules and `expiresAt` see), or refuse with 401.
   */
  use?: readonly Procedure[] | undefined;
  /**
   * When the credentials a stream was opened with run out (epoch ms), or
   * nothing for a stream that never expires. At that moment the stream gets
   * an `auth.expired` event carrying its cursor and ends; the client opens a
   * new one with fresh credentials and resumes from that cursor.
   */
  expiresAt?: ((context: Context) => number | null | undefined) | undefined;
  metrics?: SseMetrics | undefined;
  logger?: Logger | undefined;
  /** Publish and delivery spans (tracing on). */
  tracing?: RealtimeTracing | undefined;
}

/** setTimeout's longest delay; a later expiry is re-armed from there. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often a replay waiting for its client to read checks the buffer when no `drain` will come. */
const BUFFER_CHECK_MS = 5;

export class SseProcessor<Context = unknown> implements RealtimeTransport, StreamWriter {
  private readonly log: ChannelLog;
  private readonly policy: ChannelPolicy<Context>;
  private readonly hubs = new Map<string, ChannelHub>();
  private readonly connections = new Set<SseConnection>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly stallCheck: NodeJS.Timeout;
  private readonly sweep: NodeJS.Timeout | undefined;
  /** Streams between the capacity check and their registration (channel authorization is async). */
  private opening = 0;
  private readonly settings: SseSettings;
  private readonly metrics: SseMetrics | undefined;
  private readonly logger: Logger | undefined;
  private readonly instanceId: string | undefined;
  private readonly expiresAt: ((context: Context) => number | null | undefined) | undefined;
  readonly use: readonly Procedure[] | undefined;
  private readonly tracing: RealtimeTracing | undefined;
  private closing = false;
  /** How a stream is refused, for the API document. */
  readonly errors = [{ code: 'INVALID_LAST_EVENT_ID', status: 400, description: 'The resume id is not one this server issued.' }, ...CHANNEL_REFUSALS] as const;

  constructor(options: SseProcessorOptions<Context>) {
    this.log = options.log;
    this.settings = options;
    this.policy = new ChannelPolicy<Context>({
      rules: [...standardChannelRules<Context>(), ...(options.channels ?? [])],
      // A stream that names no channel gets what every client gets.
      defaultChannels: [BROADCAST_CHANNEL, REVALIDATE_CHANNEL],
      maxChannels: options.maxChannelsPerStream,
      onHookError: (error, channel) => options.logger?.error({ err: error, channel }, 'sse channel authorization hook threw'),
    });
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.instanceId = options.instanceId;
    this.use = options.use;
    this.expiresAt = options.expiresAt;
    this.tracing = options.tracing;
    this.log.setHandlers({
      live: (channel, event) => this.hubs.get(channel)?.onLive(event),
      resync: () => {
        for (const hub of this.hubs.values()) hub.resync();
      },
    });
    // One timer for every stream: per-stream timers cost memory and wake-ups.
    this.heartbeat = setInterval(() => this.ping(), options.heartbeatMs).unref();
    // A few checks per stall period, so a stalled stream goes within about 1.25 periods.
    this.stallCheck = setInterval(() => this.closeStalled(), Math.min(1_000, Math.max(25, options.writeStallMs / 4))).unref();
    if (options.catchUpIntervalMs > 0) this.sweep = setInterval(() => void this.sweepHubs(), options.catchUpIntervalMs).unref();
  }

  // ---- publishing

  /** Life of an event, step 3. */
  async publish(channel: string, type: string, data: unknown): Promise<string> {
    if (!isChannelName(channel)) throw new TypeError(`invalid realtime channel name "${channel}"`);
    if (!isEventType(type)) throw new TypeError(`invalid realtime event type "${type}"`);
    const json = JSON.stringify(data) ?? 'null';
    if (this.tracing === undefined) return this.log.append(channel, type, json);
    return this.tracing.publish(channel, type, (trace) => this.log.append(channel, type, json, trace));
  }

  // ---- serving

  serve(req: IncomingMessage, res: ServerResponse, context: unknown): void {
    this.open(req, res, context as Context).catch((error: unknown) => {
      this.logger?.error({ err: error }, 'sse stream failed');
      if (!res.headersSent) this.comeBackLater(res, 'unavailable');
      else res.destroy();
    });
  }

  private async open(req: IncomingMessage, res: ServerResponse, context: Context): Promise<void> {
    if (this.closing) return this.comeBackLater(res, 'shutdown');
    if (this.connections.size + this.opening >= this.settings.maxConnections) return this.comeBackLater(res, 'capacity');
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const header = req.headers['last-event-id'];
    const cursorText = (Array.isArray(header) ? header[0] : header) ?? query.get('lastEventId') ?? '';
    const cursor = parseCursor(cursorText);
    if (!cursor) return sendJsonError(res, 400, 'INVALID_EVENT_ID', 'Last-Event-ID is not an event id (<ms>-<seq>, each part below 2^64)');
    // Counted until the stream is registered, in the same turn: streams opening together cannot pass the cap together.
    this.opening++;
    let decision: Awaited<ReturnType<ChannelPolicy<Context>['decide']>>;
    try {
      decision = await this.policy.decide(query.get('channels'), context);
    } finally {
      this.opening--;
    }
    if (!decision.ok) return sendJsonError(res, decision.status, decision.code, decision.message);
    if (res.destroyed) return;

    const connection = new SseConnection(res, decision.channels);
    this.connections.add(connection);
    this.metrics?.sseActiveConnections.inc();
    res.once('close', () => this.drop(connection));
    // Registered before anything is read, so no live event can slip between replay and live.
    const hubs = decision.channels.map((channel, index) => this.attach(channel, connection, index));
    try {
      await Promise.all(hubs.map((hub) => hub.ready));
    } catch (error) {
      this.drop(connection);
      throw error;
    }
    if (connection.closed) return;

    for (let index = 0; index < connection.channels.length; index++) {
      const after = cursorPosition(cursor, connection.channels[index] as string);
      if (after !== undefined) connection.positions[index] = after;
    }
    res.writeHead(200, SSE_HEADERS);
    // The connected event carries the starting cursor as its id, so even a
    // client that has seen no event yet resumes from here after a drop.
    const opening = connectedFrame(this.instanceId, decision.channels, cursorText);
    res.write(retryFrame(this.settings.retryMs) + eventFrame(connection.cursor(), opening));
    const expiresAt = this.expiresAt?.(context);
    if (typeof expiresAt === 'number') this.expireAt(connection, expiresAt);
    await this.replay(connection, cursor);
    if (connection.closed) return;
    const queued = connection.queued ?? [];
    connection.queued = null;
    connection.queuedLength = 0;
    for (const event of queued) {
      if (connection.advance(event.index, event.id) && !this.write(connection, eventFrame(connection.cursor(), event.body))) return;
    }
  }

  /**
   * A transient refusal (instance full, Redis unreachable, shutting down) as
   * an empty stream with a `retry:`: EventSource reconnects after it (to any
   * instance), while an error status would make it give up for good. A full
   * instance spreads the retries over up to twice the usual delay, so the
   * refused clients do not all come back in the same instant.
   */
  private comeBackLater(res: ServerResponse, reason: RefusalReason): void {
    this.metrics?.sseRefusedTotal.inc({ reason });
    const { retryMs, closeRetryMs } = this.settings;
    const delay = reason === 'shutdown' ? closeRetryMs : reason === 'capacity' ? retryMs + Math.floor(Math.random() * retryMs) : retryMs;
    res.writeHead(200, SSE_HEADERS);
    res.end(retryFrame(delay));
  }

  /** Writes each resumed channel's history after the cursor (or a reset when it was trimmed). */
  private async replay(connection: SseConnection, cursor: ResumeCursor): Promise<void> {
    for (let index = 0; index < connection.channels.length; index++) {
      const channel = connection.channels[index] as string;
      const after = cursorPosition(cursor, channel);
      if (after === undefined) continue;
      const position = await this.log.position(channel);
      // Events after the client's id are gone, or the id was never issued here
      // (left alone, it would hide every event up to it): refetch, then follow live.
      const reset =
        compareIds(after, position.trimmedThrough) < 0 ? RESET_REASON.trimmed : compareIds(after, position.lastId) > 0 ? RESET_REASON.notIssued : null;
      if (reset !== null) {
        connection.positions[index] = position.lastId;
        const body = eventBody(channel, position.lastId, RESET_EVENT, `{"reason":"${reset}"}`);
        if (!this.write(connection, eventFrame(connection.cursor(), body))) return;
        continue;
      }
      let from = after;
      for (;;) {
        const batch = await this.log.read(channel, from, READ_BATCH);
        if (connection.closed) return;
        for (const event of batch) {
          // A replay goes at the client's pace: past half the bound it waits for
          // the client to read (a client that never does is cut off by the stall check).
          if (connection.res.writableLength > this.settings.maxBufferedBytes / 2) {
            await bufferedAtMost(connection.res, this.settings.maxBufferedBytes / 2);
            if (connection.closed) return;
          }
          connection.positions[index] = event.id;
          const frame = eventFrame(connection.cursor(), eventBody(channel, event.id, event.type, event.json));
          if (!this.write(connection, frame)) return;
        }
        this.metrics?.sseEventsTotal.inc({ type: 'replay' }, batch.length);
        if (batch.length < READ_BATCH) break;
        from = (batch[batch.length - 1] as LoggedEvent).id;
      }
    }
  }

  // ---- hubs: one per channel with local streams

  private attach(channel: string, connection: SseConnection, index: number): ChannelHub {
    let hub = this.hubs.get(channel);
    if (!hub) {
      const created = new ChannelHub(channel, this.log, this, this.metrics, this.logger, this.tracing);
      this.hubs.set(channel, created);
      // Registered before any stream awaits `ready`: a hub that could not subscribe is gone first.
      created.ready.catch(() => this.release(created));
      hub = created;
    }
    hub.add(connection, index);
    return hub;
  }

  private release(hub: ChannelHub): void {
    if (this.hubs.get(hub.channel) === hub) this.hubs.delete(hub.channel);
    hub.release();
  }

  private async sweepHubs(): Promise<void> {
    for (const hub of [...this.hubs.values()]) {
      try {
        await hub.sweep();
      } catch {
        return; // Redis down: the reconnect triggers a resync.
      }
    }
  }

  // ---- streams

  /**
   * Ends a stream when its credentials run out. One timer per stream that
   * has an expiry (anonymous streams have none): the shared heartbeat is far
   * too coarse to end a stream at the moment its token stops being valid.
   */
  private expireAt(connection: SseConnection, at: number): void {
    const delay = at - Date.now();
    connection.expiry = setTimeout(
      () => (delay > MAX_TIMER_MS ? this.expireAt(connection, at) : this.expire(connection)),
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    ).unref();
  }

  /** `auth.expired` with the stream's cursor, then the end of the stream: the client resumes from that cursor. */
  private expire(connection: SseConnection): void {
    if (connection.closed) return;
    const { res } = connection;
    if (!res.writableEnded) res.end(eventFrame(connection.cursor(), expiredFrame()));
    this.drop(connection);
  }

  /** Forgets a stream; `destroy` also cuts its socket (slow client). */
  private drop(connection: SseConnection, destroy = false): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.queued = null;
    clearTimeout(connection.expiry);
    this.connections.delete(connection);
    this.metrics?.sseActiveConnections.dec();
    for (const channel of connection.channels) {
      const hub = this.hubs.get(channel);
      if (!hub) continue;
      hub.connections.delete(connection);
      if (hub.connections.size === 0) this.release(hub);
    }
    if (destroy && !connection.res.destroyed) connection.res.destroy();
  }

  /** Writes, or closes a stream whose client does not keep up (it resumes by id). Life of an event, step 7. */
  write(connection: SseConnection, frame: string | Buffer): boolean {
    if (connection.closed) return false;
    connection.res.write(frame);
    if (connection.unsent() > this.settings.maxBufferedBytes) {
      this.cutOff(connection, 'buffer');
      return false;
    }
    return true;
  }

  /** Holds a live event for a stream still replaying; the queue counts against the same bound. */
  enqueue(connection: SseConnection, event: QueuedEvent): boolean {
    if (connection.closed || connection.queued === null) return false;
    connection.queued.push(event);
    connection.queuedLength += event.id.length + event.body.length;
    if (connection.unsent() > this.settings.maxBufferedBytes) {
      this.cutOff(connection, 'buffer');
      return false;
    }
    return true;
  }

  private cutOff(connection: SseConnection, reason: SlowClientReason): void {
    this.logger?.warn({ reason, unsent: connection.unsent(), channels: connection.channels }, 'sse client too slow, closing its stream');
    this.metrics?.sseSlowClientsTotal.inc({ reason });
    this.drop(connection, true);
  }

  /** Every stream, replaying ones included: the ping also counts against the bound. */
  private ping(): void {
    for (const connection of this.connections) this.write(connection, PING_FRAME);
  }

  /**
   * Closes streams whose client took no byte for `writeStallMs` while bytes
   * were waiting for it (a replay waiting for it to read included).
   */
  private closeStalled(): void {
    const now = Date.now();
    for (const connection of this.connections) {
      if (connection.res.writableLength === 0) {
        connection.stalledSince = 0;
        continue;
      }
      const sent = connection.sent();
      if (connection.stalledSince === 0 || sent !== connection.sentAtCheck) {
        connection.sentAtCheck = sent;
        connection.stalledSince = now;
      } else if (now - connection.stalledSince >= this.settings.writeStallMs) {
        this.cutOff(connection, 'stall');
      }
    }
  }

  // ---- lifecycle

  /** Open streams and channels with a live subscription on this instance. */
  stats(): { connections: number; channels: number } {
    return { connections: this.connections.size, channels: this.hubs.size };
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    clearInterval(this.stallCheck);
    if (this.sweep) clearInterval(this.sweep);
    const ending: ServerResponse[] = [];
    for (const connection of [...this.connections]) {
      const { res } = connection;
      // A short retry, then the end of the stream: the client reconnects at once, elsewhere.
      if (res.headersSent && !res.writableEnded) res.end(retryFrame(this.settings.closeRetryMs));
      this.drop(connection, !res.headersSent);
      if (!res.writableFinished && !res.destroyed) ending.push(res);
    }
    if (ending.length > 0) {
      // A client that does not read would keep its stream, and the shutdown, waiting until the deadline.
      setTimeout(() => {
        for (const res of ending) if (!res.writableFinished) res.destroy();
      }, this.settings.closeFlushMs).unref();
    }
    await this.log.close();
  }
}

/**
 * Resolves once `res` holds at most `bytes` unsent, or has closed. Node emits
 * `drain` only for a buffer that passed the socket's high-water mark (16 KiB
 * up to Node 20, 64 KiB from Node 22); below it the buffer shrinks without an
 * event, so it is checked every few milliseconds.
 */
async function bufferedAtMost(res: ServerResponse, bytes: number): Promise<void> {
  while (!res.destroyed && res.writableLength > bytes) {
    if (res.writableNeedDrain) await waitForDrain(res);
    else await sleep(BUFFER_CHECK_MS);
  }
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
