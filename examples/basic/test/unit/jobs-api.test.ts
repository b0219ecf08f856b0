/**
 * The jobs API of the kernel (src/volt/jobs.ts) without any queue behind it:
 * definitions checked when they are made, `schedule` validating input and
 * options before anything reaches a queue, options layered from the
 * definer's defaults to the call, hooks called in order; and the pieces of
 * the job settings (JOBS_* variables, which queues a process works on).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config.js';
import { selectQueues } from '../../src/scaling/jobs/index.js';
import { backoffDelay, nextRun } from '../../src/scaling/jobs/memory-job-queue.js';
import {
  attachJobQueue,
  createJobRunner,
  createJobs,
  createJsonLogger,
  JobPayloadError,
  Volt,
  VoltError,
  type JobQueue,
  type JobRequest,
  type StandardSchemaV1,
} from '../../src/volt/index.js';
import { createJobsClient, resolveJobOptions } from '../../src/volt/jobs.js';
import { disabledRealtime } from '../../src/volt/realtime.js';

function recordingQueue(): JobQueue & { added: JobRequest[] } {
  const added: JobRequest[] = [];
  return {
    added,
    async add(request) {
      added.push(request);
      return `id-${added.length}`;
    },
  };
}

function definitions() {
  const jobs = createJobs<{ tenant: string }>({ defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 } } });
  const reports = jobs.router({
    namespace: 'reports',
    defaultOptions: { attempts: 4 },
    jobs: {
      build: jobs.register({
        input: z.object({ month: z.string().regex(/^\d{4}-\d{2}$/), pages: z.number().int().default(1) }),
        backoff: 250,
        handler: async ({ payload, context }) => ({ month: payload.month, pages: payload.pages, tenant: context.tenant }),
      }),
      ping: jobs.register({ handler: () => 'pong' }),
    },
  });
  return { jobs, registered: jobs.merge({ reports }) };
}

describe('job definitions', () => {
  it('are checked when they are made, with the reason', () => {
    const jobs = createJobs();
    expect(() => jobs.register({ handler: undefined as never })).toThrow(/handler is required/);
    expect(() => jobs.register({ input: { parse() {} } as never, handler: () => 1 })).toThrow(/input must be a Standard Schema/);
    expect(() => jobs.register({ attempts: 0, handler: () => 1 })).toThrow(/attempts must be a whole number >= 1/);
    expect(() => jobs.router({ namespace: 'bad name', jobs: {} })).toThrow(/namespace "bad name" must start with a letter/);
    expect(() => jobs.router({ jobs: { x: (() => 1) as never } })).toThrow(/x must come from jobs.register/);
    const router = jobs.router({ namespace: 'mail', jobs: {} });
    expect(() => jobs.merge({ email: router })).toThrow(/namespace "mail" is merged as "email"/);
    expect(() => jobs.merge({ '1st': jobs.router({ jobs: {} }) })).toThrow(/"1st" must start with a letter/);
    expect(() => jobs.merge({ x: {} as never })).toThrow(/x must come from jobs.router/);
    expect(() => Volt.context({}).jobs({} as never)).toThrow(/expected the result of jobs.merge/);
    expect(() => createJobs({ defaultJobOptions: { backoff: { type: 'linear', delay: 1 } as never } })).toThrow(/backoff must be/);
  });
});

describe('volt.jobs.<namespace>.schedule', () => {
  it("layers options: the definer's defaults, the router's, the job's, then the call's (inline, then `options`)", async () => {
    const { registered } = definitions();
    const client = createJobsClient(registered);
    const queue = recordingQueue();
    attachJobQueue(client, queue);
    expect(await client.reports.schedule({ task: 'build', input: { month: '2030-01' } })).toBe('id-1');
    expect(queue.added[0]).toEqual({
      namespace: 'reports',
      task: 'build',
      payload: { month: '2030-01' },
      options: { delay: 0, attempts: 4, backoff: { type: 'fixed', delay: 250 }, jobId: undefined, repeat: undefined },
    });
    await client.reports.enqueue({ task: 'build', input: { month: '2030-02' }, attempts: 2, delay: 10, options: { delay: 20, jobId: 'report-2030-02' } });
    expect(queue.added[1]!.options).toEqual({ delay: 20, attempts: 2, backoff: { type: 'fixed', delay: 250 }, jobId: 'report-2030-02', repeat: undefined });
    await client.reports.schedule({ task: 'ping', input: undefined, repeat: { cron: '0 * * * *', tz: 'Europe/Paris' } });
    expect(queue.added[2]!.options).toMatchObject({
      attempts: 4,
      backoff: { type: 'exponential', delay: 1_000 },
      repeat: { cron: '0 * * * *', tz: 'Europe/Paris' },
    });
  });

  it('refuses an input that fails the schema with VALIDATION_ERROR naming the field; nothing reaches the queue', async () => {
    const { registered } = definitions();
    const client = createJobsClient(registered);
    const queue = recordingQueue();
    attachJobQueue(client, queue);
    const error = (await client.reports.schedule({ task: 'build', input: { month: 'January' } }).catch((caught: unknown) => caught)) as VoltError;
    expect(error).toBeInstanceOf(VoltError);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Invalid input for job reports\.build: month: /);
    expect(error.details).toEqual([{ location: 'input', path: 'month', message: expect.any(String) }]);
    expect(queue.added).toEqual([]);
  });

  it('validates with any Standard Schema, asynchronous ones included', async () => {
    const evenOnly: StandardSchemaV1<number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async (value) => (typeof value === 'number' && value % 2 === 0 ? { value } : { issues: [{ message: 'must be even' }] }),
      },
    };
    const jobs = createJobs();
    const client = createJobsClient(
      jobs.merge({ math: jobs.router({ jobs: { half: jobs.register({ input: evenOnly, handler: ({ payload }) => payload / 2 }) } }) }),
    );
    const queue = recordingQueue();
    attachJobQueue(client, queue);
    await client.math.schedule({ task: 'half', input: 4 });
    await expect(client.math.schedule({ task: 'half', input: 3 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: /must be even/ });
    expect(queue.added.map((request) => request.payload)).toEqual([4]);
  });

  it('refuses bad options and unknown tasks before the queue', async () => {
    const { registered } = definitions();
    const client = createJobsClient(registered);
    const queue = recordingQueue();
    attachJobQueue(client, queue);
    const input = { month: '2030-01' };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ delay: -1 }, /delay must be a whole number of milliseconds >= 0/],
      [{ delay: 1.5 }, /delay must be/],
      [{ backoff: { type: 'fixed' } }, /backoff must be/],
      [{ jobId: '' }, /jobId must be/],
      [{ jobId: 'a:b' }, /jobId must be/],
      [{ jobId: '42' }, /jobId must be/],
      [{ repeat: {} }, /exactly one of every/],
      [{ repeat: { every: 10, cron: '* * * * *' } }, /exactly one of every/],
      [{ repeat: { every: 0 } }, /repeat.every must be/],
      [{ repeat: { every: 10, limit: 0 } }, /repeat.limit must be/],
      [{ repeat: { every: 10, endDate: 'soon' } }, /repeat.endDate is not a date/],
      [{ repeat: { every: 10 }, delay: 5 }, /starts with repeat.startDate, not delay/],
    ];
    for (const [options, message] of cases) {
      await expect(client.reports.schedule({ task: 'build', input, options } as never), JSON.stringify(options)).rejects.toThrow(message);
    }
    await expect(client.reports.schedule({ task: 'missing' as 'build', input })).rejects.toMatchObject({
      code: 'UNKNOWN_JOB',
      message: /reports has build, ping/,
    });
    expect(queue.added).toEqual([]);
  });

  it('needs an attached queue; the most recently attached one wins until it is detached', async () => {
    const { registered } = definitions();
    const client = createJobsClient(registered);
    await expect(client.reports.schedule({ task: 'ping', input: undefined })).rejects.toMatchObject({ code: 'JOBS_NOT_RUNNING' });
    const first = recordingQueue();
    const second = recordingQueue();
    const detachFirst = attachJobQueue(client, first);
    const detachSecond = attachJobQueue(client, second);
    await client.reports.schedule({ task: 'ping', input: undefined });
    detachSecond();
    await client.reports.schedule({ task: 'ping', input: undefined });
    detachFirst();
    expect([first.added.length, second.added.length]).toEqual([1, 1]);
    await expect(client.reports.schedule({ task: 'ping', input: undefined })).rejects.toMatchObject({ code: 'JOBS_NOT_RUNNING' });
    expect(() => attachJobQueue({}, first)).toThrow(/expected volt.jobs/);
  });

  it('is what the builder exposes as volt.jobs', async () => {
    const { registered } = definitions();
    const volt = Volt.context({ tenant: 't' }).jobs(registered).create();
    const queue = recordingQueue();
    attachJobQueue(volt.jobs, queue);
    await volt.jobs.reports.schedule({ task: 'build', input: { month: '2030-03', pages: 2 } });
    expect(queue.added[0]!.payload).toEqual({ month: '2030-03', pages: 2 });
    expect(Object.keys(Volt.context({}).create().jobs)).toEqual([]);
  });
});

describe('running jobs (createJobRunner)', () => {
  const info = (name: string, id = '1') => ({ id, name, namespace: 'reports', attemptsMade: 0, attempts: 3, createdAt: new Date(0) });

  it("parses the payload (defaults applied) and hands the handler the context; hooks run job's first, then router's", async () => {
    const calls: string[] = [];
    const jobs = createJobs<{ tenant: string }>();
    const registered = jobs.merge({
      reports: jobs.router({
        jobs: {
          build: jobs.register({
            input: z.object({ month: z.string(), pages: z.number().default(1) }),
            handler: async ({ payload, input, context, job }) => ({ ...payload, same: payload === input, tenant: context.tenant, id: job.id }),
            onSuccess: ({ result }) => void calls.push(`job success ${JSON.stringify(result)}`),
            onFailure: (_job, error) => void calls.push(`job failure ${error.message}`),
          }),
        },
        onSuccess: (job) => void calls.push(`router success ${job.name} ${job.id}`),
        onFailure: ({ name }, error) => {
          calls.push(`router failure ${name} ${error.message}`);
          throw new Error('a hook that throws');
        },
      }),
    });
    const lines: string[] = [];
    const runner = createJobRunner(registered, {
      context: { tenant: 'acme' },
      logger: createJsonLogger({ write: (line) => lines.push(line) }),
      realtime: disabledRealtime,
    });
    const result = await runner.run(info('build'), { month: '2030-01' });
    expect(result).toEqual({ month: '2030-01', pages: 1, same: true, tenant: 'acme', id: '1' });
    await runner.succeeded(info('build'), { month: '2030-01' }, result);
    await runner.failed(info('build'), { month: '2030-01' }, new Error('boom'));
    expect(calls).toEqual([
      'job success {"month":"2030-01","pages":1,"same":true,"tenant":"acme","id":"1"}',
      'router success build 1',
      'job failure boom',
      'router failure build boom',
    ]);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 50, err: expect.objectContaining({ message: 'a hook that throws' }), msg: 'job onFailure hook failed' }),
    ]);
    expect(runner.tasks).toEqual([{ namespace: 'reports', task: 'build' }]);
  });

  it('refuses a payload that no longer parses, and a task this build does not know, as JobPayloadError', async () => {
    const { registered } = definitions();
    const runner = createJobRunner(registered, { context: { tenant: 't' }, logger: createJsonLogger({ level: 'silent' }), realtime: disabledRealtime });
    await expect(runner.run(info('build'), { month: 7 })).rejects.toBeInstanceOf(JobPayloadError);
    await expect(runner.run(info('build'), { month: 7 })).rejects.toThrow(/Payload of job reports\.build does not match its schema: month: /);
    await expect(runner.run(info('vanished'), {})).rejects.toThrow(/no such job is registered in this build/);
    // Hooks of an unknown task are skipped, not thrown.
    await expect(runner.failed(info('vanished'), {}, new Error('x'))).resolves.toBeUndefined();
  });
});

describe('job settings', () => {
  it('reads JOBS_* from the environment, refusing bad values with the variable name', () => {
    expect(loadConfig({}).jobs).toMatchObject({ workers: true, concurrency: 5, queues: '*', lockMs: 30_000 });
    expect(loadConfig({ JOBS_WORKERS: 'off', JOBS_CONCURRENCY: '12', JOBS_QUEUES: ' notes , emails ', JOBS_LOCK_MS: '5000' }).jobs).toMatchObject({
      workers: false,
      concurrency: 12,
      queues: ['notes', 'emails'],
      lockMs: 5_000,
    });
    expect(() => loadConfig({ JOBS_WORKERS: 'yes' })).toThrow(/JOBS_WORKERS/);
    expect(() => loadConfig({ JOBS_CONCURRENCY: '0' })).toThrow(/JOBS_CONCURRENCY/);
    expect(() => loadConfig({ JOBS_QUEUES: 'notes;emails' })).toThrow(/JOBS_QUEUES: use \* or a comma-separated list/);
    expect(() => loadConfig({ JOBS_LOCK_MS: '10' })).toThrow(/JOBS_LOCK_MS/);
  });

  it('selects the namespaces a process works on', () => {
    expect(selectQueues({ workers: true, queues: '*' }, ['notes', 'emails'])).toEqual(['notes', 'emails']);
    expect(selectQueues({ workers: true, queues: ['emails'] }, ['notes', 'emails'])).toEqual(['emails']);
    expect(selectQueues({ workers: false, queues: '*' }, ['notes'])).toEqual([]);
    expect(() => selectQueues({ workers: true, queues: ['emails', 'sms'] }, ['notes', 'emails'])).toThrow(
      'JOBS_QUEUES: no job namespace "sms" (registered: notes, emails)',
    );
  });
});

describe('the in-memory runner’s timing rules (as BullMQ computes them)', () => {
  it('backs off by a fixed delay, or doubling from `delay`', () => {
    const options = resolveJobOptions([{ backoff: { type: 'exponential', delay: 100 } }], 'test');
    expect([1, 2, 3, 4].map((attemptsMade) => backoffDelay(options, attemptsMade))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(resolveJobOptions([{ backoff: 300 }], 'test'), 3)).toBe(300);
  });

  it('repeats every period from the first run, or at the next cron match, within the start, end and limit', () => {
    const at = Date.UTC(2030, 0, 1, 12, 0, 0, 500);
    expect(nextRun({ every: 1_000 }, at, 0, true)).toBe(at);
    expect(nextRun({ every: 1_000 }, at, 1, false)).toBe(at + 1_000);
    expect(nextRun({ every: 1_000, limit: 2 }, at, 2, false)).toBeUndefined();
    expect(nextRun({ every: 1_000, startDate: at + 5_000 }, at, 0, true)).toBe(at + 5_000);
    expect(nextRun({ every: 1_000, endDate: at + 500 }, at, 1, false)).toBeUndefined();
    expect(nextRun({ cron: '*/15 * * * *', tz: 'UTC' }, at, 0, true)).toBe(Date.UTC(2030, 0, 1, 12, 15));
    expect(nextRun({ cron: '0 9 * * *', tz: 'America/New_York' }, at, 0, true)).toBe(Date.UTC(2030, 0, 1, 14, 0));
    expect(() => nextRun({ cron: 'often' }, at, 0, true)).toThrow();
  });
});

describe('Volt documentation forms the kernel accepts', () => {
  it('names a controller from its path when it has no name', () => {
    const volt = Volt.context({}).create();
    expect(volt.controller({ path: '/users', actions: {} }).name).toBe('users');
    expect(volt.controller({ path: '/admin/users/:id', actions: {} }).name).toBe('admin.users');
    expect(volt.controller({ name: 'people', path: '/users', actions: {} }).name).toBe('people');
    expect(() => volt.controller({ path: '/:id', actions: {} })).toThrow(/give it a `name`/);
  });

  it('logs a message alone', () => {
    const lines: string[] = [];
    createJsonLogger({ write: (line) => lines.push(line), bindings: { job: 'x' } }).info('Sending welcome email to Ada');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, job: 'x', msg: 'Sending welcome email to Ada' });
  });
});
