import path from 'node:path';
import type { CliFlags, RedisMode } from './args.js';
import { UsageError } from './errors.js';
import type { PackageManager } from './package-manager.js';
import { projectNameProblem } from './project-name.js';

/** Everything the generator needs to decide, whether it came from flags, prompts or defaults. */
export interface Answers {
  /** Absolute path of the project directory. */
  targetDir: string;
  /** npm package name, the basename of targetDir. */
  name: string;
  redis: RedisMode;
  instances: number;
  pm: PackageManager;
  install: boolean;
  git: boolean;
}

export const DEFAULTS = {
  dir: 'my-volt-app',
  redis: 'standalone',
  instances: 2,
  install: true,
  git: true,
} as const satisfies Partial<Record<string, unknown>>;

/** The project name is the directory's own name; "." means the current directory. */
export function projectNameFromDir(dir: string, cwd: string): string {
  const trimmed = dir.replace(/[\\/]+$/, '');
  if (trimmed === '.' || trimmed === '') return path.basename(path.resolve(cwd));
  return path.basename(trimmed);
}

/** Validates a directory argument and returns its absolute path and package name. */
export function resolveTarget(dir: string, cwd: string): { targetDir: string; name: string } {
  const name = projectNameFromDir(dir, cwd);
  const problem = projectNameProblem(name);
  if (problem) throw new UsageError(problem, 'The project name is the directory name; choose a lowercase name such as my-app.');
  return { targetDir: path.resolve(cwd, dir), name };
}

/** Non-interactive answers: every flag given wins, everything else takes its default. */
export function answersFromFlags(flags: CliFlags, context: { cwd: string; detectedPm: PackageManager }): Answers {
  return {
    ...resolveTarget(flags.dir ?? DEFAULTS.dir, context.cwd),
    redis: flags.redis ?? DEFAULTS.redis,
    instances: flags.instances ?? DEFAULTS.instances,
    pm: flags.pm ?? context.detectedPm,
    install: flags.install ?? DEFAULTS.install,
    git: flags.git ?? DEFAULTS.git,
  };
}
