import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMemoryStore } from '../scaling/store/memory-store.js';
import { createJobsClient, isRegisteredJobs, NO_JOBS, type JobsClient, type JobsMap, type RegisteredJobs } from './jobs.js';
import { createJsonLogger, type VoltLogger } from './logger.js';
import { defineProcedure } from './procedure.js';
import { createRealtime } from './realtime.js';
import type { RealtimeTransport } from './realtime-transport.js';
import { Kernel, type KernelOptions, type RouteInfo } from './kernel.js';
import { mergeDocs, routerDocs } from './openapi/router-docs.js';
import type { DocsConfig, OpenApiDocument } from './openapi/types.js';
import type { ResponseCompressor } from './send.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { StoreAdapter } from './store.js';
import type {
  ActionData,
  ContextExtension,
  ContextFactory,
  ControllerDefinition,
  MutationDefinition,
  MutationMethod,
  Procedure,
  ProcedureDefinition,
  ProcedureFactory,
  QueryDefinition,
  VoltAction,
  VoltConfig,
  VoltController,
  VoltRealtime,
} from './types.js';

/** Per-instance settings a router can be created with (see `router.instance`). */
export interface RouterInstanceOptions {
  store?: StoreAdapter;
  logger?: VoltLogger;
  config?: VoltConfig;
  realtime?: RealtimeTransport | null;
  compress?: ResponseCompressor;
  /** App services handed to the context function as `runtime.services`. */
  services?: unknown;
  /** Merged over the builder's `.docs()` (e.g. `{ playground: { enabled: false } }` in production). */
  docs?: DocsConfig;
}

export interface VoltRouter<TControllers extends Record<string, VoltController> = Record<string, VoltController>> {
  readonly controllers: TControllers;
  /** node:http request listener. */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Fetch runtimes (Bun, Deno, workers, tests): `Request` in, `Response` out. */
  readonly handler: (request: Request) => Promise<Response>;
  /** Route pattern of a request (metrics labels); undefined when no route matches its path. */
  readonly matchedRoute: (req: IncomingMessage) => string | undefined;
  readonly routes: readonly RouteInfo[];
  /** The OpenAPI document of these controllers, built on first call and kept. */
  openapi(): OpenApiDocument;
  /** The realtime API bound to this router's transport. */
  readonly realtime: VoltRealtime;
  /**
   * A separate compiled router over the same controllers with other runtime
   * services: what an app composition root uses to bind its store, logger,
   * realtime transport and config without module-level singletons.
   */
  instance(options: RouterInstanceOptions): VoltRouter<TControllers>;
}

interface BuilderState<TContext> {
  context: ContextFactory<TContext> | TContext;
  store?: StoreAdapter;
  logger?: VoltLogger;
  config: VoltConfig;
  realtime?: RealtimeTransport;
  jobs?: RegisteredJobs;
  docs?: DocsConfig;
}

export interface VoltInstance<TContext, TJobs extends JobsMap = {}> {
  query<
    TPath extends string,
    TQuerySchema extends StandardSchemaV1 | undefined = undefined,
    const TUse extends readonly Procedure<any>[] = [],
    TResult = unknown,
    TOutput extends StandardSchemaV1 | undefined = undefined,
  >(definition: QueryDefinition<TContext, TPath, TQuerySchema, TUse, TResult, TOutput>): VoltAction<ActionData<TOutput, TResult>>;
  mutation<
    TPath extends string,
    TMethod extends MutationMethod,
    TBodySchema extends StandardSchemaV1 | undefined = undefined,
    TQuerySchema extends StandardSchemaV1 | undefined = undefined,
    const TUse extends readonly Procedure<any>[] = [],
    TResult = unknown,
    TOutput extends StandardSchemaV1 | undefined = undefined,
  >(definition: MutationDefinition<TContext, TPath, TMethod, TBodySchema, TQuerySchema, TUse, TResult, TOutput>): VoltAction<ActionData<TOutput, TResult>>;
  controller<TName extends string, TActions extends Record<string, VoltAction<any>>>(
    definition: ControllerDefinition<TName, TActions>,
  ): VoltController<TName, TActions>;
  procedure<TOptions = undefined, TReturn = unknown>(
    definition: ProcedureDefinition<TContext, TOptions, TReturn>,
  ): ProcedureFactory<TOptions, ContextExtension<TReturn>>;
  router<TControllers extends Record<string, VoltController>>(
    definition: {
      controllers: TControllers;
    } & Omit<RouterInstanceOptions, 'store' | 'logger' | 'config' | 'realtime'>,
  ): VoltRouter<TControllers>;
  readonly realtime: VoltRealtime;
  /** `volt.jobs.<namespace>.schedule({ task, input, options })` for the jobs given to `.jobs()`. */
  readonly jobs: JobsClient<TJobs>;
  readonly store: StoreAdapter;
  readonly logger: VoltLogger;
  readonly config: Readonly<VoltConfig>;
}

const METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `/users` -> `users`, `/admin/users/:id` -> `admin.users`: a controller's name when it gives none. */
function nameFromPath(path: string | undefined): string {
  return (path ?? '')
    .split('/')
    .filter((segment) => segment && !segment.startsWith(':'))
    .join('.');
}

/** What a router is compiled from: the kernel's options and the docs settings. */
type RouterOptions = KernelOptions & { docs?: DocsConfig | undefined };

function makeRouter<TControllers extends Record<string, VoltController>>(controllers: TControllers, options: RouterOptions): VoltRouter<TControllers> {
  const list = Object.values(controllers);
  for (const controller of list) {
    if (controller?.kind !== 'volt.controller') throw new TypeError('volt.router: every controller must come from volt.controller()');
  }
  // The document, and its routes when `.docs()` is on: the kernel offers them only the requests no route matches.
  const docs = routerDocs(list, options);
  const kernel = new Kernel(list, { ...options, fallback: docs.serve });
  return {
    controllers,
    listener: kernel.listener,
    handler: kernel.handler,
    matchedRoute: kernel.matchedRoute,
    routes: kernel.routes,
    openapi: docs.openapi,
    realtime: kernel.realtime,
    instance: (overrides) =>
      makeRouter(controllers, {
        ...options,
        ...overrides,
        config: { ...options.config, ...overrides.config },
        docs: mergeDocs(options.docs, overrides.docs),
      }),
  };
}

export class VoltBuilder<TContext, TJobs extends JobsMap = {}> {
  constructor(private readonly state: BuilderState<TContext>) {}

  store(adapter: StoreAdapter): VoltBuilder<TContext, TJobs> {
    return new VoltBuilder({ ...this.state, store: adapter });
  }

  logger(logger: VoltLogger): VoltBuilder<TContext, TJobs> {
    return new VoltBuilder({ ...this.state, logger });
  }

  config(config: VoltConfig): VoltBuilder<TContext, TJobs> {
    return new VoltBuilder({ ...this.state, config: { ...this.state.config, ...config } });
  }

  /** Adds the realtime endpoint and backs `realtime.*` with this transport. */
  realtime(transport: RealtimeTransport): VoltBuilder<TContext, TJobs> {
    return new VoltBuilder({ ...this.state, realtime: transport });
  }

  /** Background jobs (`jobs.merge({...})`, see jobs.ts): typed `volt.jobs.<namespace>.schedule(...)`. */
  jobs<TRegistered extends JobsMap>(registered: RegisteredJobs<TRegistered>): VoltBuilder<TContext, TRegistered> {
    if (!isRegisteredJobs(registered)) throw new TypeError('.jobs(): expected the result of jobs.merge({...})');
    return new VoltBuilder({ ...this.state, jobs: registered as RegisteredJobs });
  }

  /**
   * As in Volt.js: routers serve their OpenAPI document at
   * `{basePATH}/openapi.json` and Scalar's API reference at `playground.route`
   * (`/docs`), unless `playground.enabled` is false.
   */
  docs(config: DocsConfig): VoltBuilder<TContext, TJobs> {
    return new VoltBuilder({ ...this.state, docs: config });
  }

  create(): VoltInstance<TContext, TJobs> {
    const state = this.state;
    const store = state.store ?? createMemoryStore();
    const logger = state.logger ?? createJsonLogger();
    const realtime = createRealtime(state.realtime);
    const base: RouterOptions = {
      context: state.context as KernelOptions['context'],
      store,
      logger,
      config: state.config,
      realtime: state.realtime ?? null,
      docs: state.docs,
    };

    return {
      query: (definition) => {
        if (typeof definition.handler !== 'function') throw new TypeError(`volt.query ${definition.path}: handler is required`);
        return { ...definition, type: 'query', method: 'GET' } as unknown as VoltAction<any>;
      },
      mutation: (definition) => {
        if (!METHODS.has(definition.method)) throw new TypeError(`volt.mutation ${definition.path}: method must be POST, PUT, PATCH or DELETE`);
        if (typeof definition.handler !== 'function') throw new TypeError(`volt.mutation ${definition.path}: handler is required`);
        return { ...definition, type: 'mutation' } as unknown as VoltAction<any>;
      },
      controller: (definition) => {
        const name = definition.name || nameFromPath(definition.path);
        if (!name) throw new TypeError('volt.controller: give it a `name` (its path has no static segment to name it by)');
        return { ...definition, name: name as never, kind: 'volt.controller' as const };
      },
      procedure: (definition) => defineProcedure(definition),
      router: ({ controllers, ...options }) => makeRouter(controllers, { ...base, ...options, docs: mergeDocs(base.docs, options.docs) }),
      realtime,
      jobs: createJobsClient(state.jobs ?? NO_JOBS) as JobsClient<TJobs>,
      store,
      logger,
      config: state.config,
    };
  }
}

function context<TContext>(factory: ContextFactory<TContext>): VoltBuilder<Awaited<TContext>>;
function context<TContext extends object>(value: TContext): VoltBuilder<TContext>;
/** Type only (`Volt.context<AppContext>()`): the context starts empty and procedures fill it. */
function context<TContext extends object>(): VoltBuilder<TContext>;
function context(init: unknown = {}): VoltBuilder<unknown> {
  return new VoltBuilder({ context: init, config: {} });
}

/**
 * Entry point, as in Volt.js:
 * `Volt.context(fn).store(adapter).logger(l).config({ baseURL, basePATH }).create()`.
 * The context function receives the request and this router's runtime
 * (`store`, `logger`, `realtime`, `config`) and may be async.
 */
export const Volt = { context };
