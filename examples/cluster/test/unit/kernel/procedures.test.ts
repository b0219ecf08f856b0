import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Volt, silentLogger, VoltError } from '../../../src/volt/index.js';
import { getJson, serve, type Served } from './harness.js';
import { RecordingTransport } from './recording-transport.js';

const volt = Volt.context(async (request) => ({ requestId: request.headers.get('x-request-id') ?? 'none' }))
  .logger(silentLogger)
  .config({ basePATH: '/' })
  .create();

const order: string[] = [];

const auth = volt.procedure({
  name: 'auth',
  handler: async (options: { role?: string } | undefined, { request, response }) => {
    const token = request.headers.get('authorization');
    if (!token) return response.unauthorized('Missing token');
    const [name, role] = token.replace('Bearer ', '').split(':');
    if (options?.role && role !== options.role) return response.forbidden(`Needs role ${options.role}`);
    return { user: { name: name!, role: role! } };
  },
});

const explode = volt.procedure({
  name: 'explode',
  handler: () => {
    throw new Error('procedure blew up');
  },
});

const refuse = volt.procedure({
  name: 'refuse',
  handler: () => {
    throw new VoltError('TOO_MANY_REQUESTS', 'slow down');
  },
});

// Two independent enhancers: they run at the same time.
const slowA = volt.procedure({
  name: 'slowA',
  concurrent: true,
  handler: async () => {
    order.push('a:start');
    await new Promise((r) => setTimeout(r, 40));
    order.push('a:end');
    return { a: 1 };
  },
});
const slowB = volt.procedure({
  name: 'slowB',
  concurrent: true,
  handler: async () => {
    order.push('b:start');
    await new Promise((r) => setTimeout(r, 40));
    order.push('b:end');
    return { b: 2 };
  },
});
const afterBoth = volt.procedure({
  name: 'afterBoth',
  handler: (_options, { context }) => {
    // Earlier procedures' additions are not in a procedure's static type; they are there at run time.
    const { a, b } = context as unknown as { a: number; b: number };
    return { sum: a + b };
  },
});
const noop = volt.procedure({ name: 'noop', handler: () => undefined });

const p = volt.controller({
  name: 'p',
  path: '/p',
  actions: {
    // No procedures or schemas: the direct path, here with an async context function.
    plain: volt.query({ path: '/plain', handler: ({ context, response }) => response.success(context.requestId) }),
    plainAsync: volt.query({ path: '/plain-async', handler: async ({ context }) => ({ id: context.requestId }) }),
    me: volt.query({
      path: '/me',
      use: [auth(), noop],
      handler: ({ context, response }) => response.success({ user: context.user, requestId: context.requestId }),
    }),
    admin: volt.query({ path: '/admin', use: [auth({ role: 'admin' })], handler: ({ context, response }) => response.success(context.user.name) }),
    explode: volt.query({ path: '/explode', use: [explode], handler: ({ response }) => response.success('unreachable') }),
    refuse: volt.query({ path: '/refuse', use: [refuse()], handler: ({ response }) => response.success('unreachable') }),
    concurrent: volt.query({
      path: '/concurrent',
      use: [slowA, slowB, afterBoth],
      handler: ({ context, response }) => response.success({ a: context.a, b: context.b, sum: context.sum }),
    }),
  },
});

let app: Served;
beforeAll(async () => {
  app = await serve(volt.router({ controllers: { p } }).listener);
});
afterAll(() => app.close());

describe('procedures', () => {
  it('extend the context for the handler (async context function included)', async () => {
    const res = await getJson(`${app.url}/p/me`, { headers: { authorization: 'Bearer ada:user', 'x-request-id': 'r1' } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ user: { name: 'ada', role: 'user' }, requestId: 'r1' });
  });

  it('end the request by returning a response', async () => {
    const missing = await getJson(`${app.url}/p/me`);
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ data: null, error: { code: 'UNAUTHORIZED', message: 'Missing token' } });
    const forbidden = await getJson(`${app.url}/p/admin`, { headers: { authorization: 'Bearer bob:user' } });
    expect(forbidden.status).toBe(403);
    const allowed = await getJson(`${app.url}/p/admin`, { headers: { authorization: 'Bearer eve:admin' } });
    expect(allowed.body.data).toBe('eve');
  });

  it('a procedure that throws -> 500 envelope; a thrown VoltError keeps its status; the server keeps serving', async () => {
    const res = await getJson(`${app.url}/p/explode`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ data: null, error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
    const refused = await getJson(`${app.url}/p/refuse`);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toEqual({ code: 'TOO_MANY_REQUESTS', message: 'slow down' });
    expect((await getJson(`${app.url}/p/me`, { headers: { authorization: 'Bearer a:b' } })).status).toBe(200);
  });

  it('adjacent concurrent procedures run together, then the next one sees both results', async () => {
    order.length = 0;
    const res = await getJson(`${app.url}/p/concurrent`);
    expect(res.body.data).toEqual({ a: 1, b: 2, sum: 3 });
    expect(order.slice(0, 2).sort()).toEqual(['a:start', 'b:start']);
  });

  it('routes without procedures await an async context function before the handler', async () => {
    expect((await getJson(`${app.url}/p/plain`, { headers: { 'x-request-id': 'r7' } })).body).toEqual({ data: 'r7', error: null });
    expect((await getJson(`${app.url}/p/plain-async`, { headers: { 'x-request-id': 'r8' } })).body).toEqual({ data: { id: 'r8' }, error: null });
  });
});

describe('procedures on the realtime route (a transport with `use`)', () => {
  it('run before the transport serves: they extend the context it gets, or answer instead', async () => {
    const transport = Object.assign(new RecordingTransport(), { use: [auth] });
    const router = volt.router({ controllers: {} }).instance({ realtime: transport });
    const events = await serve(router.listener);
    try {
      const signedIn = await fetch(`${events.url}/sse/events`, { headers: { authorization: 'Bearer ada:admin', 'x-request-id': 'r9' } });
      expect(signedIn.status).toBe(200);
      expect(await signedIn.text()).toBe(`event: hello\ndata: ${JSON.stringify({ requestId: 'r9', user: { name: 'ada', role: 'admin' } })}\n\n`);
      const refused = await getJson(`${events.url}/sse/events`);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ data: null, error: { code: 'UNAUTHORIZED', message: 'Missing token' } });
    } finally {
      await events.close();
    }
  });
});
