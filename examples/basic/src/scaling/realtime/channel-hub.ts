/**
 * One channel on this instance. However many local streams listen to it, the
 * hub holds one subscription to the channel log (the last stream to leave
 * releases it) and the id of the last event it delivered.
 *
 * A hub delivers strictly in id order, never twice: an announcement whose
 * `prevId` is newer than what the hub delivered reveals a gap (a message lost
 * during a reconnect or failover), and the hub reads the missing entries back
 * from the log first. After a reconnect, and on a slow periodic sweep, hubs
 * catch up from the log the same way.
 */
import type { Logger } from '../logger.js';
import type { RealtimeTracing } from '../tracing/index.js';
import type { ChannelLog, LiveEvent, LoggedEvent } from './channel-log.js';
import { ZERO_ID, compareIds, idTime } from './event-id.js';
import type { QueuedEvent, SseConnection } from './sse-connection.js';
import { eventBody, eventFrame } from './sse-wire.js';

/** Entries read from the log per round trip (replay and catch-up). */
export const READ_BATCH = 500;
/** Live events buffered while a hub catches up; past this they are re-read from the log instead. */
const MAX_BUFFERED_EVENTS = 10_000;
const CATCH_UP_RETRY_MS = 500;

/** How a hub's frames reach a stream: the processor bounds what a slow client may hold. */
export interface StreamWriter {
  /** False when the stream is closed, or was cut off just now for not keeping up. */
  write(connection: SseConnection, frame: string | Buffer): boolean;
  /** Holds a live event for a stream still replaying history; false as `write`. */
  enqueue(connection: SseConnection, event: QueuedEvent): boolean;
}

export interface HubMetrics {
  sseEventsTotal: { inc(labels: { type: string }, value?: number): void };
  sseDeliveryLag: { observe(seconds: number): void };
}

export class ChannelHub {
  readonly connections = new Set<SseConnection>();
  /** Resolves once subscribed and positioned; rejects when the log cannot be reached. */
  readonly ready: Promise<void>;
  private lastId = ZERO_ID;
  /** Subscribed and positioned once: `lastId` is meaningful from then on. */
  private started = false;
  /** False while subscribing or catching up: announcements go to `buffer`. */
  private live = false;
  private buffer: LiveEvent[] = [];
  private overflowed = false;
  private catchingUp = false;
  private catchUpAgain = false;
  private released = false;

  constructor(
    readonly channel: string,
    private readonly log: ChannelLog,
    private readonly writer: StreamWriter,
    private readonly metrics: HubMetrics | undefined,
    private readonly logger: Logger | undefined,
    private readonly tracing: RealtimeTracing | undefined = undefined,
  ) {
    this.ready = this.start();
  }

  private async start(): Promise<void> {
    await this.log.subscribe(this.channel);
    const { lastId } = await this.log.position(this.channel);
    if (this.released) return;
    this.lastId = lastId;
    this.started = true;
    for (const connection of this.connections) {
      const index = connection.channels.indexOf(this.channel);
      if (connection.positions[index] === '') connection.positions[index] = lastId;
    }
    await this.catchUp();
  }

  /** A stream joins; `index` is this channel's place in its channel list. */
  add(connection: SseConnection, index: number): void {
    // A running hub positions newcomers at once; a starting one does it in `start`.
    if (this.started) connection.positions[index] = this.lastId;
    this.connections.add(connection);
  }

  /** Stops listening to the log (the last stream left, or subscribing failed). */
  release(): void {
    this.released = true;
    this.log.unsubscribe(this.channel).catch((error: unknown) => this.logger?.warn({ err: error, channel: this.channel }, 'sse unsubscribe failed'));
  }

  // ---- live delivery

  /** An announcement from the log. Life of an event, step 6. */
  onLive(event: LiveEvent): void {
    if (!this.live) {
      this.bufferEvent(event);
      return;
    }
    if (compareIds(event.id, this.lastId) <= 0) return;
    if (event.prevId !== this.lastId && compareIds(event.prevId, this.lastId) > 0) {
      // A gap: something announced before this event never reached us.
      this.bufferEvent(event);
      void this.catchUp();
      return;
    }
    this.deliverOne(event);
  }

  /** After a reconnect: announcements may have been lost meanwhile. */
  resync(): void {
    if (this.live) void this.catchUp();
  }

  /** The safety net: a lost announcement with nothing published after it shows only in the log. */
  async sweep(): Promise<void> {
    if (!this.live) return;
    const { lastId } = await this.log.position(this.channel);
    if (this.live && compareIds(lastId, this.lastId) > 0) void this.catchUp();
  }

  private bufferEvent(event: LiveEvent): void {
    if (this.buffer.length >= MAX_BUFFERED_EVENTS) {
      // Every announced event is in the log: read them back rather than hold them.
      this.buffer = [];
      this.overflowed = true;
    }
    this.buffer.push(event);
  }

  /**
   * Reads the log after the hub's last id, then drains the buffered
   * announcements in order. A gap still visible in the buffer means the log
   * moved on meanwhile: read again (bounded, since an entry lost with a failed
   * master would otherwise never appear).
   */
  private async catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    this.catchingUp = true;
    this.live = false;
    try {
      let rounds = 0;
      do {
        this.catchUpAgain = false;
        this.overflowed = false;
        rounds++;
        for (;;) {
          const batch = await this.log.read(this.channel, this.lastId, READ_BATCH);
          if (this.released) return;
          this.deliverBatch(batch);
          if (batch.length < READ_BATCH) break;
        }
        const buffered = this.buffer;
        this.buffer = [];
        for (let index = 0; index < buffered.length; index++) {
          const event = buffered[index] as LiveEvent;
          if (compareIds(event.id, this.lastId) <= 0) continue;
          if (rounds < 3 && event.prevId !== this.lastId && compareIds(event.prevId, this.lastId) > 0) {
            this.buffer = buffered.slice(index).concat(this.buffer);
            this.catchUpAgain = true;
            break;
          }
          this.deliverOne(event);
        }
      } while (this.catchUpAgain || this.overflowed);
      this.live = true;
    } catch (error) {
      // Redis unreachable: keep buffering and try again; clients lose nothing.
      this.logger?.warn({ err: error, channel: this.channel }, 'sse catch-up failed, retrying');
      setTimeout(() => {
        if (!this.released) void this.catchUp();
      }, CATCH_UP_RETRY_MS).unref();
    } finally {
      this.catchingUp = false;
    }
  }

  /** A live event: a delivered batch of one. */
  private deliverOne(event: LoggedEvent): void {
    const streams = this.deliver(event);
    if (this.tracing !== undefined && streams > 0) this.tracing.delivered(this.channel, [event], streams);
  }

  /** Entries read back from the log, skipping those already delivered: one delivered batch. */
  private deliverBatch(events: readonly LoggedEvent[]): void {
    let streams = 0;
    const delivered: LoggedEvent[] = [];
    for (const event of events) {
      if (compareIds(event.id, this.lastId) <= 0) continue;
      streams = Math.max(streams, this.deliver(event));
      delivered.push(event);
    }
    if (this.tracing !== undefined && streams > 0) this.tracing.delivered(this.channel, delivered, streams);
  }

  /**
   * Hands one event to every stream of the channel, each at most once; returns
   * how many streams it was written to. Life of an event, step 7.
   */
  private deliver(event: LoggedEvent): number {
    this.lastId = event.id;
    const body = eventBody(this.channel, event.id, event.type, event.json);
    // A single-channel stream's cursor is the event id, so all of them get the
    // same bytes: encoded once per event instead of once per connection.
    let shared: Buffer | undefined;
    let written = 0;
    for (const connection of this.connections) {
      if (connection.channels.length === 1 && connection.queued === null) {
        if (!connection.advance(0, event.id)) continue;
        shared ??= Buffer.from(eventFrame(event.id, body));
        if (this.writer.write(connection, shared)) written++;
        continue;
      }
      const index = connection.channels.indexOf(this.channel);
      if (connection.queued !== null) this.writer.enqueue(connection, { index, id: event.id, body });
      else if (connection.advance(index, event.id) && this.writer.write(connection, eventFrame(connection.cursor(), body))) written++;
    }
    if (written > 0 && this.metrics) {
      this.metrics.sseEventsTotal.inc({ type: event.type }, written);
      // The id's time is the log's clock (Redis's): a clock ahead of ours reads as 0.
      this.metrics.sseDeliveryLag.observe(Math.max(0, Date.now() - idTime(event.id)) / 1000);
    }
    return written;
  }
}
