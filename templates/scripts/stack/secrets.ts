import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Files holding the passwords of the Redis users (infra/redis/redis-start.sh): every process reads its own from a file. */
export interface StackSecrets {
  adminPasswordFile: string;
  appPasswordFile: string;
}

const USERS = [
  { variable: 'REDIS_ADMIN_PASSWORD', file: 'redis-admin-password' },
  { variable: 'REDIS_APP_PASSWORD', file: 'redis-app-password' },
] as const;

const holdsPassword = (file: string) => existsSync(file) && readFileSync(file, 'utf8').trim() !== '';

/**
 * The stack's Redis passwords, each as a file: REDIS_ADMIN_PASSWORD and
 * REDIS_APP_PASSWORD when they are set (written to `<stateDir>/secrets/`),
 * else the project's own `secrets/` (the ones docker compose uses), else
 * random ones kept in `<stateDir>/secrets/` from one start to the next. They
 * never go on a command line or into the plan.
 */
export function stackSecrets(stateDir: string, projectRoot: string, env: NodeJS.ProcessEnv = process.env): StackSecrets {
  const own = path.join(stateDir, 'secrets');
  mkdirSync(own, { recursive: true, mode: 0o700 });
  const files = USERS.map(({ variable, file }) => {
    const target = path.join(own, file);
    const given = env[variable];
    if (given) {
      writeFileSync(target, given, { mode: 0o600 });
      return target;
    }
    const project = path.join(projectRoot, 'secrets', file);
    if (holdsPassword(project)) return project;
    if (!holdsPassword(target)) writeFileSync(target, randomBytes(32).toString('hex'), { mode: 0o600 });
    return target;
  });
  return { adminPasswordFile: files[0]!, appPasswordFile: files[1]! };
}
