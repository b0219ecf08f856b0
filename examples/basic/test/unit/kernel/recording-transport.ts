import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RealtimeTransport } from '../../../src/volt/realtime-transport.js';

/**
 * A minimal real transport for kernel tests: remembers what was published and
 * serves the events endpoint by writing the context it was given, so tests can
 * see what the kernel hands to a transport.
 */
export class RecordingTransport implements RealtimeTransport {
  readonly published: Array<{ channel: string; type: string; data: unknown }> = [];
  private waiters: Array<() => void> = [];

  async publish(channel: string, type: string, data: unknown): Promise<string> {
    this.published.push({ channel, type, data });
    for (const wake of this.waiters.splice(0)) wake();
    return `${Date.now()}-${this.published.length - 1}`;
  }

  serve(_req: IncomingMessage, res: ServerResponse, context: unknown): void {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`event: hello\ndata: ${JSON.stringify(context)}\n\n`);
  }

  async close(): Promise<void> {}

  /** Resolves once at least `count` events were published. */
  async waitFor(count: number): Promise<void> {
    while (this.published.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}
