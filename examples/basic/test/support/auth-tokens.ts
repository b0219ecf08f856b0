/**
 * Tokens for tests: good ones, signed as `npm run token` signs them, and bad
 * ones made the way an attacker or a misconfigured client would make them.
 */
import { SignJWT, base64url, generateKeyPair, type JWTPayload } from 'jose';

/** AUTH_SECRET of the tests' apps. */
export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';
export const TEST_ISSUER = 'volt-app';
export const TEST_AUDIENCE = 'volt-app-api';
/** Environment for an app that accepts the tokens made here. */
export const AUTH_ENV = { AUTH_SECRET: TEST_SECRET } as const;

export interface TokenOptions {
  sub?: string;
  name?: string;
  /** Seconds from now (negative: already expired). Default 3600. */
  expiresIn?: number;
  /** Seconds from now before which the token is not valid. */
  notBefore?: number;
  issuer?: string;
  audience?: string;
  secret?: string;
  alg?: 'HS256' | 'HS384' | 'HS512';
  /** Extra claims. */
  claims?: JWTPayload;
}

const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token as the app's own tokens are (override any part to make it wrong). */
export async function signToken(options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ ...(options.name ? { name: options.name } : {}), ...options.claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setSubject(options.sub ?? 'alice')
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(now() + (options.expiresIn ?? 3600));
  if (options.notBefore !== undefined) jwt.setNotBefore(now() + options.notBefore);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** The classic forgery: `alg: none` and no signature, with claims that would otherwise pass. */
export function unsignedToken(sub = 'alice'): string {
  const payload = { sub, iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now(), exp: now() + 3600 };
  return `${encodeJson({ alg: 'none', typ: 'JWT' })}.${encodeJson(payload)}.`;
}

/** A valid token for `sub` whose payload is swapped for another user's, keeping the signature. */
export async function tamperedToken(signedFor = 'bob', claimed = 'alice'): Promise<string> {
  const [header, , signature] = (await signToken({ sub: signedFor })).split('.');
  const payload = { sub: claimed, iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now(), exp: now() + 3600 };
  return `${header}.${encodeJson(payload)}.${signature}`;
}

/** A token signed with an RSA key: an algorithm an HS256 server must refuse. */
export async function rsaSignedToken(sub = 'alice'): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setSubject(sub)
    .setIssuer(TEST_ISSUER)
    .setAudience(TEST_AUDIENCE)
    .setExpirationTime(now() + 3600)
    .sign(privateKey);
}
