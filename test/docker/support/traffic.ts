/**
 * Client traffic for the Docker tests, sent only to ports published on
 * 127.0.0.1: SSE subscribers that resume the way EventSource does and keep
 * every event they receive (duplicates included, so a test can count them),
 * and paced GETs with their latencies.
 */
import { Agent } from 'node:http';
import { SseClient, type SseEvent } from '../../../templates/test/support/sse-client.js';
import { noteText, send } from '../../../templates/test/stack/traffic.js';

export { noteText, send, startPublisher } from '../../../templates/test/stack/traffic.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Connection {
  /** X-Instance-Id of the instance that served the stream. */
  instance: string;
  openedAt: number;
  closedAt?: number;
  /** The last `retry:` the server sent on this stream. */
  retry?: number;
}

/**
 * An SSE client that behaves like a browser's EventSource: when its stream
 * ends it waits the server's last `retry:` (at most 2 s) and reconnects
 * through the same address with `Last-Event-ID`. Unlike EventSource, it keeps
 * every event it was sent, in order, so duplicates show.
 */
export class RecordingSubscriber {
  readonly events: SseEvent[] = [];
  readonly connections: Connection[] = [];
  private client: SseClient | undefined;
  private running = true;
  private lastEventId: string | undefined;
  private readonly loop: Promise<void>;

  /** `lastEventId`: resume from there, as a page that kept it would. */
  constructor(private readonly options: { port: number; path: string; lastEventId?: string }) {
    this.lastEventId = options.lastEventId;
    this.loop = this.run();
  }

  /** The stream open right now, if any. */
  get current(): Connection | undefined {
    const last = this.connections.at(-1);
    return last && last.closedAt === undefined ? last : undefined;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let retry = 2_000;
      try {
        const client = await SseClient.open({
          port: this.options.port,
          path: this.options.path,
          ...(this.lastEventId ? { lastEventId: this.lastEventId } : {}),
          onEvent: (event) => {
            if (event.id) this.lastEventId = event.id;
            this.events.push(event);
          },
        });
        this.client = client;
        if (client.status === 200) {
          const connection: Connection = { instance: client.headers['x-instance-id'] ?? '?', openedAt: Date.now() };
          this.connections.push(connection);
          // The stream is over when the server ends the response (nginx may
          // keep the client's connection open for the next request) or the
          // connection drops.
          await Promise.race([client.closed, client.finished]);
          client.close();
          connection.closedAt = Date.now();
          if (client.retry !== undefined) connection.retry = client.retry;
          retry = client.retry ?? retry;
        } else {
          client.close();
        }
      } catch {
        // refused or reset before the headers: retry as EventSource would
      }
      if (this.running) await sleep(Math.min(retry, 2_000));
    }
  }

  /** The ids of the `note.created` events received, in order. */
  noteIds(): string[] {
    return this.events.filter((event) => noteText(event) !== undefined).map((event) => event.id ?? '');
  }

  /** How many times each note text arrived in a `note.created` event. */
  noteCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const event of this.events) {
      const text = noteText(event);
      if (text) counts.set(text, (counts.get(text) ?? 0) + 1);
    }
    return counts;
  }

  async waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  }

  async close(): Promise<void> {
    this.running = false;
    this.client?.close();
    await this.loop;
  }
}

export interface Sample {
  path: string;
  at: number;
  ms: number;
  status: number;
}

/**
 * GETs through one address for durationMs: `workers` loops with a keep-alive
 * connection each, every loop paced to perWorkerPerSecond, one request in
 * flight per loop. Returns each request's latency.
 */
export async function pacedGets(options: {
  port: number;
  paths: string[];
  workers: number;
  perWorkerPerSecond: number;
  durationMs: number;
}): Promise<Sample[]> {
  const samples: Sample[] = [];
  const end = Date.now() + options.durationMs;
  const interval = 1000 / options.perWorkerPerSecond;
  await Promise.all(
    Array.from({ length: options.workers }, async (_, worker) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = worker; Date.now() < end; i++) {
        const began = performance.now();
        const path = options.paths[i % options.paths.length]!;
        const answer = await send({ port: options.port, path, agent });
        const ms = performance.now() - began;
        samples.push({ path, at: Date.now(), ms, status: answer.status });
        const wait = interval - ms;
        if (wait > 0) await sleep(wait);
      }
      agent.destroy();
    }),
  );
  return samples;
}

/** The q-quantile (0..1) of a list of numbers, nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
