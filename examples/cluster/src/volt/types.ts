import type { IncomingMessage } from 'node:http';
import type { CookieOptions, RequestCookies } from './cookies.js';
import type { RequestHeaders } from './headers.js';
import type { VoltLogger } from './logger.js';
import type { ActionDocs, ProcedureDocs } from './openapi/types.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { StoreAdapter } from './store.js';

export type MutationMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type HttpMethod = 'GET' | MutationMethod;

/** Query values as parsed from the URL: a repeated key becomes an array. */
export type QueryRecord = Record<string, string | string[] | undefined>;

// ---- path params: '/:id/comments/:commentId' -> { id: string; commentId: string }
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;
/** Params named in the action path, plus any a controller path adds (untyped). */
export type InferParams<P extends string> = { [K in ParamNames<P>]: string } & Record<string, string>;

export type InferSchemaOutput<S, Fallback> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : Fallback;

// ---- request / response / realtime as a handler sees them

export interface VoltRequest<TParams = Record<string, string>, TQuery = QueryRecord, TBody = unknown> {
  readonly method: string;
  /** Path without the query string, as sent (percent-encoded). */
  readonly path: string;
  /** Decoded path params. */
  readonly params: TParams;
  /** Parsed on first use; the schema's output when the action has a `query` schema. */
  readonly query: TQuery;
  /** The schema's output when the action has a `body` schema; otherwise parsed JSON / form data. */
  readonly body: TBody;
  readonly headers: RequestHeaders;
  readonly cookies: RequestCookies;
  /** The underlying node:http request. */
  readonly raw: IncomingMessage;
}

/** What a context function sees (the request before params/body are typed). */
export type ContextRequest = VoltRequest<Record<string, string>, QueryRecord, unknown>;

declare const resultBrand: unique symbol;
/** A finished response (the handler returns it). Carries the data type for clients. */
export type VoltResult<T = unknown> = VoltResponse & { readonly [resultBrand]: T };

export interface ErrorInit {
  code: string;
  message: string;
  data?: unknown;
  details?: unknown;
  /** Defaults by code: CONFLICT 409, UNPROCESSABLE 422, ... else 500. */
  status?: number;
}

export interface StreamOptions {
  /** Default `application/x-ndjson`: non-string chunks are written as JSON lines. */
  contentType?: string;
  status?: number;
}

export type StreamSource = AsyncIterable<unknown> | Iterable<unknown> | ReadableStream<unknown>;

export interface VoltResponse {
  /** 200 (or the status set with `status()`), `{ data, error: null }`. */
  success<T>(data: T): VoltResult<T>;
  /** 201. */
  created<T>(data: T): VoltResult<T>;
  /** 204 with no body. */
  noContent(): VoltResult<null>;
  badRequest(message?: string, details?: unknown): VoltResult<never>;
  unauthorized(message?: string, details?: unknown): VoltResult<never>;
  forbidden(message?: string, details?: unknown): VoltResult<never>;
  notFound(message?: string, details?: unknown): VoltResult<never>;
  error(error: ErrorInit): VoltResult<never>;
  /** 302 by default, with `Location`. */
  redirect(url: string, status?: 301 | 302 | 303 | 307 | 308): VoltResult<never>;
  status(code: number): VoltResponse;
  setHeader(name: string, value: string | number | readonly string[]): VoltResponse;
  setCookie(name: string, value: string, options?: CookieOptions): VoltResponse;
  /** After the response is sent, tells realtime clients to refetch these query keys (`notes.list`). */
  revalidate(keys: string | readonly string[]): VoltResponse;
  /** Streams chunks as they come (strings/bytes as is, other values as JSON lines). */
  stream(source: StreamSource, options?: StreamOptions): VoltResult<never>;
}

export interface PublishOptions {
  /** SSE `event:` name; default `message`. */
  type?: string;
}

export interface VoltRealtime {
  /** False when no transport is configured: publishing is then a no-op resolving `null`. */
  readonly enabled: boolean;
  /** Resolves with the event id clients see as SSE `id:`. */
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<string | null>;
  to(channel: string): { publish(data: unknown, options?: PublishOptions): Promise<string | null> };
  /** Publishes on the `broadcast` channel. */
  broadcast(data: unknown, options?: PublishOptions): Promise<string | null>;
  /** Publishes `{ keys }` as a `revalidate` event on the `revalidate` channel. */
  revalidate(keys: string | readonly string[]): Promise<string | null>;
}

export interface ActionContext<TContext, TParams, TQuery, TBody> {
  request: VoltRequest<TParams, TQuery, TBody>;
  context: TContext;
  response: VoltResponse;
  realtime: VoltRealtime;
}

// ---- procedures

export interface ProcedureContext<TContext> {
  /** Procedures run before validation: `body`/`query` are parsed but not yet validated. */
  request: ContextRequest;
  context: TContext;
  response: VoltResponse;
  realtime: VoltRealtime;
}

declare const extensionBrand: unique symbol;
export interface Procedure<TExtension = unknown> {
  readonly kind: 'volt.procedure';
  readonly name: string;
  /** Adjacent concurrent procedures run together (Promise.all); each sees only the context before the group. */
  readonly concurrent: boolean;
  readonly options: unknown;
  readonly run: (options: any, ctx: ProcedureContext<any>) => unknown;
  /** What it adds to the API document of the actions that use it (security, errors). */
  readonly docs?: ProcedureDocs;
  /** Type-only: what the procedure adds to the context (boxed so `never` survives inference). */
  readonly [extensionBrand]?: { extension: TExtension };
}

/** `volt.procedure()` returns a factory (`use: [auth({ role })]`) that is also usable uncalled (`use: [auth]`). */
export type ProcedureFactory<TOptions, TExtension> = ((options?: TOptions) => Procedure<TExtension>) & Procedure<TExtension>;

/** What a procedure adds to the context: its return value minus "continue" and "end the request". */
// biome-ignore lint/suspicious/noConfusingVoidType: a procedure that returns nothing (void) lets the request continue.
export type ContextExtension<TReturn> = Exclude<Awaited<TReturn>, void | undefined | null | VoltResponse>;

export interface ProcedureDefinition<TContext, TOptions, TReturn> {
  name: string;
  concurrent?: boolean;
  /** For the API document: `{ security: [{ bearerAuth: [] }], errors: ['UNAUTHORIZED'] }`, or a function of the options. */
  docs?: ProcedureDocs | ((options: NoInfer<TOptions> | undefined) => ProcedureDocs | undefined);
  handler: (options: TOptions, ctx: ProcedureContext<TContext>) => TReturn;
}

type UnionToIntersection<U> = (U extends unknown ? (arg: U) => void : never) extends (arg: infer I) => void ? I : never;
type ProcedureExtension<P> = P extends { readonly [extensionBrand]?: { extension: infer E } } ? ([E] extends [never] ? {} : E) : {};
/** The context after every procedure in `use` ran. */
export type WithProcedures<TContext, TUse> = TUse extends readonly unknown[]
  ? TUse extends readonly []
    ? TContext
    : TContext & UnionToIntersection<ProcedureExtension<TUse[number]>>
  : TContext;

// ---- actions and controllers

/**
 * What a handler may return when its action declares `output`: the data, or
 * the response built from it (`response.success(data)`, `response.notFound()`).
 */
export type OutputResult<TData> = TData | VoltResult<TData>;
/** The handler's return type: checked against `output` when there is one, inferred otherwise. */
export type HandlerReturn<TOutput, TResult> = TOutput extends StandardSchemaV1
  ? OutputResult<StandardSchemaV1.InferOutput<TOutput>> | Promise<OutputResult<StandardSchemaV1.InferOutput<TOutput>>>
  : TResult;
/** The data type a client receives from the action. */
export type ActionData<TOutput, TResult> = TOutput extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<TOutput> : Awaited<TResult>;

/** Documentation fields an action may add to what Volt.js defines; none of them changes how it runs. */
interface ActionDocumentation<TOutput> {
  name?: string;
  description?: string;
  /** Schema of `data` in a successful response: documents it and types what the handler returns. */
  output?: TOutput;
  /** Everything else the API document says about the action (status, errors, params, security). */
  docs?: ActionDocs;
}

export interface QueryDefinition<TContext, TPath extends string, TQuerySchema, TUse, TResult, TOutput = undefined> extends ActionDocumentation<TOutput> {
  path: TPath;
  query?: TQuerySchema;
  use?: TUse;
  /** Realtime-capable: `realtime.revalidate('<controller>.<action>')` tells clients to refetch it. */
  stream?: boolean;
  handler: (
    ctx: ActionContext<WithProcedures<TContext, TUse>, InferParams<TPath>, InferSchemaOutput<TQuerySchema, QueryRecord>, undefined>,
  ) => HandlerReturn<TOutput, TResult>;
}

export interface MutationDefinition<
  TContext,
  TPath extends string,
  TMethod extends MutationMethod,
  TBodySchema,
  TQuerySchema,
  TUse,
  TResult,
  TOutput = undefined,
> extends ActionDocumentation<TOutput> {
  path: TPath;
  method: TMethod;
  body?: TBodySchema;
  query?: TQuerySchema;
  use?: TUse;
  handler: (
    ctx: ActionContext<
      WithProcedures<TContext, TUse>,
      InferParams<TPath>,
      InferSchemaOutput<TQuerySchema, QueryRecord>,
      InferSchemaOutput<TBodySchema, unknown>
    >,
  ) => HandlerReturn<TOutput, TResult>;
}

/** A compiled-ready action; `$result` is a phantom for typed clients. */
export interface VoltAction<TResult = unknown> {
  readonly type: 'query' | 'mutation';
  readonly method: HttpMethod;
  readonly path: string;
  readonly query?: StandardSchemaV1;
  readonly body?: StandardSchemaV1;
  readonly use?: readonly Procedure[];
  readonly stream?: boolean;
  readonly name?: string;
  readonly description?: string;
  readonly output?: StandardSchemaV1;
  readonly docs?: ActionDocs;
  readonly handler: (ctx: ActionContext<any, any, any, any>) => unknown;
  readonly $result?: TResult;
}

export interface ControllerDefinition<TName extends string, TActions extends Record<string, VoltAction>> {
  /** Names the revalidation keys (`<name>.<action>`); default: the path's static segments (`/users` -> `users`). */
  name?: TName;
  path: string;
  description?: string;
  actions: TActions;
}

export type VoltController<TName extends string = string, TActions extends Record<string, VoltAction> = Record<string, VoltAction>> = Omit<
  ControllerDefinition<TName, TActions>,
  'name'
> & { readonly name: TName; readonly kind: 'volt.controller' };

// ---- configuration and runtime

export interface VoltConfig {
  baseURL?: string;
  /** Prefix of every route. @default '/api/v1' */
  basePATH?: string;
  /** Request bodies above this are refused with 413. @default 1 MiB */
  bodyLimitBytes?: number;
  /** HMAC key for signed cookies (`COOKIE_SECRET`). */
  cookieSecret?: string;
  /** Attributes every `Set-Cookie` gets unless the call overrides them, over `VOLT_DEFAULTS.cookies` (`HttpOnly; SameSite=Lax; Path=/`). */
  cookies?: CookieOptions;
  /** Put messages and stack traces of unexpected errors in responses (development only). @default false */
  exposeErrors?: boolean;
  /** Identifies this process among many (context, logs). */
  instanceId?: string;
}

/** The per-router services a context function receives next to the request. */
export interface VoltRuntime {
  store: StoreAdapter;
  logger: VoltLogger;
  realtime: VoltRealtime;
  config: Readonly<Required<Pick<VoltConfig, 'basePATH' | 'bodyLimitBytes' | 'exposeErrors'>> & VoltConfig>;
  /**
   * App-wide services the composition root hands to the router instance
   * (repositories, caches...). Returning it as the context costs nothing per request.
   */
  services: unknown;
}

export type ContextFactory<TContext> = (request: ContextRequest, runtime: VoltRuntime) => TContext | Promise<TContext>;
