/**
 * `npm run token -- --sub alice`: prints a token signed with AUTH_SECRET, as
 * the server checks them (HS256, AUTH_ISSUER, AUTH_AUDIENCE), for curl
 * (`Authorization: Bearer <token>`), tests, and the demo page's "use a token".
 * `npm run -s token -- ...` prints the token alone, for `TOKEN=$(...)`.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createTokens } from '../src/features/auth/tokens.js';

const USAGE = `Usage: npm run token -- --sub <user id> [--name <display name>] [--ttl <seconds, or 30m, 2h, 7d>]

Prints a token signed with AUTH_SECRET (read from the environment or .env),
valid for --ttl (default 1h). The server must run with the same AUTH_SECRET.`;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(1);
}

function seconds(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const value = match ? Number(match[1]) * UNITS[match[2] || 's']! : NaN;
  if (!(value > 0)) fail(`--ttl ${text}: use a positive number of seconds, or a number with s, m, h or d`);
  return value;
}

let options: { sub?: string | undefined; name?: string | undefined; ttl?: string | undefined; help?: boolean | undefined };
try {
  options = parseArgs({
    options: { sub: { type: 'string' }, name: { type: 'string' }, ttl: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
if (options.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const sub = options.sub?.trim();
if (!sub) fail('--sub is required: the user id the token names');
if (sub.length > 256) fail('--sub: at most 256 characters');

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  fail((error as Error).message);
}
if (!config.auth.secret) {
  fail(
    config.auth.jwksUrl
      ? 'AUTH_JWKS_URL is set: tokens come from your identity provider, not from this script'
      : 'AUTH_SECRET is not set: put one in .env (e.g. `openssl rand -hex 32`); the server must use the same',
  );
}
const ttl = options.ttl === undefined ? config.auth.devTokenTtlSeconds : seconds(options.ttl);
const token = await createTokens(config.auth).sign({ sub, name: options.name }, ttl);
process.stdout.write(`${token}\n`);
