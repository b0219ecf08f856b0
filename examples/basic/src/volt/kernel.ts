import type { IncomingMessage, ServerResponse } from 'node:http';
import { addRoute, createRouter, findRoute, type RouterContext } from 'rou3';
import { readBody } from './body.js';
import { VoltError, errorBody, errorEnvelope, type ErrorBody } from './errors.js';
import { ActionCall, ActionRequest } from './action-call.js';
import { handleFetch } from './fetch.js';
import type { VoltLogger } from './logger.js';
import type { CookieOptions } from './cookies.js';
import { compileStages, isThenable, runStages, type Stage } from './procedure.js';
import { createRealtime } from './realtime.js';
import type { RealtimeTransport } from './realtime-transport.js';
import { KIND_EMPTY, KIND_JSON, KIND_NONE, KIND_STREAM, ResponseBuilder } from './response.js';
import { envelope, writeBody, writeEmpty, writeStream, type ResponseCompressor } from './send.js';
import { toValidationDetails, type StandardSchemaV1 } from './standard-schema.js';
import type { StoreAdapter } from './store.js';
import type { ContextFactory, HttpMethod, VoltAction, VoltConfig, VoltController, VoltRealtime, VoltRuntime } from './types.js';

/** What a router uses for any setting its config leaves out (Volt.js's defaults). */
export const VOLT_DEFAULTS = {
  basePATH: '/api/v1',
  bodyLimitBytes: 1024 * 1024,
  exposeErrors: false,
  /**
   * Every `Set-Cookie`, unless the call says otherwise: out of reach of page
   * scripts, and not sent on cross-site requests other than top-level
   * navigations (so not with a cross-site form POST). `config.cookies` adds to
   * it (`secure: true` in production).
   */
  cookies: { path: '/', httpOnly: true, sameSite: 'lax' } satisfies CookieOptions,
} as const;

/** Everything a router instance runs with; `volt.router()` fills it from the builder. */
export interface KernelOptions {
  context: ContextFactory<unknown> | object;
  store: StoreAdapter;
  logger: VoltLogger;
  config: VoltConfig;
  /** Mounts `GET {basePATH}/sse/events` and backs `realtime.*` / `response.revalidate`. */
  realtime?: RealtimeTransport | null;
  /** Response compression hook, called only for bodies >= its threshold. */
  compress?: ResponseCompressor;
  /** Passed to the context function as `runtime.services`. */
  services?: unknown;
  /** Offered the requests no route matches (the API docs); false lets the 404 go out. */
  fallback?: ((req: IncomingMessage, res: ServerResponse, path: string) => boolean) | undefined;
}

export interface RouteInfo {
  method: HttpMethod;
  path: string;
  /** `<controller name>.<action name>`: the key `revalidate` uses. */
  key: string;
  stream: boolean;
}

interface CompiledRoute {
  readonly info: RouteInfo;
  readonly readsBody: boolean;
  readonly hasParams: boolean;
  readonly querySchema: StandardSchemaV1 | undefined;
  readonly bodySchema: StandardSchemaV1 | undefined;
  readonly stages: Stage[] | null;
  readonly handler: (call: ActionCall) => unknown;
  /** The realtime endpoint instead of an action. */
  readonly sse: boolean;
  /** No body, schemas or procedures: served without an async function when everything is synchronous. */
  readonly direct: boolean;
}

interface PathEntry {
  pattern: string;
  allow: string;
}

export const SSE_PATH = '/sse/events';
const EMPTY_PARAMS: Record<string, string> = Object.freeze(Object.create(null));

export function joinPath(...parts: string[]): string {
  const joined = parts
    .map((part) => part.trim().replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  return `/${joined}`;
}

function decodeParams(params: Record<string, string>): Record<string, string> {
  for (const name in params) {
    const value = params[name]!;
    if (value.indexOf('%') === -1) continue;
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      throw new VoltError('BAD_REQUEST', `Malformed percent-encoding in path parameter "${name}"`);
    }
  }
  return params;
}

/**
 * The compiled kernel: the rou3 tree, each route's validators and procedure
 * chain are built once here; per request the listener does one lookup, builds
 * the handler context in one pass and answers with one writeHead + end.
 */
export class Kernel {
  readonly routes: RouteInfo[] = [];
  private readonly byMethod: RouterContext<CompiledRoute> = createRouter();
  /** Every pattern regardless of method: 405 + Allow, and route labels for metrics. */
  private readonly byPath: RouterContext<PathEntry> = createRouter();
  private readonly compress: ResponseCompressor | undefined;
  private readonly contextFactory: ContextFactory<unknown> | undefined;
  private readonly staticContext: unknown;
  private readonly runtime: VoltRuntime;
  readonly realtime: VoltRealtime;
  private readonly logger: VoltLogger;
  private readonly bodyLimit: number;
  private readonly exposeErrors: boolean;
  private readonly cookieSecret: string | undefined;
  private readonly cookieDefaults: CookieOptions;
  private readonly transport: RealtimeTransport | null;
  private readonly fallback: KernelOptions['fallback'];

  constructor(controllers: readonly VoltController[], options: KernelOptions) {
    const config = {
      ...options.config,
      basePATH: options.config.basePATH ?? VOLT_DEFAULTS.basePATH,
      bodyLimitBytes: options.config.bodyLimitBytes ?? VOLT_DEFAULTS.bodyLimitBytes,
      exposeErrors: options.config.exposeErrors ?? VOLT_DEFAULTS.exposeErrors,
    };
    this.compress = options.compress;
    this.fallback = options.fallback;
    if (typeof options.context === 'function') this.contextFactory = options.context as ContextFactory<unknown>;
    else this.staticContext = options.context;
    this.transport = options.realtime ?? null;
    this.realtime = createRealtime(this.transport);
    this.logger = options.logger;
    this.bodyLimit = config.bodyLimitBytes;
    this.exposeErrors = config.exposeErrors;
    this.cookieSecret = config.cookieSecret;
    this.cookieDefaults = { ...VOLT_DEFAULTS.cookies, ...config.cookies };
    this.runtime = { store: options.store, logger: options.logger, realtime: this.realtime, config, services: options.services };

    const allow = new Map<string, Set<string>>();
    const add = (method: HttpMethod, pattern: string, route: CompiledRoute) => {
      if (findRoute(this.byMethod, method, pattern)?.data.info.path === pattern) {
        throw new Error(`Duplicate route ${method} ${pattern} (${route.info.key})`);
      }
      addRoute(this.byMethod, method, pattern, route);
      let methods = allow.get(pattern);
      if (!methods) allow.set(pattern, (methods = new Set()));
      methods.add(method);
      if (method === 'GET') methods.add('HEAD');
      this.routes.push(route.info);
    };

    for (const controller of controllers) {
      for (const [actionName, action] of Object.entries(controller.actions) as [string, VoltAction][]) {
        const pattern = joinPath(config.basePATH, controller.path, action.path);
        const key = `${controller.name}.${actionName}`;
        const stages = compileStages(action.use, `action ${key}`);
        const readsBody = action.type === 'mutation';
        add(action.method, pattern, {
          info: { method: action.method, path: pattern, key, stream: action.stream === true },
          readsBody,
          hasParams: pattern.includes(':') || pattern.includes('*'),
          querySchema: action.query,
          bodySchema: action.body,
          stages,
          handler: action.handler as (call: ActionCall) => unknown,
          sse: false,
          direct: !readsBody && stages === null && action.query === undefined,
        });
      }
    }
    if (this.transport) {
      const pattern = joinPath(config.basePATH, SSE_PATH);
      add('GET', pattern, {
        info: { method: 'GET', path: pattern, key: 'realtime.events', stream: false },
        readsBody: false,
        hasParams: false,
        querySchema: undefined,
        bodySchema: undefined,
        stages: compileStages(this.transport.use, 'the realtime transport'),
        handler: () => undefined,
        sse: true,
        direct: false,
      });
    }
    for (const [pattern, methods] of allow) addRoute(this.byPath, '', pattern, { pattern, allow: [...methods].join(', ') });
  }

  /**
   * node:http request listener (bound, so `http.createServer(router.listener)` works).
   * Life of a request, step 5: route lookup and the handler's request/response objects.
   */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method === 'HEAD' ? 'GET' : req.method!;
    const match = findRoute(this.byMethod, method, path);
    if (match === undefined) {
      this.noRoute(req, res, path);
      return;
    }
    const route = match.data;
    let params = match.params ?? EMPTY_PARAMS;
    if (route.hasParams) {
      try {
        params = decodeParams(params);
      } catch (error) {
        this.fail(req, res, error, route);
        return;
      }
    }
    const search = q === -1 ? '' : url.slice(q + 1);
    const response = new ResponseBuilder(this.cookieDefaults);
    const call = new ActionCall(new ActionRequest(req, req.method!, path, search, params, response, this.cookieSecret), response, this.realtime);
    if (route.sse) void this.serveEvents(req, res, call, route);
    else this.run(req, res, call, route);
  };

  /** Fetch-runtime entry: `Request` in, `Response` out (bodies are buffered). */
  handler = (request: Request): Promise<Response> => handleFetch(request, this.listener);

  /**
   * The route pattern a request matches (`/api/v1/notes/:id`), for metrics
   * labels; undefined for unknown paths. Costs one lookup, and only when called.
   */
  matchedRoute = (req: IncomingMessage): string | undefined => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    return findRoute(this.byPath, '', q === -1 ? url : url.slice(0, q), { params: false })?.data.pattern;
  };

  private buildContext(request: ActionRequest): unknown {
    return this.contextFactory === undefined ? this.staticContext : this.contextFactory(request as never, this.runtime);
  }

  /**
   * Life of a request, step 6: runs an action. Fast path, for `direct` routes (no body, procedures or
   * query schema): a synchronous context and handler are answered within this
   * call, with no async function and no promise; the first promise either of
   * them returns hands the rest to `execute`.
   */
  private run(req: IncomingMessage, res: ServerResponse, call: ActionCall, route: CompiledRoute): void {
    if (!route.direct) {
      void this.execute(req, res, call, route);
      return;
    }
    try {
      const context = this.buildContext(call.request);
      if (isThenable(context)) {
        void this.execute(req, res, call, route, { context });
        return;
      }
      call.context = context;
      const result = route.handler(call);
      if (isThenable(result)) void this.execute(req, res, call, route, { result });
      else this.finish(req, res, call.response, result);
    } catch (error) {
      this.fail(req, res, error, route);
    }
  }

  /**
   * The general path, in order: body, context, procedures, query and body
   * validation, handler, response. `started` is what the fast path already
   * began: a context or a handler result still to be awaited.
   */
  private async execute(
    req: IncomingMessage,
    res: ServerResponse,
    call: ActionCall,
    route: CompiledRoute,
    started?: { context?: PromiseLike<unknown>; result?: PromiseLike<unknown> },
  ): Promise<void> {
    try {
      let result: unknown = started?.result;
      if (result === undefined) {
        const request = call.request;
        if (route.readsBody) {
          const raw = readBody(req, this.bodyLimit);
          request.rawBody = isThenable(raw) ? await raw : raw;
        }
        let context = started?.context ?? this.buildContext(request);
        if (isThenable(context)) context = await context;
        call.context = context;
        if (route.stages !== null && (await runStages(route.stages, call))) {
          this.finish(req, res, call.response, call.response);
          return;
        }
        if (route.querySchema !== undefined) {
          const query = validate(route.querySchema, request.query, 'query');
          request.query = isThenable(query) ? await query : query;
        }
        if (route.bodySchema !== undefined) {
          const body = validate(route.bodySchema, request.body, 'body');
          request.body = isThenable(body) ? await body : body;
        }
        result = route.handler(call);
      }
      this.finish(req, res, call.response, isThenable(result) ? await result : result);
    } catch (error) {
      this.fail(req, res, error, route);
    }
  }

  private async serveEvents(req: IncomingMessage, res: ServerResponse, call: ActionCall, route: CompiledRoute): Promise<void> {
    try {
      let context = this.buildContext(call.request);
      if (isThenable(context)) context = await context;
      call.context = context;
      if (route.stages !== null && (await runStages(route.stages, call))) {
        this.finish(req, res, call.response, call.response);
        return;
      }
      this.transport!.serve(req, res, call.context);
    } catch (error) {
      this.fail(req, res, error, route);
    }
  }

  /** Life of a request, step 7: writes what the handler built (see send.ts). */
  private finish(req: IncomingMessage, res: ServerResponse, response: ResponseBuilder, result: unknown): void {
    // A plain return value means success(value); returning the builder (or nothing after using it) sends it.
    if (result !== response && (result !== undefined || response.kind === KIND_NONE)) response.success(result ?? null);
    switch (response.kind) {
      case KIND_JSON:
        writeBody(req, res, this.compress, response.statusCode, envelope(response.data, response.errorBody), response.headers, response.contentType);
        break;
      case KIND_EMPTY:
        writeEmpty(res, response.statusCode, response.headers);
        break;
      case KIND_STREAM:
        writeStream(res, response.statusCode, response.streamSource as AsyncIterable<unknown>, response.headers, response.contentType).catch(
          (error: unknown) => {
            this.logger.error({ err: error }, 'response stream failed');
            res.destroy();
          },
        );
        break;
    }
    if (response.revalidateKeys !== null) {
      this.realtime.revalidate(response.revalidateKeys).catch((error: unknown) => this.logger.error({ err: error }, 'revalidate publish failed'));
    }
  }

  private noRoute(req: IncomingMessage, res: ServerResponse, path: string): void {
    const known = findRoute(this.byPath, '', path, { params: false });
    if (known === undefined) {
      if (this.fallback?.(req, res, path) === true) return;
      this.sendError(req, res, 404, { code: 'NOT_FOUND', message: `No route for ${req.method} ${path}` }, null);
    } else {
      const message = `${req.method} is not allowed on ${known.data.pattern}`;
      this.sendError(req, res, 405, { code: 'METHOD_NOT_ALLOWED', message }, ['allow', known.data.allow]);
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown, route: CompiledRoute): void {
    try {
      if (res.headersSent) {
        this.logger.error({ err: error, route: route.info.key }, 'request failed after the response started');
        res.destroy();
        return;
      }
      if (error instanceof VoltError) {
        // A 413 is answered before the body is read: close so the rest is never parsed as a request.
        const extra = error.code === 'PAYLOAD_TOO_LARGE' ? ['connection', 'close'] : null;
        if (error.status >= 500) this.logger.error({ err: error, route: route.info.key }, error.message);
        this.sendError(req, res, error.status, errorBody(error), extra);
        return;
      }
      // The path without its query: query strings can carry secrets (SSE tickets).
      this.logger.error({ err: error, route: route.info.key, method: req.method, path: (req.url ?? '/').split('?', 1)[0] }, 'unhandled error in action');
      const body: ErrorBody = { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' };
      if (this.exposeErrors && error instanceof Error) {
        body.message = error.message;
        if (error.stack) body.stack = error.stack;
      }
      this.sendError(req, res, 500, body, null);
    } catch (sendError) {
      this.logger.error({ err: sendError }, 'could not send the error response');
      res.destroy();
    }
  }

  private sendError(req: IncomingMessage, res: ServerResponse, status: number, body: ErrorBody, extra: string[] | null): void {
    writeBody(req, res, this.compress, status, errorEnvelope(body), extra, null);
  }
}

/**
 * Standard Schema validation; failures are a 400 whose details name each
 * field. Synchronous schemas (zod's usual case) answer without a promise.
 */
function validate(schema: StandardSchemaV1, value: unknown, location: 'body' | 'query'): unknown {
  const result = schema['~standard'].validate(value);
  return isThenable(result) ? result.then((settled) => validated(settled, location)) : validated(result, location);
}

function validated(result: StandardSchemaV1.Result<unknown>, location: 'body' | 'query'): unknown {
  if (result.issues !== undefined) {
    const details = toValidationDetails(result.issues, location);
    const first = details[0];
    const where = first?.path ? `${location}.${first.path}` : location;
    throw new VoltError('VALIDATION_ERROR', `Invalid ${location}: ${where}: ${first?.message ?? 'invalid'}`, { details });
  }
  return result.value;
}
