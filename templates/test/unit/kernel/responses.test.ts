import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { signValue } from '../../../src/volt/signing.js';
import { Volt, silentLogger, VoltError } from '../../../src/volt/index.js';
import { getJson, postJson, serve, type Served } from './harness.js';
import { RecordingTransport } from './recording-transport.js';

const SECRET = 'a'.repeat(32);
const transport = new RecordingTransport();
const volt = Volt.context((request) => ({ tenant: request.headers.get('x-tenant') ?? 'none' }))
  .logger(silentLogger)
  .config({ basePATH: '/api', cookieSecret: SECRET })
  .realtime(transport)
  .create();

const r = volt.controller({
  name: 'r',
  path: '/r',
  actions: {
    success: volt.query({ path: '/success', handler: ({ response, context }) => response.success({ ok: true, tenant: context.tenant }) }),
    plain: volt.query({ path: '/plain', handler: async () => ({ returned: 'plain' }) }),
    nothing: volt.query({ path: '/nothing', handler: () => undefined }),
    created: volt.mutation({ path: '/created', method: 'POST', handler: ({ response }) => response.created({ id: 1 }) }),
    noContent: volt.mutation({ path: '/no-content', method: 'DELETE', handler: ({ response }) => response.noContent() }),
    badRequest: volt.query({ path: '/bad-request', handler: ({ response }) => response.badRequest('nope', { field: 'x' }) }),
    unauthorized: volt.query({ path: '/unauthorized', handler: ({ response }) => response.unauthorized() }),
    forbidden: volt.query({ path: '/forbidden', handler: ({ response }) => response.forbidden('no access') }),
    notFound: volt.query({ path: '/not-found', handler: ({ response }) => response.notFound('missing') }),
    conflict: volt.query({ path: '/conflict', handler: ({ response }) => response.error({ code: 'CONFLICT', message: 'taken', data: { id: 7 } }) }),
    unprocessable: volt.query({ path: '/unprocessable', handler: ({ response }) => response.error({ code: 'UNPROCESSABLE', message: 'cannot' }) }),
    customError: volt.query({ path: '/custom-error', handler: ({ response }) => response.error({ code: 'SOMETHING', message: 'odd' }) }),
    explicitError: volt.query({
      path: '/explicit-error',
      handler: ({ response }) => response.error({ code: 'TEAPOT', message: 'short and stout', status: 418 }),
    }),
    redirect: volt.query({ path: '/redirect', handler: ({ response }) => response.redirect('/elsewhere') }),
    redirect301: volt.query({ path: '/redirect-301', handler: ({ response }) => response.redirect('https://example.test/x', 301) }),
    status: volt.query({ path: '/status', handler: ({ response }) => response.status(202).success({ accepted: true }) }),
    headers: volt.query({
      path: '/headers',
      handler: ({ response }) =>
        response.setHeader('X-Custom', 'yes').setHeader('x-list', ['a', 'b']).setHeader('content-type', 'application/vnd.test+json').success(1),
    }),
    cookie: volt.query({
      path: '/cookie',
      handler: ({ response }) =>
        response
          .setCookie('plain', 'v1')
          .setCookie('full', 'v 2', {
            maxAge: 60,
            expires: new Date('2030-01-01T00:00:00Z'),
            path: '/api',
            domain: 'example.test',
            secure: true,
            httpOnly: true,
            sameSite: 'strict',
            partitioned: true,
            priority: 'high',
          })
          .success(null),
    }),
    readCookies: volt.query({
      path: '/read-cookies',
      handler: ({ request, response }) => {
        const jar = request.cookies;
        const before = { a: jar.get('a'), has: jar.has('a'), all: jar.getAll(), missing: jar.get('zzz') ?? null };
        jar.set('b', '2', { httpOnly: true });
        jar.delete('a');
        return response.success({ before, after: { a: jar.get('a') ?? null, b: jar.get('b') } });
      },
    }),
    setSigned: volt.query({
      path: '/set-signed',
      handler: ({ request, response }) => {
        request.cookies.setSigned('session', 'user-42', { httpOnly: true });
        return response.success(null);
      },
    }),
    getSigned: volt.query({ path: '/get-signed', handler: ({ request, response }) => response.success({ session: request.cookies.getSigned('session') }) }),
    revalidate: volt.mutation({
      path: '/revalidate',
      method: 'POST',
      handler: ({ response }) => response.revalidate(['notes.list', 'r.success']).success('ok'),
    }),
    publish: volt.mutation({
      path: '/publish',
      method: 'POST',
      handler: async ({ realtime, response }) => {
        await realtime.publish('room', { hi: 1 }, { type: 'greeting' });
        await realtime.to('room2').publish({ hi: 2 });
        await realtime.broadcast({ all: true });
        await realtime.revalidate('notes.list');
        return response.success('published');
      },
    }),
    stream: volt.query({
      path: '/stream',
      handler: ({ response }) =>
        response.stream(
          (async function* () {
            yield { n: 1 };
            yield 'raw-text\n';
            yield { n: 2 };
          })(),
        ),
    }),
    throws: volt.query({
      path: '/throws',
      handler: () => {
        throw new Error('secret internal detail');
      },
    }),
    throwsVolt: volt.query({
      path: '/throws-volt',
      handler: () => {
        throw new VoltError('CONFLICT', 'already exists', { details: { id: 3 } });
      },
    }),
    echo: volt.mutation({
      path: '/echo/:a/:b',
      method: 'PUT',
      query: z.object({ page: z.coerce.number().int().min(1) }),
      body: z.object({ name: z.string() }),
      handler: ({ request, response }) =>
        response.success({ params: request.params, query: request.query, body: request.body, method: request.method, path: request.path }),
    }),
  },
});

let app: Served;
beforeAll(async () => {
  app = await serve(volt.router({ controllers: { r } }).listener);
});
afterAll(() => app.close());

const url = (path: string) => `${app.url}/api/r${path}`;

describe('response builder', () => {
  it('success: 200 envelope, context from the request', async () => {
    const res = await getJson(url('/success'), { headers: { 'x-tenant': 'acme' } });
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"data":{"ok":true,"tenant":"acme"},"error":null}');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(res.text)));
  });

  it('a plain return value is success(value); returning nothing is success(null)', async () => {
    expect((await getJson(url('/plain'))).body).toEqual({ data: { returned: 'plain' }, error: null });
    const nothing = await getJson(url('/nothing'));
    expect(nothing.status).toBe(200);
    expect(nothing.body).toEqual({ data: null, error: null });
  });

  it('created: 201', async () => {
    const res = await getJson(url('/created'), { method: 'POST' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ data: { id: 1 }, error: null });
  });

  it('noContent: a real 204 without body or content-type', async () => {
    const res = await fetch(url('/no-content'), { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(res.headers.get('content-type')).toBeNull();
  });

  it.each([
    ['/bad-request', 400, { code: 'BAD_REQUEST', message: 'nope', details: { field: 'x' } }],
    ['/unauthorized', 401, { code: 'UNAUTHORIZED', message: 'Unauthorized' }],
    ['/forbidden', 403, { code: 'FORBIDDEN', message: 'no access' }],
    ['/not-found', 404, { code: 'NOT_FOUND', message: 'missing' }],
    ['/conflict', 409, { code: 'CONFLICT', message: 'taken', data: { id: 7 } }],
    ['/unprocessable', 422, { code: 'UNPROCESSABLE', message: 'cannot' }],
    ['/custom-error', 500, { code: 'SOMETHING', message: 'odd' }],
    ['/explicit-error', 418, { code: 'TEAPOT', message: 'short and stout' }],
  ])('%s -> %i with an error envelope', async (path, status, error) => {
    const res = await getJson(url(path));
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ data: null, error });
  });

  it('redirect: Location header, 302 by default or the given status', async () => {
    const res = await fetch(url('/redirect'), { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/elsewhere');
    const permanent = await fetch(url('/redirect-301'), { redirect: 'manual' });
    expect(permanent.status).toBe(301);
    expect(permanent.headers.get('location')).toBe('https://example.test/x');
  });

  it('status() sets the status of a later success()', async () => {
    const res = await getJson(url('/status'));
    expect(res.status).toBe(202);
    expect(res.body.data).toEqual({ accepted: true });
  });

  it('setHeader: custom, repeated and content-type replacement', async () => {
    const res = await getJson(url('/headers'));
    expect(res.headers.get('x-custom')).toBe('yes');
    expect(res.headers.get('x-list')).toBe('a, b');
    expect(res.headers.get('content-type')).toBe('application/vnd.test+json');
    expect(res.body).toEqual({ data: 1, error: null });
  });

  it('setCookie writes every option', async () => {
    const res = await fetch(url('/cookie'));
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    // The router's defaults: out of reach of scripts, not sent with cross-site writes.
    expect(cookies[0]).toBe('plain=v1; Path=/; HttpOnly; SameSite=Lax');
    const full = cookies[1]!;
    expect(full).toContain('full=v%202');
    for (const part of [
      'Max-Age=60',
      'Expires=Tue, 01 Jan 2030 00:00:00 GMT',
      'Path=/api',
      'Domain=example.test',
      'Secure',
      'HttpOnly',
      'SameSite=Strict',
      'Partitioned',
      'Priority=High',
    ]) {
      expect(full).toContain(part);
    }
  });

  it('stream: chunks are written as they come (objects as JSON lines)', async () => {
    const res = await fetch(url('/stream'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(await res.text()).toBe('{"n":1}\nraw-text\n{"n":2}\n');
  });

  it('params, validated query and body reach the handler', async () => {
    const res = await postJson(`${url('/echo/x%20y/2')}?page=3`, { name: 'n' }, 'PUT');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ params: { a: 'x y', b: '2' }, query: { page: 3 }, body: { name: 'n' }, method: 'PUT', path: '/api/r/echo/x%20y/2' });
  });
});

describe('cookies', () => {
  it('get/getAll/has/set/delete within one request', async () => {
    const res = await fetch(url('/read-cookies'), { headers: { cookie: 'a=1; c=3' } });
    const body = (await res.json()) as any;
    expect(body.data).toEqual({ before: { a: '1', has: true, all: { a: '1', c: '3' }, missing: null }, after: { a: null, b: '2' } });
    const cookies = res.headers.getSetCookie();
    expect(cookies[0]).toBe('b=2; Path=/; HttpOnly; SameSite=Lax');
    expect(cookies[1]).toBe('a=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax');
  });

  it("the router's cookie defaults (config.cookies adds Secure) apply under each call's own options", async () => {
    const secure = Volt.context({})
      .config({ cookies: { secure: true } })
      .create();
    const router = secure.router({
      controllers: {
        c: secure.controller({
          name: 'c',
          path: '/c',
          actions: {
            set: secure.query({
              path: '/',
              handler: ({ request, response }) => {
                request.cookies.set('readable', '1', { httpOnly: false, sameSite: 'strict' });
                return response.setCookie('session', 'abc').success(null);
              },
            }),
          },
        }),
      },
    });
    const res = await router.handler(new Request('http://x/api/v1/c'));
    expect(res.headers.getSetCookie()).toEqual(['readable=1; Path=/; Secure; SameSite=Strict', 'session=abc; Path=/; HttpOnly; Secure; SameSite=Lax']);
  });

  it('signed cookies round-trip and a tampered one reads as null', async () => {
    const set = await fetch(url('/set-signed'));
    const line = set.headers.getSetCookie()[0]!;
    const value = line.slice('session='.length, line.indexOf(';'));
    expect(decodeURIComponent(value)).toBe(signValue('user-42', SECRET));
    const good = (await (await fetch(url('/get-signed'), { headers: { cookie: `session=${value}` } })).json()) as any;
    expect(good.data).toEqual({ session: 'user-42' });
    const forged = encodeURIComponent(`user-1.${decodeURIComponent(value).split('.')[1]}`);
    const bad = (await (await fetch(url('/get-signed'), { headers: { cookie: `session=${forged}` } })).json()) as any;
    expect(bad.data).toEqual({ session: null });
    const unsigned = (await (await fetch(url('/get-signed'), { headers: { cookie: 'session=user-42' } })).json()) as any;
    expect(unsigned.data).toEqual({ session: null });
  });
});

describe('realtime through the transport', () => {
  it('response.revalidate publishes one revalidate event after the response', async () => {
    const before = transport.published.length;
    const res = await getJson(url('/revalidate'), { method: 'POST' });
    expect(res.status).toBe(200);
    await transport.waitFor(before + 1);
    expect(transport.published[before]).toEqual({ channel: 'revalidate', type: 'revalidate', data: { keys: ['notes.list', 'r.success'] } });
  });

  it('publish, to().publish, broadcast and revalidate', async () => {
    const before = transport.published.length;
    await getJson(url('/publish'), { method: 'POST' });
    expect(transport.published.slice(before)).toEqual([
      { channel: 'room', type: 'greeting', data: { hi: 1 } },
      { channel: 'room2', type: 'message', data: { hi: 2 } },
      { channel: 'broadcast', type: 'message', data: { all: true } },
      { channel: 'revalidate', type: 'revalidate', data: { keys: ['notes.list'] } },
    ]);
  });

  it('mounts GET {basePATH}/sse/events and hands the built context to the transport', async () => {
    const res = await fetch(`${app.url}/api/sse/events?channels=a`, { headers: { 'x-tenant': 't9' } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe('event: hello\ndata: {"tenant":"t9"}\n\n');
  });
});

describe('errors', () => {
  it('a thrown error is a 500 envelope without the message or stack', async () => {
    const res = await getJson(url('/throws'));
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ data: null, error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
    expect(res.text).not.toContain('secret');
    expect((await getJson(url('/success'))).status).toBe(200);
  });

  it('a thrown VoltError keeps its code, status and details', async () => {
    const res = await getJson(url('/throws-volt'));
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ data: null, error: { code: 'CONFLICT', message: 'already exists', details: { id: 3 } } });
  });

  it('exposes message and stack only when exposeErrors is on (NODE_ENV=development)', async () => {
    const dev = Volt.context({}).logger(silentLogger).config({ basePATH: '/', exposeErrors: true }).create();
    const c = dev.controller({
      name: 'd',
      path: '/d',
      actions: {
        boom: dev.query({
          path: '/',
          handler: () => {
            throw new Error('visible detail');
          },
        }),
      },
    });
    const served = await serve(dev.router({ controllers: { c } }).listener);
    try {
      const res = await getJson(`${served.url}/d`);
      expect(res.status).toBe(500);
      expect(res.body.error.message).toBe('visible detail');
      expect(res.body.error.stack).toContain('visible detail');
    } finally {
      await served.close();
    }
  });
});
