/**
 * `npm run token`: the script as a user runs it (tsx, a child process), its
 * token accepted by `auth()`, and bad input refused with the reason.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createTokens } from '../../../src/features/auth/tokens.js';
import { AUTH_ENV } from '../../support/auth-tokens.js';

const projectRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const tsx = createRequire(import.meta.url).resolve('tsx/cli');

function token(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsx, 'scripts/token.ts', ...args], { cwd: projectRoot, env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run token', () => {
  it('prints a token the app accepts, for the user, name and lifetime asked', async () => {
    const result = await token(['--sub', 'alice', '--name', 'Alice', '--ttl', '15m'], AUTH_ENV);
    expect(result.code, result.stderr).toBe(0);
    const user = await createTokens(loadConfig(AUTH_ENV).auth).verify(result.stdout.trim());
    expect(user).toMatchObject({ id: 'alice', name: 'Alice' });
    expect(Math.abs(user.expiresAt - (Date.now() + 15 * 60_000))).toBeLessThan(10_000);
  }, 30_000);

  it('refuses bad input with the reason and exit code 1, printing no token', async () => {
    const cases = [
      [['--sub', 'alice'], {}, /AUTH_SECRET is not set/],
      [[], AUTH_ENV, /--sub is required/],
      [['--sub', 'alice', '--ttl', 'soon'], AUTH_ENV, /--ttl soon: use a positive number of seconds/],
      [['--sub', 'alice', '--admin'], AUTH_ENV, /Unknown option '--admin'/],
      [['--sub', 'alice'], { AUTH_SECRET: 'short' }, /AUTH_SECRET: use at least 32 characters/],
    ] as const;
    const results = await Promise.all(cases.map(([args, env]) => token([...args], env)));
    results.forEach((result, index) => {
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(cases[index]![2]);
      expect(result.stdout).toBe('');
    });
  }, 60_000);
});
