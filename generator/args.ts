import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { isPackageManager, PACKAGE_MANAGERS, type PackageManager } from './package-manager.js';

export const REDIS_MODES = ['standalone', 'cluster'] as const;
export type RedisMode = (typeof REDIS_MODES)[number];
export const MIN_INSTANCES = 1;
export const MAX_INSTANCES = 16;

/** What the command line said; undefined means "not given" (prompt or default). */
export interface CliFlags {
  dir: string | undefined;
  yes: boolean;
  redis: RedisMode | undefined;
  instances: number | undefined;
  pm: PackageManager | undefined;
  install: boolean | undefined;
  git: boolean | undefined;
  dryRun: boolean;
  force: boolean;
  help: boolean;
  version: boolean;
}

const OPTIONS = {
  yes: { type: 'boolean', short: 'y' },
  redis: { type: 'string' },
  instances: { type: 'string' },
  pm: { type: 'string' },
  install: { type: 'boolean' },
  git: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

function parseStrictly(argv: readonly string[]) {
  try {
    // strict: an unknown or misspelt flag is an error, not silently ignored.
    // allowNegative gives --no-install / --no-git.
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
  } catch (error) {
    throw new UsageError(cleanParseArgsMessage(error));
  }
}

export function parseCliArgs(argv: readonly string[]): CliFlags {
  const { values, positionals } = parseStrictly(argv);
  if (positionals.length > 1) {
    throw new UsageError(`Expected one project directory, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  return {
    dir: positionals[0],
    yes: values.yes ?? false,
    redis: values.redis === undefined ? undefined : parseRedisMode(values.redis),
    instances: values.instances === undefined ? undefined : parseInstances(values.instances),
    pm: values.pm === undefined ? undefined : parsePackageManager(values.pm),
    install: values.install,
    git: values.git,
    dryRun: values['dry-run'] ?? false,
    force: values.force ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

export function parseRedisMode(value: string): RedisMode {
  if ((REDIS_MODES as readonly string[]).includes(value)) return value as RedisMode;
  throw new UsageError(`--redis must be one of ${REDIS_MODES.join(', ')}; got "${value}"`);
}

export function parseInstances(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < MIN_INSTANCES || n > MAX_INSTANCES) {
    throw new UsageError(`--instances must be a whole number from ${MIN_INSTANCES} to ${MAX_INSTANCES}; got "${value}"`);
  }
  return n;
}

export function parsePackageManager(value: string): PackageManager {
  if (isPackageManager(value)) return value;
  throw new UsageError(`--pm must be one of ${PACKAGE_MANAGERS.join(', ')}; got "${value}"`);
}

/** node:util's messages mention "parseArgs"; say it in the user's words. */
export function cleanParseArgsMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `Unknown option ${unknown[1]}`;
  const missing = /Option '([^']+)' argument missing/.exec(message);
  if (missing) return `Option ${missing[1]} needs a value`;
  return message.replace(/\. To specify a positional argument.*$/s, '');
}
