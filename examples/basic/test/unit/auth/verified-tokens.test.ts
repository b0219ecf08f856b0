/**
 * Verified tokens are kept, so a client sending the same token again skips
 * the signature check, but never past the token's exp, and only tokens that
 * verified.
 */
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../../src/config.js';
import { createTokens } from '../../../src/features/auth/tokens.js';
import { AUTH_ENV, signToken, tamperedToken } from '../../support/auth-tokens.js';

const tokensWith = (env: Record<string, string> = {}) => createTokens(loadConfig({ ...AUTH_ENV, ...env }).auth);

describe('verified tokens', () => {
  it('the same token again is answered from what the first check found (the same, frozen user)', async () => {
    const tokens = tokensWith();
    const token = await signToken({ sub: 'alice', name: 'Alice' });
    const first = await tokens.verify(token);
    expect(await tokens.verify(token)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.claims)).toBe(true);
    // Another token of the same user is checked on its own.
    expect(await tokens.verify(await signToken({ sub: 'alice', expiresIn: 1800 }))).not.toBe(first);
  });

  it('AUTH_VERIFIED_TOKENS=0 checks every time', async () => {
    const tokens = tokensWith({ AUTH_VERIFIED_TOKENS: '0' });
    const token = await signToken();
    expect(await tokens.verify(token)).not.toBe(await tokens.verify(token));
  });

  it('a kept token is refused once its exp has passed', async () => {
    const tokens = tokensWith({ AUTH_CLOCK_TOLERANCE_S: '0' });
    // exp is in whole seconds: 2 s from now leaves at least 1 s to verify it in.
    const token = await signToken({ expiresIn: 2 });
    const user = await tokens.verify(token);
    expect(user.id).toBe('alice');
    await sleep(user.expiresAt - Date.now() + 100);
    await expect(tokens.verify(token)).rejects.toMatchObject({ status: 401, details: { reason: 'expired' } });
  });

  it('a refused token is refused every time', async () => {
    const tokens = tokensWith();
    const forged = await tamperedToken();
    for (let attempt = 0; attempt < 3; attempt++) await expect(tokens.verify(forged)).rejects.toMatchObject({ details: { reason: 'signature' } });
  });
});
