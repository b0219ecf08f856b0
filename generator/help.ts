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
  ['--force', 'Replace the contents of a non-empty directory (.git and .env are kept)'],
  ['-h, --help', 'Show this help'],
  ['-v, --version', 'Print the version'],
];

/** Flags and descriptions in two aligned columns. */
function flagLines(flags: ReadonlyArray<[flag: string, description: string]>): string[] {
  const width = Math.max(...flags.map(([flag]) => flag.length));
  return flags.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}

export function helpText(version: string): string {
  return [
    `create-volt-scaled ${version}`,
    '',
    'Scaffold a Volt-style TypeScript API that runs as many stateless instances',
    'behind nginx on Redis (standalone or Cluster).',
    '',
    'Usage:',
    '  create-volt-scaled [dir] [options]',
    '  npm create volt-scaled@latest [dir] -- [options]',
    '  create-volt-scaled upgrade [dir] [options]   bring a generated project to this version',
    '',
    `[dir] is the project directory; its name is the package name (default: ${DEFAULTS.dir}).`,
    'Prompts for anything not given when run in a terminal; with --yes or CI set, uses defaults.',
    '',
    'Options:',
    ...flagLines(FLAG_HELP),
    '',
    'Examples:',
    '  create-volt-scaled my-app',
    '  create-volt-scaled my-app --yes',
    '  create-volt-scaled my-app --redis cluster --instances 3 --pm pnpm',
    '  create-volt-scaled my-app --yes --no-install --no-git',
    '  create-volt-scaled my-app --dry-run',
    '',
    'Run create-volt-scaled upgrade --help for the upgrade command.',
    '',
  ].join('\n');
}

/** The upgrade command's flags; kept in step with upgrade/args.ts by a test. */
export const UPGRADE_FLAG_HELP: ReadonlyArray<[flag: string, description: string]> = [
  ['--from <file.tgz>', 'Package tarball of the version in volt-scaled.json (default: npm pack it)'],
  ['--dry-run', 'Print what would change in each file, write nothing'],
  ['--force', 'Upgrade even with uncommitted changes or outside a git repository'],
  ['-h, --help', 'Show this help'],
];

export function upgradeHelpText(version: string): string {
  return [
    `create-volt-scaled upgrade ${version}`,
    '',
    'Brings a generated project to this version of the template and keeps your changes.',
    'It renders the template your project was generated from (the version and answers in',
    `volt-scaled.json) and this version's template with the same answers, and merges`,
    'the difference between the two into your files:',
    '',
    '  updated     you never changed the file: it becomes the new template version',
    '  merged      you changed it: the template changes are merged in line by line',
    '  conflicted  you and the template changed the same lines: both are kept between',
    '              <<<<<<< and >>>>>>> markers for you to resolve',
    '  added       a file new in the template',
    '  removed     a file the template dropped and you never changed',
    '  kept        a file the template dropped or changed that you changed or deleted,',
    '              and local files (git-ignored, such as .env), which are never overwritten',
    '',
    'package.json is merged as JSON: dependencies you did not change move to the',
    "template's ranges; your own dependencies, scripts and changed values are kept.",
    'Exit code 1 when a conflict remains. Your work tree must be committed first (so',
    'git diff shows the upgrade and git checkout undoes it) unless you pass --force.',
    '',
    'Usage:',
    '  create-volt-scaled upgrade [dir] [options]',
    '  npm create volt-scaled@latest -- upgrade [dir] [options]',
    '',
    '[dir] is the project directory (default: the current directory).',
    '',
    'Options:',
    ...flagLines(UPGRADE_FLAG_HELP),
    '',
    'Examples:',
    '  npm create volt-scaled@latest -- upgrade',
    '  npm create volt-scaled@latest -- upgrade --dry-run',
    '  create-volt-scaled upgrade path/to/my-app --from create-volt-scaled-0.1.0.tgz',
    '',
  ].join('\n');
}
