/**
 * Tokens from an identity provider: the app fetches the provider's key set
 * (here a local HTTP server) and follows a key rotation without a restart;
 * unknown keys do not make it hammer the provider; a provider that cannot be
 * reached is a 503, not a 401.
 */
import { createServer, type Server } from 'node:http';
import { SignJWT, base64url, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp, type App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { serve } from '../../support/serve.js';

const ISSUER = 'https://id.example.test/';
const AUDIENCE = 'https://api.example.test';
const COOLDOWN_MS = 300;

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: SigningKey['alg']): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const token = (key: SigningKey, sub = 'alice', kid = key.kid) =>
  new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key.privateKey);

/** The provider's JWKS endpoint: serves whatever keys are current, and counts fetches. */
let published: JWK[] = [];
let fetches = 0;
let provider: Server;
let jwksUrl: string;
let app: App;
let base: string;

beforeAll(async () => {
  provider = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: published }));
  });
  jwksUrl = `${(await serve(provider)).url}/.well-known/jwks.json`;
  app = createApp(
    loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      METRICS_PORT: 'off',
      AUTH_JWKS_URL: jwksUrl,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
    }),
  );
  base = (await serve(app.server)).url;
});
afterAll(async () => {
  await app.close();
  provider.closeAllConnections();
  await new Promise((resolve) => provider.close(resolve));
});

const me = (jwt: string) => fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${jwt}` } });
const userOf = async (res: Response) => ((await res.json()) as { data: { user: { id: string } | null } }).data.user?.id;
const reasonOf = async (res: Response) => ((await res.json()) as { error: { details: { reason: string } } }).error.details.reason;

describe('tokens from an identity provider (JWKS)', () => {
  it('fetches the key set once and follows a key rotation without a restart', async () => {
    const first = await signingKey('2026-01', 'RS256');
    published = [first.jwk];
    const aliceToken = await token(first, 'alice');
    expect(await userOf(await me(aliceToken))).toBe('alice');
    expect(await userOf(await me(await token(first, 'bob')))).toBe('bob');
    expect(fetches).toBe(1);

    // The provider rotates: a new key (another algorithm family), the old one retired.
    const second = await signingKey('2026-02', 'ES256');
    published = [second.jwk];
    await sleep(COOLDOWN_MS + 50);
    expect(await userOf(await me(await token(second, 'carol')))).toBe('carol');
    expect(fetches).toBe(2);

    // The retired key's tokens are refused from now on; one already verified
    // is still accepted for at most a minute (verified tokens are kept that long).
    const stale = await me(await token(first, 'erin'));
    expect(stale.status).toBe(401);
    expect(await reasonOf(stale)).toBe('unknown_key');
    expect(await userOf(await me(aliceToken))).toBe('alice');
    expect(await userOf(await me(await token(second, 'dave')))).toBe('dave');
  });

  it('a flood of tokens naming unknown keys refetches at most once per cooldown', async () => {
    const current = await signingKey('2026-03', 'RS256');
    published = [current.jwk];
    await sleep(COOLDOWN_MS + 50);
    const before = fetches;
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, index) => token(current, 'mallory', `made-up-${index}`).then(me)));
    expect(answers.map((res) => res.status)).toEqual(answers.map(() => 401));
    // Once, and once more per cooldown the flood lasted (a loaded machine may stretch it past one).
    expect(fetches - before).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / COOLDOWN_MS));
  });

  it('refuses HS256 (a token "signed" with the public key as a secret) and alg none', async () => {
    const key = await signingKey('2026-04', 'RS256');
    published = [key.jwk];
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(JSON.stringify(key.jwk)));
    const res = await me(confused);
    expect(res.status).toBe(401);
    expect(await reasonOf(res)).toBe('algorithm');
    const json = (value: unknown) => base64url.encode(JSON.stringify(value));
    const exp = Math.floor(Date.now() / 1000) + 600;
    const unsigned = `${json({ alg: 'none', kid: key.kid })}.${json({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp })}.`;
    const none = await me(unsigned);
    expect(none.status).toBe(401);
    expect(await reasonOf(none)).toBe('algorithm');
  });

  it('a provider that cannot be reached is a 503 (retry later), and the server keeps serving', async () => {
    const unreachable = createApp(
      loadConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        METRICS_PORT: 'off',
        AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks.json',
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
      }),
    );
    const served = await serve(unreachable.server);
    try {
      const key = await signingKey('k', 'RS256');
      const res = await fetch(`${served.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${await token(key)}` } });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE');
      expect((await fetch(`${served.url}/api/v1/ping`)).status).toBe(200);
    } finally {
      await unreachable.close();
    }
  });

  it('needs the issuer and audience to check tokens against', () => {
    expect(() => loadConfig({ AUTH_JWKS_URL: jwksUrl })).toThrow(/AUTH_JWKS_URL needs AUTH_ISSUER .* and AUTH_AUDIENCE/);
    expect(() => loadConfig({ AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_SECRET: 'x'.repeat(32) })).toThrow(/set one of them/);
    expect(() => loadConfig({ AUTH_SECRET: 'short' })).toThrow(/AUTH_SECRET: use at least 32 characters/);
    expect(loadConfig({ AUTH_SECRET: '' }).auth.secret).toBeUndefined();
  });
});
