import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJobQueue } from '../../../src/scaling/jobs/index.js';
import { attachJobQueue, createJobRunner, createJsonLogger, type JobRequest } from '../../../src/volt/index.js';
import { disabledRealtime } from '../../../src/volt/realtime.js';
import { getJson, serve, type Served } from '../kernel/harness.js';
import { AppRouter } from './fixture/router.js';
// First, as an app's entry reaches it: the job files import `volt` (for use inside handlers).
import { AppRouter as QueuesRouter } from './queues/router.js';
import { createContext, sentEmails } from './queues/context.js';
import { REGISTERED_JOBS } from './queues/registered-jobs.js';
import { volt as queuesVolt } from './queues/volt.js';

const here = dirname(fileURLToPath(import.meta.url));

let app: Served;
beforeAll(async () => {
  app = await serve(AppRouter.listener);
});
afterAll(() => app.close());

/**
 * Type errors of the fixtures, by file: one compiler run for all of them.
 * `queues/.type-probe.ts` holds calls the types must refuse; it is written
 * for the run only.
 */
const PROBE = join(here, 'queues/.type-probe.ts');
const PROBE_SOURCE = [
  "import { volt } from './volt.js';",
  "void volt.jobs.emails.schedule({ task: 'sendWelcomeEmail', input: { userId: '1', email: 'a@b.c' } });",
  "void volt.jobs.emails.schedule({ task: 'sendGoodbye', input: { userId: '1', email: 'a@b.c', name: 'x' } });",
  "void volt.jobs.reports.schedule({ task: 'x', input: {} });",
].join('\n');
let typeCheck: Map<string, string[]> | undefined;
function typeProblems(entry: string): string[] {
  if (!typeCheck) {
    const config = ts.readConfigFile(join(here, '../../../tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, join(here, '../../..'));
    ts.sys.writeFile(PROBE, PROBE_SOURCE);
    try {
      const roots = ['fixture/router.ts', 'queues/router.ts', 'queues/.type-probe.ts'].map((file) => join(here, file));
      const program = ts.createProgram(roots, { ...parsed.options, noEmit: true });
      typeCheck = new Map();
      for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
        const file = diagnostic.file ? diagnostic.file.fileName.slice(here.length + 1) : '';
        typeCheck.set(file, [...(typeCheck.get(file) ?? []), ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')]);
      }
    } finally {
      ts.sys.deleteFile?.(PROBE);
    }
  }
  const directory = entry.slice(0, entry.indexOf('/') + 1);
  // Problems anywhere in the fixture's directory count against it (the probe's only against itself).
  return [...typeCheck]
    .filter(([file]) => (entry.includes('.type-probe') ? file === entry : file.startsWith(directory) && !file.includes('.type-probe')))
    .flatMap(([, problems]) => problems);
}

describe('a controller written in the Volt.js documentation style', () => {
  it('typechecks against the kernel with strict settings', () => {
    expect(typeProblems('fixture/router.ts')).toEqual([]);
  }, 60_000);

  it('serves the query with a validated, defaulted query string', async () => {
    const res = await getJson(`${app.url}/api/v1/users?limit=5`);
    expect(res.status).toBe(200);
    expect(res.body.data.users[0]).toEqual({ id: '1', name: 'Ada Lovelace', email: 'ada@example.com' });
  });

  it('serves /:id behind the auth procedure, which adds `user` to the context', async () => {
    expect((await getJson(`${app.url}/api/v1/users/1`)).status).toBe(401);
    const res = await getJson(`${app.url}/api/v1/users/1`, { headers: { authorization: 'Bearer admin-token' } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ user: { id: '1', name: 'Ada Lovelace', email: 'ada@example.com' }, viewer: 'admin-token' });
    const missing = await getJson(`${app.url}/api/v1/users/99`, { headers: { authorization: 'Bearer admin-token' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({ code: 'NOT_FOUND', message: 'User not found' });
  });

  it('serves the zod-validated mutation and rejects an invalid body naming the field', async () => {
    const bad = await getJson(`${app.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t1' },
      body: JSON.stringify({ name: 'Grace', email: 'not-an-email' }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    expect(bad.body.error.details).toEqual([expect.objectContaining({ location: 'body', path: 'email' })]);
    const created = await getJson(`${app.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t1' },
      body: JSON.stringify({ name: 'Grace Hopper', email: 'grace@example.com' }),
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toEqual({ user: { id: '2', name: 'Grace Hopper', email: 'grace@example.com' }, createdBy: 't1' });
  });

  it('serves the OpenAPI document and the reference configured with .docs(), as Volt.js does', async () => {
    const spec = await getJson(`${app.url}/api/v1/openapi.json`);
    expect(spec.status).toBe(200);
    expect(spec.body.info).toMatchObject({ title: 'My API', version: '1.0.0', license: { name: 'MIT' } });
    expect(spec.body.servers).toEqual([{ url: 'https://api.example.com', description: 'Prod' }]);
    expect(spec.body.externalDocs).toEqual({ url: 'https://example.com/guide' });
    expect(spec.body.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(Object.keys(spec.body.paths)).toEqual(['/api/v1/users', '/api/v1/users/{id}']);
    expect(spec.body.paths['/api/v1/users'].get.parameters).toEqual([expect.objectContaining({ name: 'limit', in: 'query', required: false })]);

    const page = await fetch(`${app.url}/docs`);
    expect(page.status).toBe(200);
    // "Try it" may call the documented server.
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self' https://api.example.com");
    expect((await fetch(`${app.url}/docs`, { headers: { 'x-docs-access': 'denied' } })).status).toBe(403);
  });

  it('is served by the Fetch handler as well', async () => {
    const res = await AppRouter.handler(new Request('http://localhost/api/v1/users/1', { headers: { authorization: 'Bearer x' } }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { viewer: string } }).data.viewer).toBe('x');
  });
});

describe("a job and a controller written as Volt.js's queues guide writes them", () => {
  let served: Served;
  const added: JobRequest[] = [];
  let detach: () => void;

  beforeAll(async () => {
    served = await serve(QueuesRouter.listener);
    detach = attachJobQueue(queuesVolt.jobs, {
      async add(request) {
        added.push(request);
        return String(added.length);
      },
    });
  });
  afterAll(async () => {
    detach();
    await served.close();
  });

  it('typechecks against the kernel with strict settings', () => {
    expect(typeProblems('queues/router.ts')).toEqual([]);
  }, 60_000);

  it('rejects, at compile time, an input the schema does not take, an unknown task or namespace', () => {
    const problems = typeProblems('queues/.type-probe.ts');
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/Property 'name' is missing/);
    expect(problems[1]).toMatch(/"sendGoodbye"/);
    expect(problems[2]).toMatch(/Property 'reports' does not exist/);
  }, 60_000);

  it("schedules the welcome email with the call's delay and the adapter's default retries", async () => {
    const res = await getJson(`${served.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', email: 'ada@example.com' }),
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual({ id: '1', name: 'Ada', email: 'ada@example.com' });
    expect(added.at(-1)).toEqual({
      namespace: 'emails',
      task: 'sendWelcomeEmail',
      payload: { userId: '1', email: 'ada@example.com', name: 'Ada' },
      options: { delay: 5000, attempts: 3, backoff: { type: 'exponential', delay: 1000 }, jobId: undefined, repeat: undefined },
    });
  });

  it("enqueues with the starter guide's `enqueue`, on the router merged as `system`", async () => {
    const res = await getJson(`${served.url}/api/v1/users/posts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Hello' }),
    });
    expect(res.status).toBe(201);
    expect(added.at(-1)).toMatchObject({ namespace: 'system', task: 'notifyOnNewPost', payload: { postId: 'p1', title: 'Hello' }, options: { attempts: 3 } });
  });

  it("runs the job: the handler gets the parsed payload and the context, the router's hooks the job", async () => {
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    const failed = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const lines: string[] = [];
      const runner = createJobRunner(REGISTERED_JOBS, {
        context: createContext(),
        logger: createJsonLogger({ write: (line) => lines.push(line) }),
        realtime: disabledRealtime,
      });
      const info = { id: '7', name: 'sendWelcomeEmail', namespace: 'emails', attemptsMade: 0, attempts: 3, createdAt: new Date() };
      const payload = { userId: '1', email: 'ada@example.com', name: 'Ada' };
      const result = await runner.run(info, payload);
      expect(result).toEqual({ sentAt: expect.any(Date) });
      expect(sentEmails.at(-1)).toEqual({ to: 'ada@example.com', subject: 'Welcome!' });
      await runner.succeeded(info, payload, result);
      expect(logged).toHaveBeenCalledWith("Email job 'sendWelcomeEmail' completed successfully.");
      await runner.failed(info, payload, new Error('smtp down'));
      expect(failed).toHaveBeenCalledWith("Email job 'sendWelcomeEmail' failed:", expect.objectContaining({ message: 'smtp down' }));
    } finally {
      logged.mockRestore();
      failed.mockRestore();
    }
  });

  it("runs the starter's job on the in-memory queue, its `log` lines bound to the job", async () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (line) => lines.push(line) });
    const queue = createJobQueue({
      registered: REGISTERED_JOBS,
      settings: {
        workers: true,
        concurrency: 1,
        queues: '*',
        lockMs: 30_000,
        keepCompleted: 10,
        keepCompletedMs: 60_000,
        keepFailed: 10,
        keepFailedMs: 60_000,
        countsTimeoutMs: 1_000,
      },
      redis: undefined,
      services: { context: createContext(), logger, realtime: disabledRealtime },
      instanceId: 'compat',
      logger,
    });
    const detachMemory = attachJobQueue(queuesVolt.jobs, queue);
    try {
      const id = await queuesVolt.jobs.system.enqueue({ task: 'notifyOnNewPost', input: { postId: 'p2', title: 'Queues' } });
      await vi.waitFor(() => expect(lines.some((line) => line.includes('Notification sent!'))).toBe(true), { timeout: 5_000 });
      const sent = JSON.parse(lines.find((line) => line.includes('Notification sent!'))!);
      expect(sent).toMatchObject({ job: 'system.notifyOnNewPost', jobId: id, msg: 'Notification sent!' });
      expect(lines.some((line) => line.includes('Sending notification for new post: \\"Queues\\"'))).toBe(true);
    } finally {
      detachMemory();
      await queue.close();
    }
  });
});
