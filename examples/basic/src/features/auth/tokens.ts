/**
 * Bearer tokens: JWTs verified with jose, from one of two key sources:
 * - AUTH_SECRET: HS256 with a shared secret, for local use (`npm run token`,
 *   the development sign-in) or an app that issues its own tokens;
 * - AUTH_JWKS_URL: an identity provider's public keys, fetched on first use
 *   and cached; a token signed with a key the cache does not know refetches
 *   the set (at most once per cooldown), so a key rotation at the provider is
 *   followed without a restart.
 * Every token must be signed with an allowed algorithm (never `none`), name
 * the configured issuer and audience, have `sub` and `exp`, and be inside its
 * `nbf`..`exp` window give or take a small clock tolerance.
 *
 * Checking a signature costs tens of µs of CPU (WebCrypto runs each HMAC or
 * RSA check as an asynchronous job), several times a small request's own cost,
 * and a client sends the same token request after request. So a token that
 * verified is kept, keyed by the whole token (signature included), until its
 * `exp` and at most a minute (config.ts), and the same token again skips the
 * check. Tokens that fail are never kept.
 */
import { SignJWT, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Config } from '../../config.js';
import { VoltError } from '../../volt/index.js';
import type { User } from './user.js';

export type AuthSettings = Config['auth'];

/** Why a token was refused: `error.details.reason` of the 401. */
export type TokenRejection =
  | 'missing'
  | 'malformed'
  | 'signature'
  | 'algorithm'
  | 'unknown_key'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'ticket'
  | 'not_configured';

/** A 401 whose `error.details.reason` says what was wrong with the credentials. */
export function rejected(reason: TokenRejection, message: string): VoltError {
  return new VoltError('UNAUTHORIZED', message, { details: { reason } });
}

export interface Tokens {
  /** False when neither AUTH_SECRET nor AUTH_JWKS_URL is set: every token is refused. */
  readonly configured: boolean;
  /** The user a token names; a 401 VoltError when it does not verify, a 503 when the key set cannot be fetched. */
  verify(token: string): Promise<User>;
  /** A token signed with AUTH_SECRET (`npm run token`, the development sign-in, tests). */
  sign(user: { sub: string; name?: string | undefined }, ttlSeconds: number): Promise<string>;
}

const LOCAL_ALGORITHM = 'HS256';

export function createTokens(settings: AuthSettings): Tokens {
  const { secret, jwksUrl } = settings;
  // Imported once: jose would import a raw secret again on every call.
  const localKey = secret === undefined ? undefined : importHmacKey(secret);
  const remoteKeys: JWTVerifyGetKey | undefined =
    jwksUrl === undefined
      ? undefined
      : createRemoteJWKSet(new URL(jwksUrl), {
          cooldownDuration: settings.jwksCooldownMs,
          cacheMaxAge: settings.jwksCacheMaxAgeMs,
          timeoutDuration: settings.jwksTimeoutMs,
        });
  const verified = settings.verifiedTokens > 0 ? new LRUCache<string, User>({ max: settings.verifiedTokens }) : undefined;
  const verifyOptions = {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: localKey ? [LOCAL_ALGORITHM] : settings.jwksAlgorithms,
    clockTolerance: settings.clockToleranceSeconds,
    requiredClaims: ['sub', 'exp'],
  };

  return {
    configured: localKey !== undefined || remoteKeys !== undefined,

    async verify(token) {
      const known = verified?.get(token);
      if (known !== undefined && known.expiresAt > Date.now()) return known;
      if (!localKey && !remoteKeys) throw rejected('not_configured', 'Sign-in is not configured on this server');
      let payload: JWTPayload;
      try {
        payload = localKey ? (await jwtVerify(token, await localKey, verifyOptions)).payload : (await jwtVerify(token, remoteKeys!, verifyOptions)).payload;
      } catch (error) {
        throw verificationError(error);
      }
      const user = userOf(payload);
      const keepMs = Math.min(user.expiresAt - Date.now(), settings.verifiedTokenMaxAgeMs);
      if (keepMs > 0) verified?.set(token, user, { ttl: keepMs });
      return user;
    },

    async sign(user, ttlSeconds) {
      if (!localKey) throw new Error('Signing tokens needs AUTH_SECRET (tokens from an identity provider are signed by the provider)');
      const claims: JWTPayload = user.name === undefined ? {} : { name: user.name };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: LOCAL_ALGORITHM, typ: 'JWT' })
        .setSubject(user.sub)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(await localKey);
    },
  };
}

function importHmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

function userOf(payload: JWTPayload): User {
  // jose checked both: `requiredClaims`, and `exp` is a number when present.
  const id = payload.sub!;
  if (id.length === 0 || id.length > 256) throw rejected('claims', 'The token\'s "sub" must be 1 to 256 characters');
  // Frozen: one verified token's user is shared by every request that sends it.
  return Object.freeze({ id, name: typeof payload.name === 'string' ? payload.name : null, expiresAt: payload.exp! * 1000, claims: Object.freeze(payload) });
}

/** jose's error as the client sees it: what was wrong, never how to forge it better. */
function verificationError(error: unknown): VoltError {
  if (!(error instanceof errors.JOSEError)) {
    // Fetching the provider's keys failed (network, DNS): the token may be fine.
    return new VoltError('SERVICE_UNAVAILABLE', 'The sign-in keys could not be fetched; try again shortly', { cause: error });
  }
  switch (error.code) {
    case 'ERR_JWT_EXPIRED':
      return rejected('expired', 'The token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as errors.JWTClaimValidationFailed).claim;
      if (claim === 'nbf' || claim === 'iat') return rejected('not_yet_valid', 'The token is not valid yet');
      if (claim === 'iss') return rejected('issuer', 'The token was issued by another issuer');
      if (claim === 'aud') return rejected('audience', 'The token is meant for another audience');
      return rejected('claims', `The token's "${claim}" claim is missing or invalid`);
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return rejected('signature', 'The token signature is invalid');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return rejected('algorithm', 'The token is signed with an algorithm this server does not accept');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return rejected('unknown_key', 'The token is signed with a key this server does not know');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC': // the key set's URL answered something other than 200
      return new VoltError('SERVICE_UNAVAILABLE', 'The sign-in keys could not be fetched; try again shortly', { cause: error });
    default:
      return rejected('malformed', 'The token is not a well-formed JWT');
  }
}
