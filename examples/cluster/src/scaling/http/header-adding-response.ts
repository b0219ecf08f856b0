import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';

const EXTRA = Symbol('extraHeaders');
type HeaderList = OutgoingHttpHeaders | OutgoingHttpHeader[] | readonly string[];

/**
 * A node:http response that adds a few per-request headers (request id,
 * instance id) inside `writeHead`. Setting them with `res.setHeader()` first
 * would push node off its fast path when the kernel then calls
 * `writeHead(status, flatHeaderList)`: every pair goes through `setHeader`
 * again, which costs more than the rest of the operations layer
 * (docs/performance.md). Use with `createServer({ ServerResponse: HeaderAddingResponse })`.
 */
export class HeaderAddingResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  [EXTRA]: string[] | null = null;

  // Same call shapes as ServerResponse#writeHead: (status, headers?) or (status, reason, headers?).
  override writeHead(statusCode: number, reasonOrHeaders?: string | HeaderList, headers?: HeaderList): this {
    const extra = this[EXTRA];
    if (extra !== null) {
      this[EXTRA] = null;
      if (typeof reasonOrHeaders === 'string') return super.writeHead(statusCode, reasonOrHeaders, withExtra(headers, extra));
      return super.writeHead(statusCode, withExtra(reasonOrHeaders, extra));
    }
    return typeof reasonOrHeaders === 'string'
      ? super.writeHead(statusCode, reasonOrHeaders, headers as OutgoingHttpHeaders)
      : super.writeHead(statusCode, reasonOrHeaders as OutgoingHttpHeaders);
  }
}

/**
 * Headers `writeHead` will add to this response, as a flat list of
 * name/value pairs. Falls back to `setHeader` on a plain ServerResponse.
 */
export function addResponseHeaders(res: ServerResponse, pairs: string[]): void {
  if (res instanceof HeaderAddingResponse) {
    res[EXTRA] = pairs;
    return;
  }
  for (let i = 0; i < pairs.length; i += 2) res.setHeader(pairs[i]!, pairs[i + 1]!);
}

/**
 * Sets one of the headers `addResponseHeaders` queued to another value (the
 * list is the response's own, so changing it in place is safe), or sets it
 * directly on a plain ServerResponse.
 */
export function replaceResponseHeader(res: ServerResponse, lowerCaseName: string, value: string): void {
  const pairs = res instanceof HeaderAddingResponse ? res[EXTRA] : null;
  if (pairs !== null) {
    for (let i = 0; i < pairs.length; i += 2) {
      if (pairs[i] === lowerCaseName) {
        pairs[i + 1] = value;
        return;
      }
    }
    pairs.push(lowerCaseName, value);
    return;
  }
  res.setHeader(lowerCaseName, value);
}

/** A new header list (callers may pass shared constants: never mutate them). */
function withExtra(headers: HeaderList | undefined, extra: string[]): OutgoingHttpHeaders | OutgoingHttpHeader[] {
  if (headers === undefined || headers === null) return extra;
  // node takes a flat [name, value, name, value, ...] list (not tuples).
  if (Array.isArray(headers)) return (headers as OutgoingHttpHeader[]).concat(extra);
  const merged: OutgoingHttpHeaders = { ...(headers as OutgoingHttpHeaders) };
  for (let i = 0; i < extra.length; i += 2) merged[extra[i]!] = extra[i + 1]!;
  return merged;
}
