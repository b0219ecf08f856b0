/**
 * A Server-Sent Events client over a raw TCP socket: it writes the HTTP/1.1
 * request itself, decodes chunked transfer encoding and parses the event
 * stream as the EventSource spec does (id / event / data / retry fields,
 * comments, blank-line dispatch). Light enough to open thousands at once,
 * and it shows exactly which bytes the server sent.
 */
import { connect, type Socket } from 'node:net';

export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/** Data of the `connected` event every stream starts with. */
export interface ConnectedInfo {
  instanceId: string | null;
  channels: string[];
  resumedFrom: string | null;
}

export interface SseClientOptions {
  port: number;
  host?: string;
  /** Path with query, e.g. `/api/v1/sse/events?channels=notes`. */
  path: string;
  lastEventId?: string;
  headers?: Record<string, string>;
  /** Keep every event in `events` (default true; pass false with `onEvent` for long-running streams). */
  keep?: boolean;
  onEvent?: (event: SseEvent, client: SseClient) => void;
}

export class SseClient {
  status = 0;
  headers: Record<string, string> = {};
  /** The body of a non-stream answer (errors), once it ended. */
  body = '';
  readonly events: SseEvent[] = [];
  /** Last `id:` seen, as an EventSource would send it back in `Last-Event-ID`. */
  lastEventId = '';
  retry: number | undefined;
  /** The stream's `connected` event, once received. */
  connected: ConnectedInfo | undefined;
  pings = 0;
  ended = false;
  readonly closed: Promise<void>;

  private readonly socket: Socket;
  private head = '';
  private inBody = false;
  private chunked = false;
  private raw: Buffer = Buffer.alloc(0);
  private text = '';
  private pendingId: string | undefined;
  private pendingEvent = '';
  private pendingData: string[] = [];
  private readonly keep: boolean;
  private headersSeen!: () => void;
  private failed!: (error: Error) => void;
  readonly ready: Promise<void>;

  private constructor(private readonly options: SseClientOptions) {
    this.keep = options.keep ?? true;
    if (options.lastEventId !== undefined) this.lastEventId = options.lastEventId;
    this.ready = new Promise((resolve, reject) => {
      this.headersSeen = resolve;
      this.failed = reject;
    });
    const host = options.host ?? '127.0.0.1';
    this.socket = connect({ port: options.port, host });
    this.socket.setNoDelay(true);
    const headerLines = [
      `GET ${options.path} HTTP/1.1`,
      `Host: ${host}:${options.port}`,
      'Accept: text/event-stream',
      ...(options.lastEventId ? [`Last-Event-ID: ${options.lastEventId}`] : []),
      ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    ];
    this.socket.write(`${headerLines.join('\r\n')}\r\n\r\n`);
    this.socket.on('data', (data: Buffer) => this.onData(data));
    this.closed = new Promise((resolve) => {
      this.socket.once('close', () => {
        this.ended = true;
        this.failed(new Error(`connection closed before a response (${options.path})`));
        resolve();
      });
    });
    this.socket.on('error', () => undefined);
  }

  /** Connects and resolves once the response head arrived (any status). */
  static async open(options: SseClientOptions): Promise<SseClient> {
    const client = new SseClient(options);
    await client.ready;
    return client;
  }

  /** For error answers: resolves with the status and the parsed JSON body. */
  static async request(options: SseClientOptions): Promise<{ status: number; headers: Record<string, string>; json: unknown }> {
    const client = await SseClient.open(options);
    if (client.status === 200) {
      client.close();
      return { status: 200, headers: client.headers, json: null };
    }
    await client.closedOrEnded();
    return { status: client.status, headers: client.headers, json: JSON.parse(client.body) };
  }

  private bodyDone!: () => void;
  /** Resolves when the server ended the response (last chunk), even on a kept-alive socket. */
  readonly finished = new Promise<void>((resolve) => {
    this.bodyDone = resolve;
  });

  private closedOrEnded(): Promise<void> {
    return Promise.race([this.closed, this.finished]);
  }

  private onData(data: Buffer): void {
    if (!this.inBody) {
      this.head += data.toString('latin1');
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const rest = Buffer.from(this.head.slice(end + 4), 'latin1');
      const [statusLine = '', ...lines] = this.head.slice(0, end).split('\r\n');
      this.status = Number(statusLine.split(' ')[1]);
      for (const line of lines) {
        const colon = line.indexOf(':');
        this.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      this.chunked = /chunked/i.test(this.headers['transfer-encoding'] ?? '');
      this.inBody = true;
      this.headersSeen();
      if (rest.length > 0) this.onBody(rest);
      return;
    }
    this.onBody(data);
  }

  private onBody(data: Buffer): void {
    if (!this.chunked) {
      this.onText(data.toString('utf8'));
      const length = Number(this.headers['content-length'] ?? NaN);
      if (this.status !== 200 && Buffer.byteLength(this.body) >= length) this.bodyDone();
      return;
    }
    this.raw = this.raw.length === 0 ? data : Buffer.concat([this.raw, data]);
    for (;;) {
      const lineEnd = this.raw.indexOf('\r\n');
      if (lineEnd < 0) return;
      const size = parseInt(this.raw.subarray(0, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        this.bodyDone();
        return;
      }
      if (this.raw.length < lineEnd + 2 + size + 2) return;
      this.onText(this.raw.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8'));
      this.raw = this.raw.subarray(lineEnd + 2 + size + 2);
    }
  }

  private onText(text: string): void {
    if (this.status !== 200) {
      this.body += text;
      return;
    }
    // One split per chunk: the unfinished last line waits for the next chunk.
    const lines = (this.text + text).split('\n');
    this.text = lines.pop() ?? '';
    for (const line of lines) this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  private onLine(line: string): void {
    if (line === '') {
      if (this.pendingId !== undefined) this.lastEventId = this.pendingId;
      if (this.pendingEvent === 'connected') {
        // The stream's opening event (serving instance, resume point), not a channel event.
        this.connected = JSON.parse(this.pendingData.join('\n')) as ConnectedInfo;
      } else if (this.pendingData.length > 0) {
        const event = { id: this.pendingId ?? this.lastEventId, event: this.pendingEvent || 'message', data: this.pendingData.join('\n') };
        if (this.keep) this.events.push(event);
        this.options.onEvent?.(event, this);
      }
      this.pendingId = undefined;
      this.pendingEvent = '';
      this.pendingData = [];
      return;
    }
    if (line.startsWith(':')) {
      if (line === ': ping') this.pings++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') this.pendingId = value;
    else if (field === 'event') this.pendingEvent = value;
    else if (field === 'data') this.pendingData.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }

  /** Events parsed as the server's JSON envelope. */
  envelopes<T = unknown>(): Array<{ id: string; channel: string; type: string; data: T }> {
    return this.events.map((event) => JSON.parse(event.data));
  }

  async waitFor(check: (client: SseClient) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this)) {
      if (Date.now() > deadline) throw new Error(`SSE client timed out after ${timeoutMs} ms waiting for ${what} (have ${this.events.length} events)`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  waitForEvents(count: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor((client) => client.events.length >= count, timeoutMs, `${count} events`);
  }

  /** Stops reading from the socket: what a client that stopped reading does (the server's writes back up). */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** The client's end of the connection (the server sees it as the remote port). */
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * What a browser's EventSource does across failures: when the stream ends or
 * the instance dies, reconnect (here: to the next instance in the list, as a
 * load balancer would) sending the last id, and keep every event received.
 */
export class ResumingSseClient {
  readonly events: SseEvent[] = [];
  reconnects = 0;
  /** When each reconnect happened (ms since epoch), for reports. */
  readonly reconnectedAt: number[] = [];
  lastEventId = '';
  private current: SseClient | undefined;
  private stopped = false;
  private target: number;

  constructor(
    private readonly ports: () => number[],
    private readonly path: string,
    start = 0,
    private readonly retryMs = 50,
  ) {
    this.target = start;
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    while (!this.stopped) {
      const ports = this.ports();
      const port = ports[this.target % ports.length]!;
      try {
        const client = await SseClient.open({
          port,
          path: this.path,
          ...(this.lastEventId ? { lastEventId: this.lastEventId } : {}),
          onEvent: (event) => {
            this.events.push(event);
          },
        });
        if (client.status !== 200) throw new Error(`status ${client.status}`);
        this.current = client;
        void client.closed.then(() => {
          if (client.lastEventId) this.lastEventId = client.lastEventId;
          if (this.stopped) return;
          this.reconnects++;
          this.reconnectedAt.push(Date.now());
          this.target++;
          setTimeout(() => void this.connect(), this.retryMs);
        });
        return;
      } catch {
        this.target++;
        await new Promise((resolve) => setTimeout(resolve, this.retryMs));
      }
    }
  }

  envelopes<T = unknown>(): Array<{ id: string; channel: string; type: string; data: T }> {
    return this.events.map((event) => JSON.parse(event.data));
  }

  async waitFor(check: (client: ResumingSseClient) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this)) {
      if (Date.now() > deadline) throw new Error(`resuming SSE client timed out after ${timeoutMs} ms waiting for ${what} (have ${this.events.length} events)`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  stop(): void {
    this.stopped = true;
    this.current?.close();
  }
}
