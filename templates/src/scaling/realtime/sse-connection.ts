import type { ServerResponse } from 'node:http';
import { compareIds, formatCursor } from './event-id.js';

/** A live event that arrived while its stream was still replaying history. */
export interface QueuedEvent {
  /** The channel's place in the stream's channel list. */
  index: number;
  id: string;
  /** The frame without its `id:` line (see `eventBody`). */
  body: string;
}

/**
 * One open stream. Kept small on purpose (thousands per instance): no timers
 * or closures of its own; the processor's shared heartbeat and the hubs'
 * fan-out loops write to it.
 */
export class SseConnection {
  /** Last id delivered per channel (same order as `channels`); '' until known. */
  readonly positions: string[];
  /** Live events held back while the stream replays history; null once live. */
  queued: QueuedEvent[] | null = [];
  /** Characters held in `queued`: they count against the stream's bound like unsent bytes. */
  queuedLength = 0;
  closed = false;
  /** Bytes the kernel had taken at the last stall check, and since when that number has not moved (0: not stalled). */
  sentAtCheck = 0;
  stalledSince = 0;
  /** Ends the stream when its credentials expire (only streams opened with expiring credentials). */
  expiry: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly res: ServerResponse,
    readonly channels: readonly string[],
  ) {
    this.positions = channels.map(() => '');
  }

  /** The SSE `id:` that resumes every channel of this stream where it is now. */
  cursor(): string {
    return formatCursor(this.channels, this.positions);
  }

  /** Moves the position on one channel to `id`; false when the stream already has that event. */
  advance(index: number, id: string): boolean {
    const position = this.positions[index] as string;
    if (position !== '' && compareIds(id, position) <= 0) return false;
    this.positions[index] = id;
    return true;
  }

  /** What this stream holds in memory: queued events plus bytes written but not yet taken by the kernel. */
  unsent(): number {
    return this.queuedLength + this.res.writableLength;
  }

  /**
   * Bytes the client's kernel has taken so far: everything handed to the
   * socket minus what still waits in it. Moves whenever the client reads.
   */
  sent(): number {
    const socket = this.res.socket;
    return socket ? socket.bytesWritten - socket.writableLength : 0;
  }
}
