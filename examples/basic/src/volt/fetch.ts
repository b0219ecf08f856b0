import { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/**
 * Just enough of node's ServerResponse for the kernel's writers, collecting
 * the answer into a Fetch `Response`. Bodies are buffered: realtime (SSE)
 * needs node:http, and the compression hook is left to the Fetch runtime.
 */
export class FetchResponseSink extends EventEmitter {
  readonly isFetchSink = true;
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  private readonly headers = new Headers();
  private readonly chunks: Buffer[] = [];

  constructor(private readonly resolve: (response: Response) => void) {
    super();
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headers.delete(name);
    return this.appendHeader(name, value);
  }

  appendHeader(name: string, value: string | number | readonly string[]): this {
    if (typeof value === 'object') for (const item of value) this.headers.append(name, item);
    else this.headers.append(name, String(value));
    return this;
  }

  writeHead(status: number, headers?: readonly string[] | OutgoingHttpHeaders): this {
    this.statusCode = status;
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) this.appendHeader(headers[i]!, headers[i + 1]!);
    } else if (headers) {
      for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.setHeader(name, value);
    }
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {
    this.headersSent = true;
  }

  write(chunk: string | Uint8Array): boolean {
    this.headersSent = true;
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return true;
  }

  end(chunk?: string | Uint8Array): this {
    if (this.writableEnded) return this;
    if (chunk !== undefined) this.write(chunk);
    this.writableEnded = true;
    this.headersSent = true;
    const status = this.statusCode;
    const body = status === 204 || status === 304 || this.chunks.length === 0 ? null : Buffer.concat(this.chunks);
    this.resolve(new Response(body, { status, headers: this.headers }));
    this.emit('finish');
    this.emit('close');
    return this;
  }

  destroy(): this {
    if (!this.writableEnded) this.end();
    this.destroyed = true;
    return this;
  }
}

/** Runs a node-style listener for one Fetch `Request`. */
export async function handleFetch(request: Request, listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<Response> {
  const url = new URL(request.url);
  const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer());
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (body !== undefined && headers['content-length'] === undefined) {
    headers['content-length'] = String(body.length);
    delete headers['transfer-encoding'];
  }
  const req = Readable.from(body === undefined ? [] : [body]) as unknown as IncomingMessage;
  Object.assign(req, { method: request.method, url: url.pathname + url.search, headers, httpVersion: '1.1' });
  return new Promise<Response>((resolve) => {
    listener(req, new FetchResponseSink(resolve) as unknown as ServerResponse);
  });
}
