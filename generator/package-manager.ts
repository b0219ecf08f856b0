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
  /** `run('dev')` -> "npm run dev" / "pnpm dev" / "yarn dev" / "bun run dev" */
  run: (script: string) => string;
}

export function commandsFor(pm: PackageManager): PackageManagerCommands {
  switch (pm) {
    case 'npm':
      return { install: 'npm install', run: (s) => `npm run ${s}` };
    case 'pnpm':
      return { install: 'pnpm install', run: (s) => `pnpm ${s}` };
    case 'yarn':
      return { install: 'yarn install', run: (s) => `yarn ${s}` };
    case 'bun':
      return { install: 'bun install', run: (s) => `bun run ${s}` };
  }
}
