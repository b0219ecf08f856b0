/**
 * Background jobs with Volt.js's API:
 *
 *   export const jobs = createJobs<AppContext>({ defaultJobOptions: { attempts: 3 } });
 *   const emailJobs = jobs.router({
 *     namespace: 'emails',
 *     jobs: {
 *       sendWelcome: jobs.register({
 *         input: z.object({ email: z.string().email() }),
 *         handler: async ({ payload, context }) => context.mailer.send(payload.email),
 *       }),
 *     },
 *     onSuccess: (job) => ..., onFailure: (job, error) => ...,
 *   });
 *   export const REGISTERED_JOBS = jobs.merge({ emails: emailJobs });
 *   export const volt = Volt.context(...).jobs(REGISTERED_JOBS).create();
 *   await volt.jobs.emails.schedule({ task: 'sendWelcome', input: { email }, options: { delay: 5_000 } });
 *
 * The kernel defines, validates and runs jobs; where they wait and which
 * process runs them is a `JobQueue`'s business (src/scaling/jobs: BullMQ on
 * Redis, or in memory), which the app attaches to `volt.jobs`.
 */
import { VoltError } from './errors.js';
import type { VoltLogger } from './logger.js';
import { issuePath, type StandardSchemaV1 } from './standard-schema.js';
import type { VoltRealtime } from './types.js';

// ---- options

export interface JobBackoff {
  /** `fixed`: `delay` between attempts; `exponential`: `delay`, then twice that, four times... */
  type: 'fixed' | 'exponential';
  delay: number;
}

export interface JobRepeat {
  /** Run every this many milliseconds. */
  every?: number;
  /** Or on a cron pattern (`0 * * * *`; a sixth field in front adds seconds). */
  cron?: string;
  /** Time zone of the cron pattern (default: the server's). */
  tz?: string;
  /** Stop after this many runs. */
  limit?: number;
  startDate?: Date | number | string;
  endDate?: Date | number | string;
}

export interface JobOptions {
  /** Milliseconds to wait before the first run. */
  delay?: number;
  /** Runs in all before the job fails for good (1: no retry). */
  attempts?: number;
  /** Wait between attempts: milliseconds (fixed), or `{ type, delay }`. */
  backoff?: number | JobBackoff;
  /**
   * Deduplication: while a job with this id is waiting, running or kept as
   * completed or failed, scheduling it again adds nothing and resolves with
   * the same id. With `repeat`, it names the schedule (default: the task).
   */
  jobId?: string;
  /** Run on a schedule instead of once: once per period across every instance. */
  repeat?: JobRepeat;
}

/** Options a job or router sets for every run of it (the caller's options win). */
export type JobDefaults = Pick<JobOptions, 'attempts' | 'backoff' | 'delay'>;

/** Options after defaults, as a `JobQueue` receives them: `attempts` and `backoff` always set. */
export interface ResolvedJobOptions {
  delay: number;
  attempts: number;
  backoff: JobBackoff;
  jobId: string | undefined;
  repeat: JobRepeat | undefined;
}

// ---- what handlers and hooks see

export interface JobInfo {
  id: string;
  /** The task: its key in the router's `jobs`. */
  name: string;
  namespace: string;
  /** Attempts made before this run (in hooks: every attempt, the last one included). */
  attemptsMade: number;
  /** Attempts allowed in all. */
  attempts: number;
  createdAt: Date;
}

export interface JobRun<TContext, TPayload> {
  /** The input, parsed by the job's schema. */
  payload: TPayload;
  /** The same value (Volt's starters call it `input`). */
  input: TPayload;
  /** The app context, as actions get it. */
  context: TContext;
  job: JobInfo;
  /** The app logger with the job's id and name bound. */
  log: VoltLogger;
  realtime: VoltRealtime;
}

/** A hook's argument: the job's fields at the top (`job.name`, `job.id`) and the run. */
export type JobEvent<TContext, TPayload> = JobInfo & JobRun<TContext, TPayload>;
export type JobSuccessHook<TContext, TPayload = unknown, TResult = unknown> = (job: JobEvent<TContext, TPayload> & { result: TResult }) => unknown;
export type JobFailureHook<TContext, TPayload = unknown> = (job: JobEvent<TContext, TPayload> & { error: Error }, error: Error) => unknown;

type PayloadOf<TSchema> = TSchema extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<TSchema> : unknown;
type InputOf<TSchema> = TSchema extends StandardSchemaV1 ? StandardSchemaV1.InferInput<TSchema> : unknown;

// ---- definitions

export interface JobRegistration<TContext, TSchema, TResult> extends JobDefaults {
  /** For logs; the task's key in its router is what names it. */
  name?: string;
  description?: string;
  /** Schema of the payload: checked when the job is scheduled and again when it runs. */
  input?: TSchema;
  handler: (run: JobRun<TContext, PayloadOf<TSchema>>) => TResult;
  /** Called once the job completed, on the instance that ran it. */
  onSuccess?: JobSuccessHook<TContext, PayloadOf<TSchema>, Awaited<TResult>>;
  /** Called once, when the last attempt failed. */
  onFailure?: JobFailureHook<TContext, PayloadOf<TSchema>>;
}

export interface JobDefinition<TContext = any, TSchema = any, TResult = any> extends JobRegistration<TContext, TSchema, TResult> {
  readonly kind: 'volt.job';
}

type AnyJobs = Record<string, JobDefinition>;

export interface JobsRouterConfig<TContext, TJobs extends AnyJobs> {
  /** Its name in `volt.jobs.<namespace>`; `jobs.merge` names it by its key when left out. */
  namespace?: string;
  jobs: TJobs;
  defaultOptions?: JobDefaults;
  /** Called after each job of this router completed (after the job's own hook). */
  onSuccess?: JobSuccessHook<TContext>;
  /** Called once per job that failed for good. */
  onFailure?: JobFailureHook<TContext>;
}

export interface JobsRouter<TJobs extends AnyJobs = AnyJobs> extends JobsRouterConfig<any, TJobs> {
  readonly kind: 'volt.jobs-router';
}

/** Namespace -> task -> job, as `jobs.merge` builds it. */
export type JobsMap = Record<string, AnyJobs>;

export interface RegisteredJobs<TMap extends JobsMap = JobsMap> {
  readonly kind: 'volt.registered-jobs';
  readonly routers: { readonly [K in keyof TMap]: JobsRouter<TMap[K]> };
  readonly defaults: JobDefaults;
}

// ---- scheduling

/** What `schedule` takes as `input` for a job: its schema's input type. */
export type JobInput<TJob> = TJob extends JobDefinition<any, infer TSchema, any> ? InputOf<TSchema> : never;

export type ScheduleParams<TJobs extends AnyJobs, TTask extends keyof TJobs> = {
  task: TTask;
  input: JobInput<TJobs[TTask]>;
  /** As in Volt's docs; the same options may also be given next to `task`. */
  options?: JobOptions;
} & JobOptions;

export interface NamespaceJobs<TJobs extends AnyJobs> {
  /** Validates the input, then adds the job; resolves with its id once it is stored. */
  schedule<TTask extends keyof TJobs & string>(params: ScheduleParams<TJobs, TTask>): Promise<string>;
  /** The same as `schedule`. */
  enqueue<TTask extends keyof TJobs & string>(params: ScheduleParams<TJobs, TTask>): Promise<string>;
}

/** `volt.jobs`: one entry per namespace. */
export type JobsClient<TMap extends JobsMap> = { readonly [K in keyof TMap]: NamespaceJobs<TMap[K]> };

/** A job ready for a queue: its input validated, its options resolved. */
export interface JobRequest {
  namespace: string;
  task: string;
  /** The input as given (the worker parses it again), JSON-serializable. */
  payload: unknown;
  options: ResolvedJobOptions;
}

/** Stores jobs and hands them to workers: BullMQ on Redis, or in memory (src/scaling/jobs). */
export interface JobQueue {
  /** Resolves with the job's id (the schedule's, with `repeat`) once the job is stored. */
  add(request: JobRequest): Promise<string>;
}

// ---- createJobs

export interface CreateJobsOptions {
  /** Options for every job (routers, jobs and each call override them). */
  defaultJobOptions?: JobDefaults;
}

const NAMESPACE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * The job definer of an app, typed with its context (Volt's `jobs`
 * adapter object): `register`, `router` and `merge`.
 */
export function createJobs<TContext>(options: CreateJobsOptions = {}) {
  const defaults = options.defaultJobOptions ?? {};
  checkDefaults(defaults, 'createJobs defaultJobOptions');
  return {
    register<TSchema extends StandardSchemaV1 | undefined = undefined, TResult = unknown>(
      definition: JobRegistration<TContext, TSchema, TResult>,
    ): JobDefinition<TContext, TSchema, TResult> {
      if (typeof definition.handler !== 'function') throw new TypeError(`jobs.register ${definition.name ?? ''}: handler is required`);
      if (definition.input !== undefined && typeof (definition.input as StandardSchemaV1 | undefined)?.['~standard']?.validate !== 'function') {
        throw new TypeError(`jobs.register ${definition.name ?? ''}: input must be a Standard Schema (zod, valibot, arktype...)`);
      }
      checkDefaults(definition, `jobs.register ${definition.name ?? ''}`);
      return { ...definition, kind: 'volt.job' };
    },

    router<const TJobs extends Record<string, JobDefinition<TContext>>>(config: JobsRouterConfig<TContext, TJobs>): JobsRouter<TJobs> {
      if (config.namespace !== undefined && !NAMESPACE_PATTERN.test(config.namespace)) {
        throw new TypeError(`jobs.router: namespace "${config.namespace}" must start with a letter and hold only letters, digits, _ and -`);
      }
      for (const [task, job] of Object.entries(config.jobs)) {
        if (job?.kind !== 'volt.job') throw new TypeError(`jobs.router ${config.namespace ?? ''}: ${task} must come from jobs.register()`);
      }
      if (config.defaultOptions) checkDefaults(config.defaultOptions, `jobs.router ${config.namespace ?? ''} defaultOptions`);
      return { ...config, kind: 'volt.jobs-router' };
    },

    merge<const TRouters extends Record<string, JobsRouter>>(
      routers: TRouters,
    ): RegisteredJobs<{ [K in keyof TRouters]: TRouters[K] extends JobsRouter<infer TJobs> ? TJobs : never }> {
      for (const [namespace, router] of Object.entries(routers)) {
        if (router?.kind !== 'volt.jobs-router') throw new TypeError(`jobs.merge: ${namespace} must come from jobs.router()`);
        if (!NAMESPACE_PATTERN.test(namespace))
          throw new TypeError(`jobs.merge: "${namespace}" must start with a letter and hold only letters, digits, _ and -`);
        if (router.namespace !== undefined && router.namespace !== namespace) {
          throw new TypeError(`jobs.merge: the router with namespace "${router.namespace}" is merged as "${namespace}"; use one name`);
        }
      }
      return { kind: 'volt.registered-jobs', routers, defaults } as never;
    },
  };
}

export type JobsDefiner<TContext> = ReturnType<typeof createJobs<TContext>>;

/** `volt.jobs` with nothing registered. */
export const NO_JOBS: RegisteredJobs<{}> = { kind: 'volt.registered-jobs', routers: {}, defaults: {} };

export function isRegisteredJobs(value: unknown): value is RegisteredJobs {
  return typeof value === 'object' && value !== null && (value as RegisteredJobs).kind === 'volt.registered-jobs';
}

// ---- validation

/** Thrown by `schedule` for an input the job's schema rejects: nothing was added. */
function jobInputError(where: string, issues: ReadonlyArray<StandardSchemaV1.Issue>): VoltError {
  const details = issues.map((issue) => ({ location: 'input', path: issuePath(issue), message: issue.message }));
  const first = details[0];
  const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid';
  return new VoltError('VALIDATION_ERROR', `Invalid input for job ${where}: ${summary}`, { details });
}

/** A payload that fails its schema when the job runs: retrying cannot help. */
export class JobPayloadError extends Error {
  constructor(
    where: string,
    readonly issues: ReadonlyArray<StandardSchemaV1.Issue>,
  ) {
    super(`Payload of job ${where} does not match its schema: ${issues.map((issue) => `${issuePath(issue) || '(root)'}: ${issue.message}`).join('; ')}`);
    this.name = 'JobPayloadError';
  }
}

async function parseInput(schema: StandardSchemaV1 | undefined, value: unknown): Promise<StandardSchemaV1.Result<unknown>> {
  if (!schema) return { value };
  return schema['~standard'].validate(value);
}

const isCount = (value: unknown, min: number) => typeof value === 'number' && Number.isInteger(value) && value >= min;

function checkDefaults(options: JobDefaults, where: string): void {
  if (options.delay !== undefined && !isCount(options.delay, 0)) throw new TypeError(`${where}: delay must be a whole number of milliseconds >= 0`);
  if (options.attempts !== undefined && !isCount(options.attempts, 1)) throw new TypeError(`${where}: attempts must be a whole number >= 1`);
  if (options.backoff !== undefined) toBackoff(options.backoff, where);
}

function toBackoff(backoff: number | JobBackoff, where: string): JobBackoff {
  if (typeof backoff === 'number') {
    if (!isCount(backoff, 0)) throw new TypeError(`${where}: backoff must be a whole number of milliseconds >= 0`);
    return { type: 'fixed', delay: backoff };
  }
  if ((backoff?.type !== 'fixed' && backoff?.type !== 'exponential') || !isCount(backoff.delay, 0)) {
    throw new TypeError(`${where}: backoff must be { type: 'fixed' | 'exponential', delay: milliseconds >= 0 }`);
  }
  return { type: backoff.type, delay: backoff.delay };
}

function isValidDate(value: Date | number | string): boolean {
  return !Number.isNaN(new Date(value).getTime());
}

function checkRepeat(repeat: JobRepeat, where: string): JobRepeat {
  const hasEvery = repeat.every !== undefined;
  const hasCron = repeat.cron !== undefined;
  if (hasEvery === hasCron) throw new TypeError(`${where}: repeat needs exactly one of every (milliseconds) or cron (a pattern)`);
  if (hasEvery && !isCount(repeat.every, 1)) throw new TypeError(`${where}: repeat.every must be a whole number of milliseconds >= 1`);
  if (hasCron && (typeof repeat.cron !== 'string' || repeat.cron.trim() === '')) throw new TypeError(`${where}: repeat.cron must be a cron pattern`);
  if (repeat.limit !== undefined && !isCount(repeat.limit, 1)) throw new TypeError(`${where}: repeat.limit must be a whole number >= 1`);
  for (const field of ['startDate', 'endDate'] as const) {
    const value = repeat[field];
    if (value !== undefined && !isValidDate(value)) throw new TypeError(`${where}: repeat.${field} is not a date`);
  }
  return repeat;
}

/**
 * Job ids become part of Redis keys and BullMQ refuses integers (its own ids)
 * and `:`; the in-memory runner applies the same rule, so a bad id fails in
 * development too.
 */
function checkJobId(jobId: unknown, where: string): string {
  if (typeof jobId !== 'string' || jobId === '' || jobId.length > 256 || jobId.includes(':') || /^\d+$/.test(jobId)) {
    throw new TypeError(`${where}: jobId must be a string of 1-256 characters without ":" that is not a number`);
  }
  return jobId;
}

/** Defaults, then the router's, the job's, and the call's options; checked. */
export function resolveJobOptions(layers: ReadonlyArray<JobOptions | undefined>, where: string): ResolvedJobOptions {
  const merged: JobOptions = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  checkDefaults(merged, where);
  if (merged.repeat !== undefined && merged.delay !== undefined && merged.delay > 0) {
    throw new TypeError(`${where}: a repeating job starts with repeat.startDate, not delay`);
  }
  return {
    delay: merged.delay ?? 0,
    attempts: merged.attempts ?? 1,
    backoff: merged.backoff === undefined ? { type: 'fixed', delay: 0 } : toBackoff(merged.backoff, where),
    jobId: merged.jobId === undefined ? undefined : checkJobId(merged.jobId, where),
    repeat: merged.repeat === undefined ? undefined : checkRepeat(merged.repeat, where),
  };
}

// ---- volt.jobs

interface Attachment {
  queues: JobQueue[];
}
const attachments = new WeakMap<object, Attachment>();

/**
 * `volt.jobs`: validates each call against the job's schema and options and
 * hands it to the attached queue. Nothing is added when validation fails.
 */
export function createJobsClient<TMap extends JobsMap>(registered: RegisteredJobs<TMap>): JobsClient<TMap> {
  const attachment: Attachment = { queues: [] };
  const client: Record<string, NamespaceJobs<AnyJobs>> = {};
  for (const [namespace, router] of Object.entries(registered.routers as Record<string, JobsRouter>)) {
    // Life of a job, step 2.
    const schedule = async (params: ScheduleParams<AnyJobs, string>): Promise<string> => {
      const { task, input, options, ...inline } = params ?? ({} as ScheduleParams<AnyJobs, string>);
      const where = `${namespace}.${String(task)}`;
      const job = typeof task === 'string' && Object.hasOwn(router.jobs, task) ? router.jobs[task] : undefined;
      if (!job) throw new VoltError('UNKNOWN_JOB', `No job ${where}: ${namespace} has ${Object.keys(router.jobs).join(', ') || 'no jobs'}`);
      const resolved = resolveJobOptions([registered.defaults, router.defaultOptions, pickDefaults(job), inline, options], `schedule ${where}`);
      const parsed = await parseInput(job.input, input);
      if (parsed.issues) throw jobInputError(where, parsed.issues);
      const queue = attachment.queues.at(-1);
      if (!queue) throw new VoltError('JOBS_NOT_RUNNING', `Cannot schedule ${where}: no job queue is attached to volt.jobs (createApp attaches one)`);
      return queue.add({ namespace, task, payload: input, options: resolved });
    };
    client[namespace] = { schedule, enqueue: schedule };
  }
  Object.freeze(client);
  attachments.set(client, attachment);
  return client as JobsClient<TMap>;
}

function pickDefaults(job: JobDefinition): JobDefaults {
  return { attempts: job.attempts, backoff: job.backoff, delay: job.delay };
}

/**
 * Makes `queue` the one `jobs` (a `volt.jobs`) schedules on, until the
 * returned function is called. The most recently attached queue wins, so
 * several apps in one process (tests) each schedule on their own while open.
 */
export function attachJobQueue(jobs: object, queue: JobQueue): () => void {
  const attachment = attachments.get(jobs);
  if (!attachment) throw new TypeError('attachJobQueue: expected volt.jobs');
  attachment.queues.push(queue);
  return () => {
    const index = attachment.queues.lastIndexOf(queue);
    if (index !== -1) attachment.queues.splice(index, 1);
  };
}

// ---- running jobs

export interface JobRunnerServices {
  /** The app context handlers and hooks get. */
  context: unknown;
  logger: VoltLogger;
  realtime: VoltRealtime;
}

/**
 * What a worker calls: `run` parses the payload and runs the handler;
 * `succeeded` and `failed` call the hooks (the job's, then its router's) once
 * the queue has recorded the outcome. A hook that throws is logged and
 * changes nothing.
 */
export function createJobRunner(registered: RegisteredJobs, services: JobRunnerServices) {
  const routers = registered.routers as Record<string, JobsRouter>;

  function has(namespace: string, task: string): boolean {
    return Object.hasOwn(routers, namespace) && Object.hasOwn(routers[namespace]!.jobs, task);
  }

  function find(info: Pick<JobInfo, 'namespace' | 'name'>): { router: JobsRouter; job: JobDefinition } {
    const router = Object.hasOwn(routers, info.namespace) ? routers[info.namespace] : undefined;
    const job = router && Object.hasOwn(router.jobs, info.name) ? router.jobs[info.name] : undefined;
    if (!router || !job) throw new JobPayloadError(`${info.namespace}.${info.name}`, [{ message: 'no such job is registered in this build' }]);
    return { router, job };
  }

  /** What a handler or hook gets; the bound logger is made only when one uses it. */
  function jobRun(info: JobInfo, payload: unknown): JobRun<unknown, unknown> {
    let log: VoltLogger | undefined;
    return {
      payload,
      input: payload,
      context: services.context,
      job: info,
      get log() {
        return (log ??= services.logger.child({ job: `${info.namespace}.${info.name}`, jobId: info.id }));
      },
      realtime: services.realtime,
    };
  }

  async function prepare(info: JobInfo, data: unknown) {
    const { router, job } = find(info);
    const parsed = await parseInput(job.input, data);
    if (parsed.issues) throw new JobPayloadError(`${info.namespace}.${info.name}`, parsed.issues);
    return { router, job, run: jobRun(info, parsed.value) };
  }

  async function callHook(name: string, info: JobInfo, hook: (() => unknown) | undefined): Promise<void> {
    if (!hook) return;
    try {
      await hook();
    } catch (error) {
      services.logger.error({ err: error, job: `${info.namespace}.${info.name}`, jobId: info.id }, `job ${name} hook failed`);
    }
  }

  return {
    namespaces: Object.keys(routers),
    /** Every registered task, by namespace. */
    tasks: Object.entries(routers).flatMap(([namespace, router]) => Object.keys(router.jobs).map((task) => ({ namespace, task }))),
    /** Whether this build registers the task (a queue may hold jobs of another build). */
    has,
    async run(info: JobInfo, data: unknown): Promise<unknown> {
      const { job, run } = await prepare(info, data);
      return job.handler(run);
    },
    async succeeded(info: JobInfo, data: unknown, result: unknown): Promise<void> {
      const { router, job } = find(info);
      if (!job.onSuccess && !router.onSuccess) return;
      const { run } = await prepare(info, data);
      const event = { ...info, ...run, result };
      await callHook('onSuccess', info, job.onSuccess && (() => job.onSuccess!(event)));
      await callHook('onSuccess', info, router.onSuccess && (() => router.onSuccess!(event)));
    },
    async failed(info: JobInfo, data: unknown, error: Error): Promise<void> {
      if (!has(info.namespace, info.name)) {
        services.logger.error({ err: error, job: `${info.namespace}.${info.name}`, jobId: info.id }, 'job of an unregistered task failed');
        return;
      }
      const { router, job } = find(info);
      if (!job.onFailure && !router.onFailure) return;
      // A payload that no longer parses still reaches the hooks, as it was stored.
      const run = await prepare(info, data).then(
        (prepared) => prepared.run,
        () => jobRun(info, data),
      );
      const event = { ...info, ...run, error };
      await callHook('onFailure', info, job.onFailure && (() => job.onFailure!(event, error)));
      await callHook('onFailure', info, router.onFailure && (() => router.onFailure!(event, error)));
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
