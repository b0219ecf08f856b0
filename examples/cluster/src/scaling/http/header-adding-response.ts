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
 * A header the writer sets itself (in `writeHead` or with `setHeader`) wins
 * over the added one: a page served with its own Content-Security-Policy keeps it.
 */
export class HeaderAddingResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  [EXTRA]: string[] | null = null;

  // Same call shapes as ServerResponse#writeHead: (status, headers?) or (status, reason, headers?).
  override writeHead(statusCode: number, reasonOrHeaders?: string | HeaderList, headers?: HeaderList): this {
    const extra = this[EXTRA];
    if (extra !== null) {
      this[EXTRA] = null;
      if (typeof reasonOrHeaders === 'string') return super.writeHead(statusCode, reasonOrHeaders, withExtra(headers, this.notSetBy(headers, extra)));
      return super.writeHead(statusCode, withExtra(reasonOrHeaders, this.notSetBy(reasonOrHeaders, extra)));
    }
    return typeof reasonOrHeaders === 'string'
      ? super.writeHead(statusCode, reasonOrHeaders, headers as OutgoingHttpHeaders)
      : super.writeHead(statusCode, reasonOrHeaders as OutgoingHttpHeaders);
  }

  /** The pairs of `extra` whose header the writer did not set (`extra` itself when it set none of them). */
  private notSetBy(headers: HeaderList | undefined, extra: string[]): string[] {
    let kept = extra;
    for (let i = 0; i < extra.length; i += 2) {
      if (this.hasHeader(extra[i]!)) kept = without(kept, extra, extra[i]!);
    }
    // One pass over the writer's names (a handful): cheaper than a search per added header.
    if (Array.isArray(headers)) {
      // node takes a flat [name, value, name, value, ...] list.
      for (let i = 0; i < headers.length; i += 2) kept = without(kept, extra, String(headers[i]).toLowerCase());
    } else if (headers) {
      for (const name in headers as OutgoingHttpHeaders) kept = without(kept, extra, name.toLowerCase());
    }
    return kept;
  }
}

/** `kept` without the pair named `lowerCaseName`; copied before the first change, as `extra` is the queued list. */
function without(kept: string[], extra: string[], lowerCaseName: string): string[] {
  for (let i = 0; i < kept.length; i += 2) {
    if (kept[i] !== lowerCaseName) continue;
    const copy = kept === extra ? extra.slice() : kept;
    copy.splice(i, 2);
    return copy;
  }
  return kept;
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
