import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Volt, silentLogger } from '../../../src/volt/index.js';

const volt = Volt.context((request) => ({ ua: request.headers.get('user-agent') }))
  .logger(silentLogger)
  .config({ basePATH: '/api' })
  .create();
const c = volt.controller({
  name: 'f',
  path: '/f',
  actions: {
    get: volt.query({
      path: '/:id',
      handler: ({ request, context, response }) =>
        response.setCookie('seen', '1').setCookie('again', '2').success({ id: request.params.id, ua: context.ua, q: request.query }),
    }),
    post: volt.mutation({
      path: '/',
      method: 'POST',
      body: z.object({ n: z.number() }),
      handler: ({ request, response }) => response.created({ doubled: request.body.n * 2 }),
    }),
    gone: volt.mutation({ path: '/:id', method: 'DELETE', handler: ({ response }) => response.noContent() }),
  },
});
const router = volt.router({ controllers: { c } });

describe('router.handler(Request) for Fetch runtimes', () => {
  it('serves a query with params, query, headers and several cookies', async () => {
    const res = await router.handler(new Request('http://localhost/api/f/42?x=1&x=2', { headers: { 'user-agent': 'test-agent' } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.getSetCookie()).toEqual(['seen=1; Path=/; HttpOnly; SameSite=Lax', 'again=2; Path=/; HttpOnly; SameSite=Lax']);
    expect(await res.json()).toEqual({ data: { id: '42', ua: 'test-agent', q: { x: ['1', '2'] } }, error: null });
  });

  it('validates and answers a mutation body', async () => {
    const ok = await router.handler(
      new Request('http://localhost/api/f', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":21}' }),
    );
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ data: { doubled: 42 }, error: null });
    const bad = await router.handler(
      new Request('http://localhost/api/f', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":"x"}' }),
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.details[0]).toMatchObject({ location: 'body', path: 'n' });
    const malformed = await router.handler(
      new Request('http://localhost/api/f', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
    );
    expect(malformed.status).toBe(400);
  });

  it('204, 404 and 405 come back as Fetch responses', async () => {
    const gone = await router.handler(new Request('http://localhost/api/f/1', { method: 'DELETE' }));
    expect(gone.status).toBe(204);
    expect(await gone.text()).toBe('');
    const missing = await router.handler(new Request('http://localhost/api/none'));
    expect(missing.status).toBe(404);
    const wrong = await router.handler(new Request('http://localhost/api/f/1', { method: 'PUT' }));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD, DELETE');
  });

  it('matchedRoute gives the pattern for metrics labels, undefined for unknown paths', () => {
    const req = (url: string) => ({ url, method: 'GET' }) as import('node:http').IncomingMessage;
    expect(router.matchedRoute(req('/api/f/77?x=1'))).toBe('/api/f/:id');
    expect(router.matchedRoute(req('/api/f'))).toBe('/api/f');
    expect(router.matchedRoute(req('/nope'))).toBeUndefined();
  });
});
