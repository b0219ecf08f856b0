/**
 * Browser sessions and cross-site request forgery, over real HTTP: the
 * session cookie's attributes, the development sign-in, and writes from
 * other sites refused when they carry cookies or a form body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { AUTH_ENV, signToken } from '../../support/auth-tokens.js';
import { serve } from '../../support/serve.js';

const apps: App[] = [];
async function start(env: Record<string, string>): Promise<string> {
  const app = createApp(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', METRICS_PORT: 'off', ...AUTH_ENV, ...env }));
  apps.push(app);
  return (await serve(app.server)).url;
}
let base: string;
let host: string;
beforeAll(async () => {
  base = await start({ CSRF_TRUSTED_ORIGINS: 'https://id.example.test' });
  host = new URL(base).host;
});
afterAll(async () => {
  for (const app of apps) await app.close();
});

const notesCount = async () => ((await (await fetch(`${base}/api/v1/notes`)).json()) as { data: unknown[] }).data.length;
const post = (path: string, headers: Record<string, string>, body?: string) => fetch(`${base}${path}`, { method: 'POST', headers, body });
const sessionCookie = async (sub = 'alice') => `volt_session=${await signToken({ sub })}`;
const form = 'application/x-www-form-urlencoded';
const json = 'application/json';

async function expectCrossSiteRefusal(res: Response): Promise<void> {
  expect(res.status).toBe(403);
  expect(await res.json()).toEqual({ data: null, error: { code: 'CROSS_SITE_REQUEST', message: expect.any(String) } });
}

describe('cross-site writes (CSRF)', () => {
  it('refuses a cross-site form POST (urlencoded, multipart, text/plain), and nothing is written', async () => {
    const before = await notesCount();
    await expectCrossSiteRefusal(await post('/api/v1/notes', { origin: 'https://evil.example', 'content-type': form }, 'text=pwned'));
    await expectCrossSiteRefusal(await post('/api/v1/notes', { 'sec-fetch-site': 'cross-site', 'content-type': `${form}; charset=UTF-8` }, 'text=pwned'));
    await expectCrossSiteRefusal(await post('/api/v1/notes', { origin: 'https://evil.example', 'content-type': 'text/plain' }, '{"text":"pwned"}'));
    await expectCrossSiteRefusal(await post('/api/v1/notes', { origin: 'https://evil.example', 'content-type': 'multipart/form-data; boundary=x' }, '--x--'));
    await expectCrossSiteRefusal(await post('/api/v1/notes', { origin: 'null', 'content-type': form }, 'text=pwned'));
    expect(await notesCount()).toBe(before);
  });

  it('refuses cross-site writes that carry cookies whatever the body, and a cross-site sign-out', async () => {
    const cookie = await sessionCookie();
    await expectCrossSiteRefusal(await post('/api/v1/notes', { origin: 'https://evil.example', 'content-type': json, cookie }, '{"text":"pwned"}'));
    await expectCrossSiteRefusal(await post('/api/v1/sse/ticket', { 'sec-fetch-site': 'same-site', cookie }));
    const signOut = await fetch(`${base}/api/v1/auth/session`, { method: 'DELETE', headers: { origin: 'https://evil.example', cookie } });
    await expectCrossSiteRefusal(signOut);
  });

  it('accepts same-origin JSON authenticated by the session cookie (the demo page)', async () => {
    const res = await post(
      '/api/v1/notes',
      { origin: base, 'sec-fetch-site': 'same-origin', 'content-type': json, cookie: await sessionCookie('alice') },
      '{"text":"mine"}',
    );
    expect(res.status).toBe(201);
    expect(((await res.json()) as { data: { authorId: string } }).data.authorId).toBe('alice');
  });

  it('decides by Origin and Host where a browser sends no Sec-Fetch-Site (a proxy may drop the port)', async () => {
    const cookie = await sessionCookie();
    expect((await post('/api/v1/sse/ticket', { origin: base, host, cookie })).status).toBe(201);
    expect((await post('/api/v1/sse/ticket', { origin: base, host: '127.0.0.1', cookie })).status).toBe(201);
    await expectCrossSiteRefusal(await post('/api/v1/sse/ticket', { origin: 'http://127.0.0.1.evil.example', cookie }));
    await expectCrossSiteRefusal(await post('/api/v1/sse/ticket', { origin: 'not a url', cookie }));
  });

  it('lets through what cannot be a forged browser request: no cookie and no form body, or no browser at all', async () => {
    // A cross-site JSON write needs a CORS preflight, and without cookies it acts as nobody.
    expect((await post('/api/v1/notes', { origin: 'https://evil.example', 'content-type': json }, '{"text":"anonymous"}')).status).toBe(201);
    // curl, another server: no Origin, no Sec-Fetch-Site.
    expect((await post('/api/v1/notes', { 'content-type': form }, 'text=from+curl')).status).toBe(201);
    // Bearer tokens are never sent by a browser on its own.
    const bearer = { authorization: `Bearer ${await signToken()}`, origin: 'https://app.example', 'sec-fetch-site': 'cross-site' };
    expect((await post('/api/v1/sse/ticket', bearer)).status).toBe(201);
    // Reads are never refused.
    const read = await fetch(`${base}/api/v1/auth/me`, {
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', cookie: await sessionCookie() },
    });
    expect(read.status).toBe(200);
  });

  it('allows the origins in CSRF_TRUSTED_ORIGINS (an identity provider posting back)', async () => {
    const headers = { origin: 'https://id.example.test', 'sec-fetch-site': 'cross-site', 'content-type': form, cookie: await sessionCookie() };
    expect((await post('/api/v1/notes', headers, 'text=from+the+provider')).status).toBe(201);
  });
});

describe('browser sessions', () => {
  it('POST /auth/session keeps a bearer token in an HttpOnly, SameSite=Lax cookie that auth() then reads', async () => {
    const token = await signToken({ sub: 'alice', name: 'Alice', expiresIn: 600 });
    const res = await post('/api/v1/auth/session', { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(new RegExp(`^volt_session=${token.replaceAll('.', '\\.')}; Max-Age=(59[0-9]|600); Path=/; HttpOnly; SameSite=Lax$`));
    expect(await res.json()).toEqual({ data: { user: { id: 'alice', name: 'Alice', expiresAt: expect.any(String) }, channel: 'user:alice' }, error: null });
    const me = await fetch(`${base}/api/v1/auth/me`, { headers: { cookie: cookie!.split(';')[0]! } });
    expect(((await me.json()) as { data: { user: { id: string } } }).data.user.id).toBe('alice');
  });

  it('POST /auth/session needs the token as a bearer header (a cookie alone has nothing new to keep)', async () => {
    const res = await post('/api/v1/auth/session', { origin: base, cookie: await sessionCookie() });
    expect(res.status).toBe(400);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it('DELETE /auth/session clears the cookie', async () => {
    const res = await fetch(`${base}/api/v1/auth/session`, { method: 'DELETE', headers: { cookie: await sessionCookie() } });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie()).toEqual(['volt_session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax']);
  });

  it('adds Secure in production (COOKIE_SECURE=false turns it off for plain-HTTP setups)', async () => {
    const production = await start({ NODE_ENV: 'production' });
    const plain = await start({ NODE_ENV: 'production', COOKIE_SECURE: 'false' });
    const token = await signToken();
    const cookieFrom = async (origin: string) =>
      (await fetch(`${origin}/api/v1/auth/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).headers.getSetCookie()[0];
    expect(await cookieFrom(production)).toMatch(/^__Host-volt_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(await cookieFrom(plain)).toMatch(/^volt_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('the development sign-in mints a session for any demo user, only outside production and with AUTH_SECRET', async () => {
    const res = await post('/api/v1/auth/dev-session', { 'content-type': json, origin: base }, JSON.stringify({ sub: 'bob', name: 'Bob' }));
    expect(res.status).toBe(201);
    const { data } = (await res.json()) as { data: { user: { id: string; name: string }; channel: string; token: string } };
    expect(data.user).toMatchObject({ id: 'bob', name: 'Bob' });
    expect(data.channel).toBe('user:bob');
    expect(res.headers.getSetCookie()[0]).toMatch(/^volt_session=[\w-]+\.[\w-]+\.[\w-]+; Max-Age=(35[0-9][0-9]|3600); Path=\/; HttpOnly; SameSite=Lax$/);
    const bad = await post('/api/v1/auth/dev-session', { 'content-type': json }, JSON.stringify({ sub: 'bob|admin' }));
    expect(bad.status).toBe(400);

    for (const env of [{ NODE_ENV: 'production' }, { AUTH_SECRET: '' }] as Record<string, string>[]) {
      const off = await start(env);
      const answer = await fetch(`${off}/api/v1/auth/dev-session`, { method: 'POST', headers: { 'content-type': json }, body: '{"sub":"bob"}' });
      expect(answer.status).toBe(404);
      expect(answer.headers.getSetCookie()).toEqual([]);
      const me = (await (await fetch(`${off}/api/v1/auth/me`)).json()) as { data: { signIn: { dev: boolean } } };
      expect(me.data.signIn.dev).toBe(false);
    }
  });
});
