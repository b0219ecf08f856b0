import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The project's local settings: `.env.example` (committed) with a fresh random
 * REDIS_PASSWORD, so `docker compose up` works right after generation. It is
 * git-ignored in the project, so it never lands in the first commit.
 */
export const ENV_FILE = '.env';
export const ENV_EXAMPLE_FILE = '.env.example';

/** The line of `.env.example` that `.env` fills in. */
const PASSWORD_LINE = /^REDIS_PASSWORD=$/m;

/** 32 random bytes as 64 hex characters: strong, and safe in a shell, a URL and a compose file. */
export function randomRedisPassword(): string {
  return randomBytes(32).toString('hex');
}

/** `.env.example` with its empty `REDIS_PASSWORD=` line set to password. */
export function envFromExample(example: string, password: string): string {
  const matches = example.match(new RegExp(PASSWORD_LINE.source, 'gm')) ?? [];
  if (matches.length !== 1) {
    throw new Error(`${ENV_EXAMPLE_FILE} must have exactly one empty "REDIS_PASSWORD=" line to fill in; found ${matches.length}`);
  }
  return example.replace(PASSWORD_LINE, `REDIS_PASSWORD=${password}`);
}

/** Writes `<projectDir>/.env` from the rendered `.env.example`, readable by its owner only. */
export async function writeEnvFile(projectDir: string, password = randomRedisPassword()): Promise<void> {
  const example = await readFile(path.join(projectDir, ENV_EXAMPLE_FILE), 'utf8');
  await writeFile(path.join(projectDir, ENV_FILE), envFromExample(example, password), { mode: 0o600 });
}
