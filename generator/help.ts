import { MAX_INSTANCES, MIN_INSTANCES, REDIS_MODES } from './args.js';
import { DEFAULTS } from './answers.js';
import { PACKAGE_MANAGERS } from './package-manager.js';

/** Every flag with what it does; kept in step with args.ts by a test. */
export const FLAG_HELP: ReadonlyArray<[flag: string, description: string]> = [
  ['-y, --yes', 'Accept defaults for everything not given as a flag; never prompt'],
  [`--redis <${REDIS_MODES.join('|')}>`, `Redis topology for docker compose and npm run stack (default: ${DEFAULTS.redis})`],
  ['--instances <n>', `App instances behind nginx, ${MIN_INSTANCES}-${MAX_INSTANCES} (default: ${DEFAULTS.instances})`],
  [`--pm <${PACKAGE_MANAGERS.join('|')}>`, 'Package manager (default: the one running this command, else npm)'],
  ['--no-install', 'Do not install dependencies'],
  ['--no-git', 'Do not create a git repository'],
  ['--dry-run', 'Print the files that would be written, write nothing'],
  ['--force', 'Replace the contents of a non-empty directory (.git is kept)'],
  ['-h, --help', 'Show this help'],
  ['-v, --version', 'Print the version'],
];

export function helpText(version: string): string {
  const width = Math.max(...FLAG_HELP.map(([flag]) => flag.length));
  return [
    `create-volt-scaled ${version}`,
    '',
    'Scaffold a Volt-style TypeScript API that runs as many stateless instances',
    'behind nginx on Redis (standalone or Cluster).',
    '',
    'Usage:',
    '  create-volt-scaled [dir] [options]',
    '  npm create volt-scaled@latest [dir] -- [options]',
    '',
    `[dir] is the project directory; its name is the package name (default: ${DEFAULTS.dir}).`,
    'Prompts for anything not given when run in a terminal; with --yes or CI set, uses defaults.',
    '',
    'Options:',
    ...FLAG_HELP.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`),
    '',
    'Examples:',
    '  create-volt-scaled my-app',
    '  create-volt-scaled my-app --yes',
    '  create-volt-scaled my-app --redis cluster --instances 3 --pm pnpm',
    '  create-volt-scaled my-app --yes --no-install --no-git',
    '  create-volt-scaled my-app --dry-run',
    '',
  ].join('\n');
}
