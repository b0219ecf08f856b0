import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Volt, silentLogger } from '../../../src/volt/index.js';
import { getJson, serve, type Served } from './harness.js';

// The context-pool experiment must not leak state from one request into the next.
const volt = Volt.context({}).logger(silentLogger).config({ basePATH: '/' }).create();
const c = volt.controller({
  name: 'c',
  path: '/c',
  actions: {
    marked: volt.query({ path: '/marked', handler: ({ request, response }) => response.status(202).setHeader('x-mark', '1').setCookie('m', '1').success(request.query) }),
    plain: volt.query({ path: '/plain/:id', handler: ({ request, response }) => response.success({ q: request.query, id: request.params.id, c: request.cookies.getAll() }) }),
  },
});

let app: Served;
beforeAll(async () => {
  app = await serve(volt.router({ controllers: { c }, pool: true }).listener);
});
afterAll(() => app.close());

describe('context pool (experiment)', () => {
  it('recycled objects carry nothing over', async () => {
    for (let i = 0; i < 3; i++) {
      const marked = await getJson(`${app.url}/c/marked?x=${i}`);
      expect(marked.status).toBe(202);
      expect(marked.body.data).toEqual({ x: String(i) });
      const plain = await getJson(`${app.url}/c/plain/${i}`, { headers: { cookie: `k=${i}` } });
      expect(plain.status).toBe(200);
      expect(plain.headers.get('x-mark')).toBeNull();
      expect(plain.headers.get('set-cookie')).toBeNull();
      expect(plain.body.data).toEqual({ q: {}, id: String(i), c: { k: String(i) } });
    }
  });
});
