/**
 * `auth()` in the app over real HTTP: each kind of bad credentials gets a 401
 * with the documented envelope and `WWW-Authenticate`, and the server goes on
 * serving; good tokens (header or session cookie) name the user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { AUTH_ENV, rsaSignedToken, signToken, tamperedToken, unsignedToken } from '../../support/auth-tokens.js';
import { serve } from '../../support/serve.js';

let app: App;
let base: string;
let unconfigured: App;
let unconfiguredBase: string;

const testEnv = { NODE_ENV: 'test', LOG_LEVEL: 'silent', METRICS_PORT: 'off' } as const;

beforeAll(async () => {
  app = createApp(loadConfig({ ...testEnv, INSTANCE_ID: 'auth-unit', ...AUTH_ENV }));
  base = (await serve(app.server)).url;
  unconfigured = createApp(loadConfig({ ...testEnv, INSTANCE_ID: 'no-auth' }));
  unconfiguredBase = (await serve(unconfigured.server)).url;
});
afterAll(async () => {
  await app.close();
  await unconfigured.close();
});

/** `POST /api/v1/sse/ticket` requires a user: the simplest route behind `auth()`. */
const ticket = (headers: Record<string, string>, origin = base) => fetch(`${origin}/api/v1/sse/ticket`, { method: 'POST', headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function expectRefused(res: Response, reason: string): Promise<void> {
  expect(res.status, reason).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(res.headers.get('www-authenticate')).toBe(reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"');
  expect(await res.json()).toEqual({ data: null, error: { code: 'UNAUTHORIZED', message: expect.any(String), details: { reason } } });
}

describe('auth(): refusals', () => {
  it.each([
    ['a forged signature (payload swapped)', 'signature', () => tamperedToken('bob', 'alice')],
    ['a token signed with another secret', 'signature', () => signToken({ secret: 'another-secret-another-secret-012345' })],
    ['alg: none', 'algorithm', async () => unsignedToken()],
    ['the wrong algorithm (HS512, same secret)', 'algorithm', () => signToken({ alg: 'HS512' })],
    ['the wrong algorithm (RS256)', 'algorithm', () => rsaSignedToken()],
    ['an expired token (beyond the clock tolerance)', 'expired', () => signToken({ expiresIn: -30 })],
    ['a token not valid yet (nbf beyond the tolerance)', 'not_yet_valid', () => signToken({ notBefore: 60 })],
    ['the wrong audience', 'audience', () => signToken({ audience: 'another-api' })],
    ['the wrong issuer', 'issuer', () => signToken({ issuer: 'https://evil.example' })],
    ['garbage in the JWT shape', 'malformed', async () => 'abc.def.ghi'],
  ])('%s: 401 `%s`', async (_what, reason, make) => {
    await expectRefused(await ticket(bearer(await make())), reason);
  });

  it.each([
    ['Basic credentials', 'Basic YWxpY2U6cGFzc3dvcmQ='],
    ['Bearer with no token', 'Bearer'],
    ['Bearer with two tokens', 'Bearer a.b.c d.e.f'],
    ['a bare token', 'eyJhbGciOiJIUzI1NiJ9.e30.x'],
    ['characters a token cannot hold', 'Bearer a"b'],
  ])('a malformed Authorization header (%s): 401 `malformed`', async (_what, header) => {
    await expectRefused(await ticket({ authorization: header }), 'malformed');
  });

  it('no credentials: 401 `missing` with a bare `WWW-Authenticate: Bearer`', async () => {
    await expectRefused(await ticket({}), 'missing');
  });

  it('a token without `sub`: 401 `claims`', async () => {
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('volt-app')
      .setAudience('volt-app-api')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(AUTH_ENV.AUTH_SECRET));
    await expectRefused(await ticket(bearer(token)), 'claims');
  });

  it('keeps serving: after hundreds of bad tokens at once, pings and good tokens still work', async () => {
    const bad = await Promise.all([tamperedToken(), unsignedToken(), signToken({ expiresIn: -60 }), signToken({ alg: 'HS512' }), 'x.y.z']);
    const answers = await Promise.all(Array.from({ length: 300 }, (_, index) => ticket(bearer(bad[index % bad.length]!)).then((res) => res.status)));
    expect(new Set(answers)).toEqual(new Set([401]));
    expect((await fetch(`${base}/api/v1/ping`)).status).toBe(200);
    expect((await ticket(bearer(await signToken()))).status).toBe(201);
  });

  it('without AUTH_SECRET or AUTH_JWKS_URL every token is refused as `not_configured`', async () => {
    await expectRefused(await ticket(bearer(await signToken()), unconfiguredBase), 'not_configured');
    const me = await fetch(`${unconfiguredBase}/api/v1/auth/me`);
    expect(await me.json()).toEqual({ data: { user: null, channel: null, signIn: { configured: false, dev: false } }, error: null });
  });
});

describe('auth(): accepted credentials', () => {
  it('a bearer token names the user (id, name, expiry) in context.user', async () => {
    const res = await fetch(`${base}/api/v1/auth/me`, { headers: bearer(await signToken({ sub: 'alice', name: 'Alice', expiresIn: 600 })) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { data } = (await res.json()) as { data: { user: { id: string; name: string; expiresAt: string }; channel: string } };
    expect(data.user).toEqual({ id: 'alice', name: 'Alice', expiresAt: expect.any(String) });
    expect(Math.abs(Date.parse(data.user.expiresAt) - (Date.now() + 600_000))).toBeLessThan(5_000);
    expect(data.channel).toBe('user:alice');
  });

  it('tolerates a few seconds of clock difference on exp and nbf', async () => {
    expect((await ticket(bearer(await signToken({ expiresIn: -2 })))).status).toBe(201);
    expect((await ticket(bearer(await signToken({ notBefore: 2 })))).status).toBe(201);
  });

  it('optional: anonymous passes as user null, but credentials that are sent must be valid', async () => {
    const anonymous = await fetch(`${base}/api/v1/auth/me`);
    expect(await anonymous.json()).toEqual({ data: { user: null, channel: null, signIn: { configured: true, dev: true } }, error: null });
    await expectRefused(await fetch(`${base}/api/v1/auth/me`, { headers: bearer(await signToken({ expiresIn: -60 })) }), 'expired');
    // A note posted with a bad token is refused, not stored as anonymous.
    const before = ((await (await fetch(`${base}/api/v1/notes`)).json()) as { data: unknown[] }).data.length;
    const post = await fetch(`${base}/api/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(await tamperedToken()) },
      body: JSON.stringify({ text: 'should not be stored' }),
    });
    await expectRefused(post, 'signature');
    expect(((await (await fetch(`${base}/api/v1/notes`)).json()) as { data: unknown[] }).data.length).toBe(before);
  });

  it('a note written by a signed-in user carries authorId; an anonymous one has null', async () => {
    const write = (headers: Record<string, string>) =>
      fetch(`${base}/api/v1/notes`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ text: 'hi' }) });
    const signed = (await (await write(bearer(await signToken({ sub: 'carol' })))).json()) as { data: { id: number; authorId: string } };
    expect(signed.data.authorId).toBe('carol');
    const read = (await (await fetch(`${base}/api/v1/notes/${signed.data.id}`)).json()) as { data: { authorId: string } };
    expect(read.data.authorId).toBe('carol');
    expect(((await (await write({})).json()) as { data: { authorId: null } }).data.authorId).toBeNull();
  });
});
