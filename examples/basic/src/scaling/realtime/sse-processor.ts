/**
 * The SSE processor: serves `GET {basePATH}/sse/events`, fans events out to the
 * connections of this instance and resumes clients from any instance by id.
 *
 * Per channel, an instance keeps one hub: one subscription to the channel log
 * however many local connections listen (reference-counted: the last
 * connection to leave releases it), and the id of the last event it delivered.
 * A hub delivers strictly in id order, never twice: an announcement whose
 * `prevId` is newer than what the hub delivered reveals a gap (a message lost
 * during a reconnect or failover), and the hub reads the missing entries back
 * from the log first. After a reconnect, and on a slow periodic sweep, hubs
 * catch up from the log the same way.
 *
 * A connection that resumes registers with its hubs first (live events then
 * queue on the connection), replays the log after its ids, then flushes the
 * queue skipping ids it already sent: no gap, no duplicate.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RealtimeTransport } from '../../volt/realtime-transport.js';
import type { Logger } from '../logger.js';
import type { ChannelLog, LiveEvent, LoggedEvent } from './channel-log.js';
import { ChannelPolicy, defaultChannelRules, isChannelName, type ChannelRule } from './channel-rules.js';
import { ZERO_ID, compareIds, cursorPosition, idTime, parseCursor, type ResumeCursor } from './event-id.js';
import { SseConnection } from './sse-connection.js';
import { PING_FRAME, RESET_EVENT, SSE_HEADERS, connectedFrame, eventBody, eventFrame, isEventType, retryFrame, sendJsonError } from './sse-wire.js';

/** Structurally typed so any metrics registry fits. */
export interface SseMetrics {
  sseActiveConnections: { inc(value?: number): void; dec(value?: number): void };
  sseEventsTotal: { inc(labels: { type: string }, value?: number): void };
  sseDeliveryLag: { observe(seconds: number): void };
}

export interface SseProcessorOptions<Context = unknown> {
  log: ChannelLog;
  /** Default: `notes`, `broadcast`, `revalidate` and `user:<id>` for the context's user. */
  rules?: ChannelRule<Context>[];
  /** Subscribed when a request names no channel. Default `broadcast,revalidate`. */
  defaultChannels?: string[];
  maxChannels?: number;
  /** `: ping` interval, below proxy idle timeouts. Default 15 s. */
  heartbeatMs?: number;
  /** `retry:` sent on connect. Default 2 s. */
  retryMs?: number;
  /** `retry:` sent when the instance shuts down, so clients come back at once elsewhere. */
  closeRetryMs?: number;
  /** A connection with more unsent bytes than this is closed; it resumes by id. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Safety net: compare each hub with its log this often (0: never). */
  catchUpIntervalMs?: number;
  /** Named in the `connected` event each stream starts with. */
  instanceId?: string;
  metrics?: SseMetrics | undefined;
  logger?: Logger | undefined;
}

const REPLAY_BATCH = 500;
/** Live events buffered while a hub catches up; past this they are re-read from the log instead. */
const MAX_HUB_BUFFER = 10_000;
const CATCH_UP_RETRY_MS = 500;

class ChannelHub {
  readonly connections = new Set<SseConnection>();
  lastId = ZERO_ID;
  /** False while subscribing or catching up: announcements go to `buffer`. */
  live = false;
  buffer: LiveEvent[] = [];
  overflowed = false;
  catchingUp = false;
  catchUpAgain = false;
  released = false;
  /** Subscribed and positioned once: `lastId` is meaningful from then on. */
  started = false;
  ready: Promise<void> = Promise.resolve();

  constructor(readonly channel: string) {}
}

export class SseProcessor<Context = unknown> implements RealtimeTransport {
  private readonly log: ChannelLog;
  private readonly policy: ChannelPolicy<Context>;
  private readonly hubs = new Map<string, ChannelHub>();
  private readonly connections = new Set<SseConnection>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly sweep: NodeJS.Timeout | undefined;
  private readonly retryMs: number;
  private readonly closeRetryMs: number;
  private readonly maxBufferedBytes: number;
  private readonly metrics: SseMetrics | undefined;
  private readonly logger: Logger | undefined;
  private readonly instanceId: string | undefined;
  private closing = false;

  constructor(options: SseProcessorOptions<Context>) {
    this.log = options.log;
    this.policy = new ChannelPolicy<Context>({
      rules: options.rules ?? defaultChannelRules<Context>(),
      defaultChannels: options.defaultChannels ?? ['broadcast', 'revalidate'],
      ...(options.maxChannels ? { maxChannels: options.maxChannels } : {}),
      onHookError: (error, channel) => options.logger?.error({ err: error, channel }, 'sse channel authorization hook threw'),
    });
    this.retryMs = options.retryMs ?? 2_000;
    this.closeRetryMs = options.closeRetryMs ?? 500;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.instanceId = options.instanceId;
    this.log.setHandlers({
      live: (channel, event) => this.onLive(channel, event),
      resync: () => this.resyncAll(),
    });
    // One timer for every connection: per-connection timers cost memory and wake-ups.
    this.heartbeat = setInterval(() => this.ping(), options.heartbeatMs ?? 15_000).unref();
    const sweepMs = options.catchUpIntervalMs ?? 0;
    if (sweepMs > 0) this.sweep = setInterval(() => void this.sweepHubs(), sweepMs).unref();
  }

  // ---- publishing

  async publish(channel: string, type: string, data: unknown): Promise<string> {
    if (!isChannelName(channel)) throw new TypeError(`invalid realtime channel name "${channel}"`);
    if (!isEventType(type)) throw new TypeError(`invalid realtime event type "${type}"`);
    return this.log.append(channel, type, JSON.stringify(data) ?? 'null');
  }

  // ---- serving

  serve(req: IncomingMessage, res: ServerResponse, context: unknown): void {
    this.open(req, res, context as Context).catch((error: unknown) => {
      this.logger?.error({ err: error }, 'sse stream failed');
      if (!res.headersSent) this.comeBackLater(res, this.retryMs);
      else res.destroy();
    });
  }

  private async open(req: IncomingMessage, res: ServerResponse, context: Context): Promise<void> {
    if (this.closing) return this.comeBackLater(res, this.closeRetryMs);
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const header = req.headers['last-event-id'];
    const cursorText = (Array.isArray(header) ? header[0] : header) ?? query.get('lastEventId') ?? '';
    const cursor = parseCursor(cursorText);
    if (!cursor) return sendJsonError(res, 400, 'INVALID_LAST_EVENT_ID', 'Last-Event-ID is not an id this server issued');
    const decision = await this.policy.decide(query.get('channels'), context);
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
    res.write(retryFrame(this.retryMs) + eventFrame(connection.cursor(), opening));
    await this.replay(connection, cursor);
    if (connection.closed) return;
    const pending = connection.pending ?? [];
    connection.pending = null;
    for (let index = 0; index < pending.length; index += 3) {
      this.deliverTo(connection, pending[index] as number, pending[index + 1] as string, pending[index + 2] as string);
    }
  }

  /**
   * A transient refusal (Redis unreachable, shutting down) as an empty stream
   * with a `retry:`: EventSource reconnects after it (to any instance), while
   * an error status would make it give up for good.
   */
  private comeBackLater(res: ServerResponse, retryMs: number): void {
    res.writeHead(200, SSE_HEADERS);
    res.end(retryFrame(retryMs));
  }

  /** Writes each resumed channel's history after the cursor (or a reset when it was trimmed). */
  private async replay(connection: SseConnection, cursor: ResumeCursor): Promise<void> {
    for (let index = 0; index < connection.channels.length; index++) {
      const channel = connection.channels[index] as string;
      const after = cursorPosition(cursor, channel);
      if (after === undefined) continue;
      const position = await this.log.position(channel);
      if (compareIds(after, position.trimmedThrough) < 0) {
        // Events after the client's id are gone: it must refetch, then follow live.
        connection.positions[index] = position.lastId;
        const body = eventBody(channel, position.lastId, RESET_EVENT, '{"reason":"history-trimmed"}');
        if (!this.write(connection, eventFrame(connection.cursor(), body))) return;
        continue;
      }
      let from = after;
      for (;;) {
        const batch = await this.log.read(channel, from, REPLAY_BATCH);
        if (connection.closed) return;
        for (const event of batch) {
          connection.positions[index] = event.id;
          if (!this.write(connection, eventFrame(connection.cursor(), bodyOf(channel, event)), true)) return;
        }
        this.metrics?.sseEventsTotal.inc({ type: 'replay' }, batch.length);
        if (batch.length < REPLAY_BATCH) break;
        from = (batch[batch.length - 1] as LoggedEvent).id;
        // A long replay waits for the client to read instead of buffering it all.
        if (connection.res.writableLength > this.maxBufferedBytes / 2) await waitForDrain(connection.res);
      }
    }
  }

  private attach(channel: string, connection: SseConnection, index: number): ChannelHub {
    let hub = this.hubs.get(channel);
    if (!hub) {
      hub = new ChannelHub(channel);
      this.hubs.set(channel, hub);
      hub.ready = this.startHub(hub);
      // Rejections are handled by every connection awaiting `ready`.
      hub.ready.catch(() => undefined);
    } else if (hub.started) {
      connection.positions[index] = hub.lastId;
    }
    hub.connections.add(connection);
    return hub;
  }

  private async startHub(hub: ChannelHub): Promise<void> {
    try {
      await this.log.subscribe(hub.channel);
      const { lastId } = await this.log.position(hub.channel);
      if (hub.released) return;
      hub.lastId = lastId;
      hub.started = true;
      for (const connection of hub.connections) {
        const index = connection.channels.indexOf(hub.channel);
        if (connection.positions[index] === '') connection.positions[index] = lastId;
      }
    } catch (error) {
      if (this.hubs.get(hub.channel) === hub) this.release(hub);
      throw error;
    }
    await this.catchUp(hub);
  }

  private release(hub: ChannelHub): void {
    hub.released = true;
    if (this.hubs.get(hub.channel) === hub) this.hubs.delete(hub.channel);
    this.log.unsubscribe(hub.channel).catch((error: unknown) =>
      this.logger?.warn({ err: error, channel: hub.channel }, 'sse unsubscribe failed'),
    );
  }

  /** Forgets a connection; `destroy` also cuts its socket (slow client). */
  private drop(connection: SseConnection, destroy = false): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.pending = null;
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

  // ---- live delivery

  private onLive(channel: string, event: LiveEvent): void {
    const hub = this.hubs.get(channel);
    if (!hub) return;
    if (!hub.live) {
      this.bufferEvent(hub, event);
      return;
    }
    if (compareIds(event.id, hub.lastId) <= 0) return;
    if (event.prevId !== hub.lastId && compareIds(event.prevId, hub.lastId) > 0) {
      this.bufferEvent(hub, event);
      void this.catchUp(hub);
      return;
    }
    this.deliver(hub, event);
  }

  private bufferEvent(hub: ChannelHub, event: LiveEvent): void {
    if (hub.buffer.length >= MAX_HUB_BUFFER) {
      // Every announced event is in the log: read them back rather than hold them.
      hub.buffer = [];
      hub.overflowed = true;
    }
    hub.buffer.push(event);
  }

  /**
   * Reads the log after the hub's last id, then drains the buffered
   * announcements in order. A gap still visible in the buffer means the log
   * moved on meanwhile: read again (bounded, since an entry lost with a failed
   * master would otherwise never appear).
   */
  private async catchUp(hub: ChannelHub): Promise<void> {
    if (hub.catchingUp) {
      hub.catchUpAgain = true;
      return;
    }
    hub.catchingUp = true;
    hub.live = false;
    try {
      let rounds = 0;
      do {
        hub.catchUpAgain = false;
        hub.overflowed = false;
        rounds++;
        for (;;) {
          const batch = await this.log.read(hub.channel, hub.lastId, REPLAY_BATCH);
          if (hub.released) return;
          for (const event of batch) if (compareIds(event.id, hub.lastId) > 0) this.deliver(hub, event);
          if (batch.length < REPLAY_BATCH) break;
        }
        const buffered = hub.buffer;
        hub.buffer = [];
        for (let index = 0; index < buffered.length; index++) {
          const event = buffered[index] as LiveEvent;
          if (compareIds(event.id, hub.lastId) <= 0) continue;
          if (rounds < 3 && event.prevId !== hub.lastId && compareIds(event.prevId, hub.lastId) > 0) {
            hub.buffer = buffered.slice(index).concat(hub.buffer);
            hub.catchUpAgain = true;
            break;
          }
          this.deliver(hub, event);
        }
      } while (hub.catchUpAgain || hub.overflowed);
      hub.live = true;
    } catch (error) {
      // Redis unreachable: keep buffering and try again; clients lose nothing.
      this.logger?.warn({ err: error, channel: hub.channel }, 'sse catch-up failed, retrying');
      setTimeout(() => {
        if (!hub.released) void this.catchUp(hub);
      }, CATCH_UP_RETRY_MS).unref();
    } finally {
      hub.catchingUp = false;
    }
  }

  private resyncAll(): void {
    for (const hub of this.hubs.values()) if (hub.live) void this.catchUp(hub);
  }

  private async sweepHubs(): Promise<void> {
    for (const hub of [...this.hubs.values()]) {
      if (!hub.live) continue;
      try {
        const { lastId } = await this.log.position(hub.channel);
        if (hub.live && compareIds(lastId, hub.lastId) > 0) void this.catchUp(hub);
      } catch {
        return; // Redis down: the reconnect triggers a resync.
      }
    }
  }

  private deliver(hub: ChannelHub, event: LoggedEvent): void {
    hub.lastId = event.id;
    const body = bodyOf(hub.channel, event);
    // A single-channel stream's cursor is the event id, so all of them get the
    // same bytes: encoded once per event instead of once per connection.
    let shared: Buffer | undefined;
    let written = 0;
    for (const connection of hub.connections) {
      if (connection.channels.length === 1 && connection.pending === null) {
        if (!this.advance(connection, 0, event.id)) continue;
        shared ??= Buffer.from(eventFrame(event.id, body));
        if (this.write(connection, shared)) written++;
        continue;
      }
      const index = connection.channels.indexOf(hub.channel);
      if (connection.pending) connection.pending.push(index, event.id, body);
      else if (this.deliverTo(connection, index, event.id, body)) written++;
    }
    if (written > 0 && this.metrics) {
      this.metrics.sseEventsTotal.inc({ type: event.type }, written);
      // The id's time is the log's clock (Redis's): a clock ahead of ours reads as 0.
      this.metrics.sseDeliveryLag.observe(Math.max(0, Date.now() - idTime(event.id)) / 1000);
    }
  }

  private deliverTo(connection: SseConnection, index: number, id: string, body: string): boolean {
    if (!this.advance(connection, index, id)) return false;
    return this.write(connection, eventFrame(connection.cursor(), body));
  }

  /** Moves a connection's position on one channel to `id`; false when it already has that event. */
  private advance(connection: SseConnection, index: number, id: string): boolean {
    const position = connection.positions[index] as string;
    if (position !== '' && compareIds(id, position) <= 0) return false;
    connection.positions[index] = id;
    return true;
  }

  /** Writes, or closes a connection whose client does not keep up (it resumes by id). */
  private write(connection: SseConnection, text: string | Buffer, replaying = false): boolean {
    if (connection.closed) return false;
    connection.res.write(text);
    if (!replaying && connection.res.writableLength > this.maxBufferedBytes) {
      this.logger?.warn({ buffered: connection.res.writableLength }, 'sse client too slow, closing its stream');
      this.drop(connection, true);
      return false;
    }
    return true;
  }

  private ping(): void {
    for (const connection of this.connections) {
      if (connection.pending === null) this.write(connection, PING_FRAME);
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
    if (this.sweep) clearInterval(this.sweep);
    for (const connection of [...this.connections]) {
      const { res } = connection;
      // A short retry, then the end of the stream: the client reconnects at once, elsewhere.
      if (res.headersSent && !res.writableEnded) res.end(retryFrame(this.closeRetryMs));
      this.drop(connection, !res.headersSent);
    }
    await this.log.close();
  }
}

function bodyOf(channel: string, event: LoggedEvent): string {
  return eventBody(channel, event.id, event.type, event.json);
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
