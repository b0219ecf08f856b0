/**
 * Event ids and resume cursors.
 *
 * Every channel is an append-only log whose entries carry Redis Stream ids,
 * `<milliseconds>-<sequence>` (the in-memory log issues ids in the same format),
 * strictly increasing within a channel. An SSE `id:` must let a client resume
 * EVERY channel of its connection from one `Last-Event-ID`, so the id a client
 * sees is a cursor:
 *
 * - one channel: the stream id alone, `1700000000000-0`;
 * - several channels: `channel:streamId` pairs for every subscribed channel,
 *   comma-separated, `notes:1700000000000-0,user:42:1700000000001-3`. A stream id
 *   never contains `:`, so each pair splits at its LAST colon, and channel
 *   names may contain colons (`user:42`). Channel names never contain `,`.
 *
 * Resume rules: a channel listed in the cursor resumes after its id; a bare
 * stream id applies to every channel (ids are time-based, so it means "after
 * that moment" for channels it never saw); a channel missing from the cursor
 * starts live; pairs for channels not subscribed are ignored.
 */

export const ZERO_ID = '0-0';

// No leading zeros: one spelling per id, which compareIds relies on.
const STREAM_ID = /^(?:0|[1-9]\d{0,19})-(?:0|[1-9]\d{0,19})$/;
/** Both parts of a Redis Stream id are unsigned 64-bit integers. */
const MAX_PART = '18446744073709551615';

export function isStreamId(text: string): boolean {
  if (!STREAM_ID.test(text)) return false;
  // Only a 20-digit part can pass 2^64 - 1; same length, so strings compare as numbers.
  const dash = text.indexOf('-');
  return fitsIn64Bits(text.slice(0, dash)) && fitsIn64Bits(text.slice(dash + 1));
}

function fitsIn64Bits(digits: string): boolean {
  return digits.length < MAX_PART.length || digits <= MAX_PART;
}

/**
 * Orders two stream ids: negative when `a` is older. Compares the digits in
 * place (length first, ids have no leading zeros), so it allocates nothing on
 * the fan-out path and stays exact beyond 2^53.
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const dashA = a.indexOf('-');
  const dashB = b.indexOf('-');
  if (dashA !== dashB) return dashA - dashB;
  for (let index = 0; index < dashA; index++) {
    const difference = a.charCodeAt(index) - b.charCodeAt(index);
    if (difference !== 0) return difference;
  }
  const sequenceA = a.length - dashA;
  const sequenceB = b.length - dashB;
  if (sequenceA !== sequenceB) return sequenceA - sequenceB;
  for (let index = dashA + 1; index < a.length; index++) {
    const difference = a.charCodeAt(index) - b.charCodeAt(index);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The millisecond time an id was issued at (its first part). */
export function idTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** Channel -> position; `all` is set when the client sent a bare stream id. */
export interface ResumeCursor {
  all?: string;
  channels: Map<string, string>;
}

/** Parses a `Last-Event-ID` value; returns null when it is malformed. */
export function parseCursor(text: string): ResumeCursor | null {
  const value = text.trim();
  if (value === '') return { channels: new Map() };
  if (isStreamId(value)) return { all: value, channels: new Map() };
  const channels = new Map<string, string>();
  for (const pair of value.split(',')) {
    const colon = pair.lastIndexOf(':');
    const channel = pair.slice(0, colon);
    const id = pair.slice(colon + 1);
    if (colon <= 0 || !isStreamId(id)) return null;
    channels.set(channel, id);
  }
  return { channels };
}

/** The resume position of `channel`, or undefined to start live. */
export function cursorPosition(cursor: ResumeCursor, channel: string): string | undefined {
  return cursor.channels.get(channel) ?? cursor.all;
}

/** The SSE id for a connection whose channels are at `positions` (same order). */
export function formatCursor(channels: readonly string[], positions: readonly string[]): string {
  if (channels.length === 1) return positions[0] ?? ZERO_ID;
  let text = '';
  for (let index = 0; index < channels.length; index++) {
    if (index > 0) text += ',';
    text += `${channels[index]}:${positions[index] ?? ZERO_ID}`;
  }
  return text;
}

/** Issues monotonically increasing ids in stream format from a millisecond clock. */
export class StreamIdClock {
  private lastMs = 0;
  private sequence = 0;

  constructor(private readonly now: () => number = Date.now) {}

  next(): string {
    const ms = this.now();
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.sequence = 0;
    } else {
      // Same millisecond, or the clock stepped back: keep ordering by sequence.
      this.sequence++;
    }
    return `${this.lastMs}-${this.sequence}`;
  }
}
