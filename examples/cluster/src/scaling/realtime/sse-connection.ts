import type { ServerResponse } from 'node:http';
import { formatCursor } from './event-id.js';

/**
 * One open stream. Kept small on purpose (thousands per instance): no timers
 * or closures of its own; the processor's shared heartbeat and fan-out loops
 * write to it.
 */
export class SseConnection {
  /** Last id delivered per channel (same order as `channels`); '' until known. */
  readonly positions: string[];
  /**
   * While the connection replays history, live events queue here as
   * flat (channel index, id, frame body) triples; null once live.
   */
  pending: Array<number | string> | null = [];
  closed = false;

  constructor(
    readonly res: ServerResponse,
    readonly channels: readonly string[],
  ) {
    this.positions = channels.map(() => '');
  }

  cursor(): string {
    return formatCursor(this.channels, this.positions);
  }
}
