import { parseArgs } from 'node:util';
import { cleanParseArgsMessage } from '../args.js';
import { UsageError } from '../errors.js';

/** The first argument that turns the command line into an upgrade rather than a new project. */
export const UPGRADE_COMMAND = 'upgrade';

export interface UpgradeFlags {
  /** The project to upgrade; undefined means the current directory. */
  dir: string | undefined;
  /** A package tarball of the version the project was generated with, instead of fetching it. */
  from: string | undefined;
  dryRun: boolean;
  force: boolean;
  help: boolean;
}

const USAGE_HINT = 'Run create-volt-scaled upgrade --help for usage.';

const OPTIONS = {
  from: { type: 'string' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses what follows `upgrade` on the command line. */
function parseStrictly(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(cleanParseArgsMessage(error), USAGE_HINT);
  }
}

export function parseUpgradeArgs(argv: readonly string[]): UpgradeFlags {
  const { values, positionals } = parseStrictly(argv);
  if (positionals.length > 1) {
    throw new UsageError(`Expected one project directory, got ${positionals.length}: ${positionals.join(' ')}`, USAGE_HINT);
  }
  if (values.from !== undefined && values.from.trim() === '') {
    throw new UsageError('--from needs the path of a create-volt-scaled package tarball (.tgz)', USAGE_HINT);
  }
  return {
    dir: positionals[0],
    from: values.from,
    dryRun: values['dry-run'] ?? false,
    force: values.force ?? false,
    help: values.help ?? false,
  };
}
