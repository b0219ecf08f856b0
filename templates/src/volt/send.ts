import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { errorEnvelope, type ErrorBody } from './errors.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const NDJSON_CONTENT_TYPE = 'application/x-ndjson';

/**
 * Extension point for response compression. The kernel calls `compress` only
 * for bodies of at least `threshold` bytes, after putting the status and
 * headers on `res` with `statusCode`/`setHeader` (no Content-Length yet).
 * Return `true` when it took over sending `body` (e.g. gzip), `false` to let
 * the kernel send it as is. Smaller bodies never reach it, so it costs
 * nothing on small JSON responses.
 */
export interface ResponseCompressor {
  threshold: number;
  compress(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean;
}

/**
 * The envelope `{ data, error }`. Success bodies are concatenated around
 * `JSON.stringify(data)`: one serializer pass over the data alone, no wrapper
 * object; `Buffer.byteLength` flattens the result before it is written.
 */
export function envelope(data: unknown, error: ErrorBody | null): string {
  if (error !== null) return errorEnvelope(error);
  const json = data === undefined ? 'null' : JSON.stringify(data);
  return `{"data":${json === undefined ? 'null' : json},"error":null}`;
}

/**
 * One `writeHead` with a flat header list and one `end`: the cheapest way to
 * answer on node:http (the head and body leave in one write).
 */
export function writeBody(
  req: IncomingMessage,
  res: ServerResponse,
  compress: ResponseCompressor | undefined,
  status: number,
  body: string,
  extra: string[] | null,
  contentType: string | null,
): void {
  const length = Buffer.byteLength(body);
  if (compress !== undefined && length >= compress.threshold && (res as { isFetchSink?: boolean }).isFetchSink !== true) {
    writeCompressible(req, res, compress, status, Buffer.from(body), extra, contentType);
    return;
  }
  if (extra !== null) appendHeaders(res, extra);
  // A numeric length: node writes numbers as they are, no string to allocate.
  res.writeHead(status, ['content-type', contentType ?? JSON_CONTENT_TYPE, 'content-length', length]);
  res.end(body);
}

/**
 * Handler-set headers go through `appendHeader`: once any header is set on
 * `res` (by an outer wrapper or here), `writeHead` merges its list with
 * `setHeader`, which would keep only the last of repeated `set-cookie` lines.
 */
function appendHeaders(res: ServerResponse, extra: string[]): void {
  for (let i = 0; i < extra.length; i += 2) res.appendHeader(extra[i]!, extra[i + 1]!);
}

function writeCompressible(
  req: IncomingMessage,
  res: ServerResponse,
  compress: ResponseCompressor,
  status: number,
  body: Buffer,
  extra: string[] | null,
  contentType: string | null,
): void {
  res.statusCode = status;
  // No content-length yet: the compressor decides it.
  res.setHeader('content-type', contentType ?? JSON_CONTENT_TYPE);
  if (extra !== null) appendHeaders(res, extra);
  if (compress.compress(req, res, body)) return;
  res.setHeader('content-length', body.length);
  res.end(body);
}

/** Status and headers only (204, redirects). */
export function writeEmpty(res: ServerResponse, status: number, extra: string[] | null): void {
  if (extra !== null) appendHeaders(res, extra);
  res.writeHead(status, status === 204 || status === 304 ? [] : ['content-length', '0']);
  res.end();
}

/** Streams a source chunk by chunk, honouring backpressure; stops when the client goes away. */
export async function writeStream(
  res: ServerResponse,
  status: number,
  source: AsyncIterable<unknown> | Iterable<unknown>,
  extra: string[] | null,
  contentType: string | null,
): Promise<void> {
  if (extra !== null) appendHeaders(res, extra);
  res.writeHead(status, ['content-type', contentType ?? NDJSON_CONTENT_TYPE, 'cache-control', 'no-cache']);
  res.flushHeaders();
  for await (const chunk of source) {
    if (res.destroyed) return;
    const bytes = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : `${JSON.stringify(chunk)}\n`;
    if (!res.write(bytes)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  res.end();
}
