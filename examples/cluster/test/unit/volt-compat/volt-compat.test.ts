import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, serve, type Served } from '../kernel/harness.js';
import { AppRouter } from './fixture/router.js';

const here = dirname(fileURLToPath(import.meta.url));

let app: Served;
beforeAll(async () => {
  app = await serve(AppRouter.listener);
});
afterAll(() => app.close());

describe('a controller written in the Volt.js documentation style', () => {
  it('typechecks against the kernel with strict settings', () => {
    const config = ts.readConfigFile(join(here, '../../../tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, join(here, '../../..'));
    const program = ts.createProgram([join(here, 'fixture/router.ts')], { ...parsed.options, noEmit: true });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
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

  it('is served by the Fetch handler as well', async () => {
    const res = await AppRouter.handler(new Request('http://localhost/api/v1/users/1', { headers: { authorization: 'Bearer x' } }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { viewer: string } }).data.viewer).toBe('x');
  });
});
