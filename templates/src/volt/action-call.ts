import type { IncomingMessage } from 'node:http';
import { BODY_NONE, parseBody, parseQuery, type RawBody } from './body.js';
import { RequestCookies } from './cookies.js';
import { RequestHeaders } from './headers.js';
import type { ResponseBuilder } from './response.js';
import type { QueryRecord, VoltRealtime, VoltRequest } from './types.js';

const UNPARSED: unique symbol = Symbol('unparsed');
const NO_RAW_BODY: RawBody = { type: BODY_NONE, bytes: undefined };

/**
 * What a handler is called with: `{ request, context, response, realtime }`.
 *
 * `request`: one object per request whose parts are parsed on first use
 * (query, headers wrapper, cookies, body), so an action pays only for what
 * it reads. Validation replaces `query`/`body` with the schema's output.
 */
export class ActionRequest implements VoltRequest<Record<string, string>, unknown, unknown> {
  rawBody: RawBody = NO_RAW_BODY;
  private parsedQuery: unknown = UNPARSED;
  private parsedBody: unknown = UNPARSED;
  private headersView: RequestHeaders | undefined;
  private cookieJar: RequestCookies | undefined;

  constructor(
    readonly raw: IncomingMessage,
    readonly method: string,
    readonly path: string,
    private readonly search: string,
    readonly params: Record<string, string>,
    private readonly response: ResponseBuilder,
    private readonly cookieSecret: string | undefined,
  ) {}

  get query(): unknown {
    if (this.parsedQuery === UNPARSED) this.parsedQuery = parseQuery(this.search);
    return this.parsedQuery;
  }
  set query(value: unknown) {
    this.parsedQuery = value;
  }

  get body(): unknown {
    if (this.parsedBody === UNPARSED) this.parsedBody = parseBody(this.rawBody);
    return this.parsedBody;
  }
  set body(value: unknown) {
    this.parsedBody = value;
  }

  get headers(): RequestHeaders {
    return (this.headersView ??= new RequestHeaders(this.raw.headers));
  }

  get cookies(): RequestCookies {
    return (this.cookieJar ??= new RequestCookies(this.raw.headers.cookie, this.response, this.cookieSecret));
  }

  toJSON() {
    return { method: this.method, path: this.path, params: this.params, query: this.query as QueryRecord };
  }
}

/** The object handlers and procedures receive: `{ request, context, response, realtime }`. */
export class ActionCall {
  context: unknown = undefined;
  constructor(
    readonly request: ActionRequest,
    readonly response: ResponseBuilder,
    readonly realtime: VoltRealtime,
  ) {}
}
