export const PACKAGE_MANAGERS = ['npm', 'pnpm', 'yarn', 'bun'] as const;
export type PackageManager = (typeof PACKAGE_MANAGERS)[number];

export function isPackageManager(value: string): value is PackageManager {
  return (PACKAGE_MANAGERS as readonly string[]).includes(value);
}

/**
 * Which package manager launched us: `npm create`, `pnpm create`, `yarn create`
 * and `bun create` all set npm_config_user_agent (e.g. "pnpm/9.1.0 npm/? node/v20...").
 */
export function detectPackageManager(env: NodeJS.ProcessEnv): PackageManager {
  const agent = env.npm_config_user_agent ?? '';
  const name = agent.split(' ')[0]?.split('/')[0] ?? '';
  return isPackageManager(name) ? name : 'npm';
}

/** The command lines a user types for each manager, for messages and the README. */
export interface PackageManagerCommands {
  install: string;
  /**
   * `run('dev')` -> "npm run dev" / "pnpm dev" / "yarn dev" / "bun run dev";
   * arguments for the script need `--` with npm only.
   */
  run: (script: string, args?: string[]) => string;
}

function withArgs(args: string[] | undefined, separator: string): string {
  return args && args.length > 0 ? ` ${separator}${args.join(' ')}` : '';
}

export function commandsFor(pm: PackageManager): PackageManagerCommands {
  switch (pm) {
    case 'npm':
      return { install: 'npm install', run: (s, args) => `npm run ${s}${withArgs(args, '-- ')}` };
    case 'pnpm':
      return { install: 'pnpm install', run: (s, args) => `pnpm ${s}${withArgs(args, '')}` };
    case 'yarn':
      return { install: 'yarn install', run: (s, args) => `yarn ${s}${withArgs(args, '')}` };
    case 'bun':
      return { install: 'bun install', run: (s, args) => `bun run ${s}${withArgs(args, '')}` };
  }
}
