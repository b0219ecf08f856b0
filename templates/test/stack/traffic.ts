/**
 * Traffic for the stack tests, all through nginx: paced GET load from several
 * client addresses, a note publisher, and SSE clients that reconnect with
 * Last-Event-ID the way a browser's EventSource does.
 */
import { Agent, request } from 'node:http';
import { SseClient, type SseEvent } from '../support/sse-client.js';

export interface Outcome {
  at: number;
  ok: boolean;
  status: number;
  error?: string;
  instance?: string;
}

/** One HTTP request; never throws (a network error is an outcome). */
export function send(options: {
  port: number;
  method?: string;
  path: string;
  body?: unknown;
  agent?: Agent;
  localAddress?: string;
  headers?: Record<string, string>;
}): Promise<Outcome & { body: string; raw: Buffer; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      {
        host: '127.0.0.1',
        port: options.port,
        method: options.method ?? 'GET',
        path: options.path,
        agent: options.agent,
        localAddress: options.localAddress,
        timeout: 15_000,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({
            at: Date.now(),
            ok: status >= 200 && status < 300,
            status,
            instance: res.headers['x-instance-id'] as string | undefined,
            raw: Buffer.concat(chunks),
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          });
        });
        res.on('error', (error) => resolve({ at: Date.now(), ok: false, status: 0, error: error.message, body: '', raw: Buffer.alloc(0), headers: {} }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ at: Date.now(), ok: false, status: 0, error: error.message, body: '', raw: Buffer.alloc(0), headers: {} }));
    req.end(payload);
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * GET load: `workers` loops, each with its own keep-alive connection from its
 * own loopback source address (nginx rate-limits per client address), each
 * paced to `perWorkerPerSecond`. At most one request per worker is in flight.
 */
export function startGetLoad(options: { port: number; paths: string[]; workers: number; perWorkerPerSecond: number }) {
  let running = true;
  const outcomes: Outcome[] = [];
  const interval = 1000 / options.perWorkerPerSecond;
  const loops = Array.from({ length: options.workers }, async (_, w) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const localAddress = `127.0.0.${200 + w}`;
    for (let i = 0; running; i++) {
      const began = Date.now();
      const path = options.paths[i % options.paths.length]!;
      const outcome = await send({ port: options.port, path, agent, localAddress });
      outcomes.push({ at: outcome.at, ok: outcome.ok, status: outcome.status, ...(outcome.error ? { error: outcome.error } : {}) });
      const wait = interval - (Date.now() - began);
      if (wait > 0) await sleep(wait);
    }
    agent.destroy();
  });
  return {
    outcomes,
    async stop(): Promise<Outcome[]> {
      running = false;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** POSTs notes with unique texts one after another; remembers which ones were acknowledged. */
export function startPublisher(options: { port: number; label: string; everyMs: number }) {
  let running = true;
  const acknowledged: string[] = [];
  const outcomes: Outcome[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const loop = (async () => {
    for (let seq = 0; running; seq++) {
      const text = `${options.label}-${seq}`;
      const outcome = await send({ port: options.port, method: 'POST', path: '/api/v1/notes', body: { text }, agent, localAddress: '127.0.0.199' });
      outcomes.push({ at: outcome.at, ok: outcome.ok, status: outcome.status, ...(outcome.error ? { error: outcome.error } : {}) });
      if (outcome.ok) acknowledged.push(text);
      await sleep(options.everyMs);
    }
    agent.destroy();
  })();
  return {
    acknowledged,
    outcomes,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** The note text carried by a `note.created` event, if it is one. */
export function noteText(event: SseEvent): string | undefined {
  try {
    const envelope = JSON.parse(event.data) as { type?: string; data?: { text?: string } };
    return envelope.type === 'note.created' ? envelope.data?.text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An SSE subscriber that, like EventSource, reconnects after its stream ends
 * and sends the last id it saw, so the server replays what it missed. Keeps
 * every event (de-duplicated by id) and the instances it was served by.
 */
export class ResumingSubscriber {
  readonly events = new Map<string, SseEvent>();
  readonly instances: string[] = [];
  reconnects = 0;
  private client: SseClient | undefined;
  private running = true;
  private lastEventId: string | undefined;
  private readonly loop: Promise<void>;

  constructor(private readonly options: { port: number; path: string; localAddress?: string }) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const client = await SseClient.open({
          port: this.options.port,
          path: this.options.path,
          ...(this.lastEventId ? { lastEventId: this.lastEventId } : {}),
          onEvent: (event) => {
            if (event.id) this.lastEventId = event.id;
            this.events.set(event.id, event);
          },
        });
        this.client = client;
        if (client.status === 200) {
          this.instances.push(client.headers['x-instance-id'] ?? '?');
          await client.closed;
        } else {
          client.close();
        }
      } catch {
        // refused or reset before the headers: retry as EventSource would
      }
      if (this.running) {
        this.reconnects++;
        await sleep(250);
      }
    }
  }

  get texts(): Set<string> {
    const texts = new Set<string>();
    for (const event of this.events.values()) {
      const text = noteText(event);
      if (text) texts.add(text);
    }
    return texts;
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
