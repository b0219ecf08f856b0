/**
 * The embedded channel log: a ring buffer per channel with the same ids,
 * replay and trimming semantics as the Redis Stream log, for one process.
 */
import { StreamIdClock, ZERO_ID, compareIds } from './event-id.js';
import type { ChannelLog, LogHandlers, LogPosition, LoggedEvent } from './channel-log.js';

class Ring {
  private readonly entries: Array<LoggedEvent | undefined>;
  private start = 0;
  size = 0;
  readonly clock = new StreamIdClock();
  lastId = ZERO_ID;
  trimmedThrough = ZERO_ID;

  constructor(readonly capacity: number) {
    this.entries = new Array<LoggedEvent | undefined>(capacity);
  }

  push(event: LoggedEvent): void {
    if (this.size === this.capacity) {
      const evicted = this.entries[this.start];
      if (evicted) this.trimmedThrough = evicted.id;
      this.entries[this.start] = event;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.entries[(this.start + this.size) % this.capacity] = event;
      this.size++;
    }
    this.lastId = event.id;
  }

  at(index: number): LoggedEvent {
    return this.entries[(this.start + index) % this.capacity] as LoggedEvent;
  }

  /** Index of the first entry newer than `afterId` (binary search: ids are sorted). */
  firstAfter(afterId: string): number {
    let low = 0;
    let high = this.size;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareIds(this.at(middle).id, afterId) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

export interface MemoryChannelLogOptions {
  /** Entries kept per channel (the counterpart of SSE_STREAM_MAXLEN). */
  maxLength: number;
}

export class MemoryChannelLog implements ChannelLog {
  private readonly rings = new Map<string, Ring>();
  private readonly subscribed = new Set<string>();
  private handlers: LogHandlers | undefined;
  private readonly maxLength: number;

  constructor(options: MemoryChannelLogOptions) {
    this.maxLength = Math.max(1, options.maxLength);
  }

  private ring(channel: string): Ring {
    let ring = this.rings.get(channel);
    if (!ring) {
      ring = new Ring(this.maxLength);
      this.rings.set(channel, ring);
    }
    return ring;
  }

  /** Life of an event, step 4 (without Redis), and step 5 at once. */
  append(channel: string, type: string, json: string, trace?: string): Promise<string> {
    const ring = this.ring(channel);
    const prevId = ring.lastId;
    const event: LoggedEvent = { id: ring.clock.next(), type, json, trace };
    ring.push(event);
    // Announced synchronously: ids reach subscribers in order by construction.
    if (this.subscribed.has(channel)) this.handlers?.live(channel, { ...event, prevId });
    return Promise.resolve(event.id);
  }

  read(channel: string, afterId: string, limit: number): Promise<LoggedEvent[]> {
    const ring = this.rings.get(channel);
    if (!ring) return Promise.resolve([]);
    const events: LoggedEvent[] = [];
    for (let index = ring.firstAfter(afterId); index < ring.size && events.length < limit; index++) {
      events.push(ring.at(index));
    }
    return Promise.resolve(events);
  }

  position(channel: string): Promise<LogPosition> {
    const ring = this.rings.get(channel);
    return Promise.resolve(ring ? { lastId: ring.lastId, trimmedThrough: ring.trimmedThrough } : { lastId: ZERO_ID, trimmedThrough: ZERO_ID });
  }

  subscribe(channel: string): Promise<void> {
    this.subscribed.add(channel);
    return Promise.resolve();
  }

  unsubscribe(channel: string): Promise<void> {
    this.subscribed.delete(channel);
    return Promise.resolve();
  }

  /** Channels with live subscribers (for tests and diagnostics). */
  get subscriptionCount(): number {
    return this.subscribed.size;
  }

  setHandlers(handlers: LogHandlers): void {
    this.handlers = handlers;
  }

  close(): Promise<void> {
    this.subscribed.clear();
    return Promise.resolve();
  }
}
