import type { IncomingMessage } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { VoltError } from './errors.js';

export const BODY_NONE = 0;
export const BODY_JSON = 1;
export const BODY_FORM = 2;
export type BodyType = typeof BODY_NONE | typeof BODY_JSON | typeof BODY_FORM;

export interface RawBody {
  type: BodyType;
  bytes: Buffer | undefined;
}

const NO_BODY: RawBody = { type: BODY_NONE, bytes: undefined };

/** A 413 answered early must also close the connection: the rest of the body is never read. */
export function payloadTooLarge(limit: number): VoltError {
  return new VoltError('PAYLOAD_TOO_LARGE', `Request body exceeds ${limit} bytes`);
}

function bodyTypeOf(contentType: string | undefined): BodyType | undefined {
  if (contentType === undefined) return undefined;
  const semi = contentType.indexOf(';');
  const mime = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (mime === 'application/json' || mime.endsWith('+json')) return BODY_JSON;
  if (mime === 'application/x-www-form-urlencoded') return BODY_FORM;
  return undefined;
}

/**
 * Reads a request body of at most `limit` bytes. A declared Content-Length
 * over the limit is refused before reading anything; a body that streams past
 * the limit is refused as soon as it does (the rest is never buffered).
 * Only JSON and urlencoded forms are accepted (415 otherwise).
 */
export function readBody(req: IncomingMessage, limit: number): RawBody | Promise<RawBody> {
  const headers = req.headers;
  const declared = headers['content-length'];
  if (declared !== undefined) {
    const length = Number(declared);
    if (length === 0) return NO_BODY;
    if (length > limit) throw payloadTooLarge(limit);
  } else if (headers['transfer-encoding'] === undefined) {
    return NO_BODY; // HTTP/1.1: neither header means no body.
  }
  const type = bodyTypeOf(headers['content-type']);
  if (type === undefined) {
    throw new VoltError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json or application/x-www-form-urlencoded');
  }
  return new Promise<RawBody>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        req.pause();
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ type, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new VoltError('BAD_REQUEST', 'The request body could not be read', { cause: error }));
    };
    const onAborted = () => onError(new Error('request aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Parses a body read by `readBody`; malformed JSON is a 400 `INVALID_JSON`. */
export function parseBody(raw: RawBody): unknown {
  const bytes = raw.bytes;
  if (bytes === undefined || bytes.length === 0) return undefined;
  if (raw.type === BODY_FORM) return parseQuery(bytes.toString('utf8'));
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new VoltError('INVALID_JSON', `Malformed JSON body: ${(error as Error).message}`);
  }
}

/**
 * Query strings and urlencoded forms: a repeated key becomes an array
 * (`?tag=a&tag=b` -> `{ tag: ['a', 'b'] }`), a single one a string. Malformed
 * escapes are kept literally instead of failing. The object has no prototype,
 * so `__proto__` is an ordinary key.
 */
export function parseQuery(search: string): Record<string, string | string[]> {
  return search === '' ? Object.create(null) : (parseQueryString(search) as Record<string, string | string[]>);
}
