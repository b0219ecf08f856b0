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

/** Per-router sending settings, prepared once at startup. */
export interface SendSettings {
  /**
   * `[content-type, json, ...static headers, content-length, <placeholder>]`:
   * copied per response (the copy has its final size, no growth) and the
   * last slot filled in.
   */
  readonly jsonHeaders: ReadonlyArray<string | number>;
  /** Static headers alone (empty responses, streams). */
  readonly staticHeaders: readonly string[];
  readonly compress: ResponseCompressor | undefined;
}

export function createSendSettings(staticHeaders: Record<string, string> | undefined, compress: ResponseCompressor | undefined): SendSettings {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(staticHeaders ?? {})) flat.push(name.toLowerCase(), value);
  return { jsonHeaders: ['content-type', JSON_CONTENT_TYPE, ...flat, 'content-length', '0'], staticHeaders: flat, compress };
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
  settings: SendSettings,
  status: number,
  body: string,
  extra: string[] | null,
  contentType: string | null,
): void {
  const length = Buffer.byteLength(body);
  const compress = settings.compress;
  if (compress !== undefined && length >= compress.threshold && (res as { isFetchSink?: boolean }).isFetchSink !== true) {
    writeCompressible(req, res, settings, status, Buffer.from(body), extra, contentType);
    return;
  }
  const headers = settings.jsonHeaders.slice();
  if (contentType !== null) headers[1] = contentType;
  headers[headers.length - 1] = length; // node writes numbers as they are: no string to allocate
  if (extra !== null) appendHeaders(res, extra);
  res.writeHead(status, headers);
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
  settings: SendSettings,
  status: number,
  body: Buffer,
  extra: string[] | null,
  contentType: string | null,
): void {
  res.statusCode = status;
  const base = settings.jsonHeaders;
  // All but the content-length placeholder: the compressor decides the length.
  for (let i = 0; i < base.length - 2; i += 2) res.setHeader(base[i] as string, base[i + 1]!);
  if (contentType !== null) res.setHeader('content-type', contentType);
  if (extra !== null) for (let i = 0; i < extra.length; i += 2) res.appendHeader(extra[i]!, extra[i + 1]!);
  if (settings.compress!.compress(req, res, body)) return;
  res.setHeader('content-length', body.length);
  res.end(body);
}

/** Status and headers only (204, redirects). */
export function writeEmpty(res: ServerResponse, settings: SendSettings, status: number, extra: string[] | null): void {
  const headers = settings.staticHeaders.slice();
  if (status !== 204 && status !== 304) headers.push('content-length', '0');
  if (extra !== null) appendHeaders(res, extra);
  res.writeHead(status, headers);
  res.end();
}

/** Streams a source chunk by chunk, honouring backpressure; stops when the client goes away. */
export async function writeStream(
  res: ServerResponse,
  settings: SendSettings,
  status: number,
  source: AsyncIterable<unknown> | Iterable<unknown>,
  extra: string[] | null,
  contentType: string | null,
): Promise<void> {
  const headers = settings.staticHeaders.slice();
  headers.push('content-type', contentType ?? NDJSON_CONTENT_TYPE, 'cache-control', 'no-cache');
  if (extra !== null) appendHeaders(res, extra);
  res.writeHead(status, headers);
  res.flushHeaders();
  for await (const chunk of source) {
    if (res.destroyed) return;
    const bytes = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : `${JSON.stringify(chunk)}\n`;
    if (!res.write(bytes)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  res.end();
}
