import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The project's local files, written at generation and git-ignored, so they
 * never land in the first commit:
 * - `.env`, `.env.example` with a random AUTH_SECRET: the settings `npm start`,
 *   `npm run dev`, `npm run stack` and `docker compose` read, so `npm run dev`
 *   signs users in out of the box;
 * - `secrets/`, the passwords of the two Redis users (infra/redis/
 *   redis-start.sh), one random value per file: docker compose mounts them as
 *   secrets, so `docker compose up` works right after generation and no
 *   password is in an environment variable (`docker inspect`) or on a command line.
 */
export const ENV_FILE = '.env';
export const ENV_EXAMPLE_FILE = '.env.example';
export const SECRETS_DIR = 'secrets';
export const REDIS_SECRET_FILES = ['redis-admin-password', 'redis-app-password'] as const;

/** The empty lines of `.env.example` that `.env` fills in, each with its own random value. */
export const GENERATED_SECRETS = ['AUTH_SECRET'] as const;
export type GeneratedSecrets = Partial<Record<(typeof GENERATED_SECRETS)[number], string>>;

/** 32 random bytes as 64 hex characters: strong, and safe in a shell, a URL and a config file. */
export function randomSecret(): string {
  return randomBytes(32).toString('hex');
}

export function randomSecrets(): GeneratedSecrets {
  return Object.fromEntries(GENERATED_SECRETS.map((name) => [name, randomSecret()]));
}

/** `.env.example` with the empty `NAME=` line of each secret given set to its value. */
export function envFromExample(example: string, secrets: GeneratedSecrets): string {
  let env = example;
  for (const [name, value] of Object.entries(secrets)) {
    const line = new RegExp(`^${name}=$`, 'm');
    const found = example.match(new RegExp(line.source, 'gm'))?.length ?? 0;
    if (found !== 1) throw new Error(`${ENV_EXAMPLE_FILE} must have exactly one empty "${name}=" line to fill in; found ${found}`);
    env = env.replace(line, `${name}=${value}`);
  }
  return env;
}

/** Writes `<projectDir>/.env` from the rendered `.env.example`, readable by its owner only. */
export async function writeEnvFile(projectDir: string, secrets: GeneratedSecrets = randomSecrets()): Promise<void> {
  const example = await readFile(path.join(projectDir, ENV_EXAMPLE_FILE), 'utf8');
  const target = path.join(projectDir, ENV_FILE);
  await writeFile(target, envFromExample(example, secrets), { mode: 0o600 });
  await chmod(target, 0o600);
}

/**
 * Writes `<projectDir>/secrets/redis-*-password`, each a new random password;
 * a file that already holds one is kept (a `--force` run keeps `secrets/`).
 * The directory is its owner's only; the files are readable by all, because
 * compose bind-mounts them as they are into containers that run as other
 * users (redis, node). Returns the files it wrote.
 */
export async function writeRedisSecrets(projectDir: string): Promise<string[]> {
  const dir = path.join(projectDir, SECRETS_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const written: string[] = [];
  for (const file of REDIS_SECRET_FILES) {
    const target = path.join(dir, file);
    const kept = await readFile(target, 'utf8').catch(() => '');
    if (kept.trim() !== '') continue;
    await writeFile(target, `${randomSecret()}\n`, { mode: 0o644 });
    await chmod(target, 0o644);
    written.push(`${SECRETS_DIR}/${file}`);
  }
  return written;
}
