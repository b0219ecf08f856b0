import { serializeCookie, type CookieOptions, type SetCookieSink } from './cookies.js';
import { statusForCode, type ErrorBody } from './errors.js';
import type { ErrorInit, StreamOptions, StreamSource, VoltResponse, VoltResult } from './types.js';

/** What the kernel sends once the handler is done. */
export const KIND_NONE = 0;
export const KIND_JSON = 1;
/** Status and headers only (204, redirects). */
export const KIND_EMPTY = 2;
export const KIND_STREAM = 3;

/**
 * `response`: records what to send; the kernel writes it in one
 * `writeHead` + `end` after the handler returns. Every method returns the
 * builder, so calls chain (`response.status(202).setHeader('x', '1').success(v)`).
 */
export class ResponseBuilder implements VoltResponse, SetCookieSink {
  kind = KIND_NONE;
  /** 0 until `status()` or a terminal method sets it. */
  statusCode = 0;
  data: unknown = null;
  errorBody: ErrorBody | null = null;
  /** Extra headers as a flat `[name, value, name, value]` list (node's writeHead format). */
  headers: string[] | null = null;
  /** Replaces the kernel's default JSON content type. */
  contentType: string | null = null;
  revalidateKeys: string[] | null = null;
  streamSource: StreamSource | null = null;

  /** `cookieDefaults`: what every `Set-Cookie` gets unless the call says otherwise (the router's config). */
  constructor(private readonly cookieDefaults: CookieOptions) {}

  success<T>(data: T): VoltResult<T> {
    this.kind = KIND_JSON;
    if (this.statusCode === 0) this.statusCode = 200;
    this.data = data;
    this.errorBody = null;
    return this as unknown as VoltResult<T>;
  }

  created<T>(data: T): VoltResult<T> {
    this.statusCode = 201;
    return this.success(data);
  }

  noContent(): VoltResult<null> {
    this.kind = KIND_EMPTY;
    this.statusCode = 204;
    return this as unknown as VoltResult<null>;
  }

  badRequest(message = 'Bad request', details?: unknown): VoltResult<never> {
    return this.fail(400, 'BAD_REQUEST', message, details);
  }

  unauthorized(message = 'Unauthorized', details?: unknown): VoltResult<never> {
    return this.fail(401, 'UNAUTHORIZED', message, details);
  }

  forbidden(message = 'Forbidden', details?: unknown): VoltResult<never> {
    return this.fail(403, 'FORBIDDEN', message, details);
  }

  notFound(message = 'Not found', details?: unknown): VoltResult<never> {
    return this.fail(404, 'NOT_FOUND', message, details);
  }

  error(init: ErrorInit): VoltResult<never> {
    this.fail(init.status ?? statusForCode(init.code), init.code, init.message, init.details);
    if (init.data !== undefined) this.errorBody!.data = init.data;
    return this as unknown as VoltResult<never>;
  }

  redirect(url: string, status: 301 | 302 | 303 | 307 | 308 = 302): VoltResult<never> {
    this.kind = KIND_EMPTY;
    this.statusCode = status;
    this.setHeader('location', url);
    return this as unknown as VoltResult<never>;
  }

  status(code: number): this {
    if (!Number.isInteger(code) || code < 100 || code > 599) throw new RangeError(`Invalid HTTP status ${code}`);
    this.statusCode = code;
    return this;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    const key = name.toLowerCase();
    if (key === 'content-type') {
      this.contentType = String(value);
      return this;
    }
    const list = (this.headers ??= []);
    if (typeof value === 'object') for (const item of value) list.push(key, item);
    else list.push(key, String(value));
    return this;
  }

  setCookie(name: string, value: string, options?: CookieOptions): this {
    (this.headers ??= []).push('set-cookie', serializeCookie(name, value, options, this.cookieDefaults));
    return this;
  }

  revalidate(keys: string | readonly string[]): this {
    const list = (this.revalidateKeys ??= []);
    if (typeof keys === 'string') list.push(keys);
    else list.push(...keys);
    return this;
  }

  stream(source: StreamSource, options: StreamOptions = {}): VoltResult<never> {
    this.kind = KIND_STREAM;
    this.statusCode = options.status ?? (this.statusCode || 200);
    this.streamSource = source;
    if (options.contentType) this.contentType = options.contentType;
    return this as unknown as VoltResult<never>;
  }

  private fail(status: number, code: string, message: string, details: unknown): VoltResult<never> {
    this.kind = KIND_JSON;
    this.statusCode = status;
    this.data = null;
    this.errorBody = details === undefined ? { code, message } : { code, message, details };
    return this as unknown as VoltResult<never>;
  }
}
