/**
 * The Volt-compatible kernel.
 *
 *   export const volt = Volt.context((request, runtime) => ({ ... }))   // may be async
 *     .store(adapter).logger(logger).config({ baseURL, basePATH }).realtime(transport)
 *     .jobs(REGISTERED_JOBS)   // background jobs (jobs.ts): volt.jobs.<namespace>.schedule(...)
 *     .create();   // { query, mutation, controller, procedure, router, realtime, jobs, store, logger }
 *
 * Per request (node:http): one rou3 lookup, a handler context built in one
 * pass (query, headers, cookies and body parsed on first use), the route's
 * procedure chain and validators prepared at startup, and one
 * `writeHead` + `end`. Adjacent procedures declared `concurrent: true` run
 * together (Promise.all).
 *
 * Extension points (zero cost when unused):
 * - compression: `router.instance({ compress: { threshold, compress(req, res, body) } })`
 *   is called only for bodies >= threshold, after status and headers are set
 *   on `res`; it returns true when it sent the body (see `ResponseCompressor`).
 * - metrics labels: `router.matchedRoute(req)` returns the route pattern
 *   (`/api/v1/notes/:id`) or undefined; it does one lookup, only when called.
 * - logging: any pino-compatible logger (`VoltLogger`: info/warn/error/debug(obj, msg), child).
 * - realtime: a `RealtimeTransport` serves `GET {basePATH}/sse/events` and
 *   delivers `realtime.*` / `response.revalidate` events (channel conventions in realtime.ts);
 *   its `use` procedures run on that route first (who opens the stream).
 * - cookies: every `Set-Cookie` gets `VOLT_DEFAULTS.cookies` (`HttpOnly; SameSite=Lax; Path=/`)
 *   and `config.cookies` (e.g. `secure: true`) under the call's own options.
 * - API docs: `.docs({ info, servers, securitySchemes, playground })` serves the
 *   OpenAPI document at `{basePATH}/openapi.json` and Scalar's reference at
 *   `/docs`; both are offered only requests no route matches (see openapi/).
 *
 * Errors: unknown route 404, wrong method 405 with `Allow`, malformed JSON 400
 * `INVALID_JSON`, bodies over `bodyLimitBytes` 413 (connection closed),
 * other media types 415, schema failures 400 `VALIDATION_ERROR` with field
 * paths, a thrown `VoltError` keeps its code and status, anything else is a
 * 500 without details unless `exposeErrors` (app.ts sets it in development).
 */
export { Volt, VoltBuilder, type VoltInstance, type VoltRouter, type RouterInstanceOptions } from './builder.js';
export { VoltError, errorEnvelope, statusForCode, type ErrorBody } from './errors.js';
export { createJsonLogger, silentLogger, type VoltLogger } from './logger.js';
export { BROADCAST_CHANNEL, REVALIDATE_CHANNEL, REVALIDATE_EVENT, type RevalidatePayload } from './realtime.js';
export type { RealtimeEvent, RealtimeTransport } from './realtime-transport.js';
export {
  createJobs,
  createJobRunner,
  attachJobQueue,
  JobPayloadError,
  type JobBackoff,
  type JobDefinition,
  type JobEvent,
  type JobInfo,
  type JobOptions,
  type JobQueue,
  type JobRepeat,
  type JobRequest,
  type JobRun,
  type JobRunner,
  type JobRunnerServices,
  type JobsClient,
  type JobsDefiner,
  type JobsMap,
  type JobsRouter,
  type RegisteredJobs,
  type ResolvedJobOptions,
} from './jobs.js';
export { SSE_PATH, VOLT_DEFAULTS, type RouteInfo } from './kernel.js';
export { buildOpenApiDocument, createDocsServer, DEFAULT_DOCS_ROUTE, docsContentSecurityPolicy, findScalarBundle } from './openapi/index.js';
export type * from './openapi/types.js';
export { JSON_CONTENT_TYPE, type ResponseCompressor } from './send.js';
export { signValue, unsignValue } from './signing.js';
export type { StandardSchemaV1, ValidationDetail } from './standard-schema.js';
export type { StoreAdapter, StoreMessageHandler } from './store.js';
export type { CookieOptions, RequestCookies } from './cookies.js';
export type { RequestHeaders } from './headers.js';
export type * from './types.js';
