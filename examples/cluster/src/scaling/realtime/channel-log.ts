/**
 * Where a channel's events live. The SSE processor is the same for every
 * backend; a log only stores, reads and announces events:
 * - Redis: one Stream per channel plus (sharded) pub/sub for live delivery;
 * - memory: one ring buffer per channel, for a single process without Redis.
 */

/** An event as stored: `json` is the serialized `data`, kept as text end to end. */
export interface LoggedEvent {
  id: string;
  type: string;
  json: string;
  /** The publisher's trace context (a W3C `traceparent`), when tracing was on; never sent to clients. */
  trace?: string | undefined;
}

/**
 * A live announcement also names the id of the entry before it in the stream,
 * so a receiver that delivered something else last knows it missed events
 * (a pub/sub message lost during a reconnect or failover) and reads them back.
 */
export interface LiveEvent extends LoggedEvent {
  prevId: string;
}

export interface LogPosition {
  /** Newest id ever appended (`0-0` for a channel never written). */
  lastId: string;
  /** Newest id trimmed away; a resume from before it has lost events. */
  trimmedThrough: string;
}

export interface LogHandlers {
  live(channel: string, event: LiveEvent): void;
  /** Live delivery may have had a gap (reconnect, failover): catch every channel up. */
  resync(): void;
}

export interface ChannelLog {
  /** Appends and announces atomically, so live announcements come in id order. */
  append(channel: string, type: string, json: string, trace?: string): Promise<string>;
  /** Entries strictly after `afterId`, oldest first, at most `limit`. */
  read(channel: string, afterId: string, limit: number): Promise<LoggedEvent[]>;
  position(channel: string): Promise<LogPosition>;
  /** Start / stop live announcements for a channel (the processor reference-counts). */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  setHandlers(handlers: LogHandlers): void;
  close(): Promise<void>;
}
