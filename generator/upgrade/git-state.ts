import { execa } from 'execa';

export type WorkTree =
  | { kind: 'no-git' }
  | { kind: 'not-a-repository' }
  /** changed: `git status --porcelain` lines for the project directory (untracked files included). */
  | { kind: 'repository'; changed: string[] };

function git(projectDir: string, env: NodeJS.ProcessEnv, args: string[], input?: string) {
  return execa('git', args, { cwd: projectDir, env, extendEnv: false, reject: false, ...(input === undefined ? { stdin: 'ignore' as const } : { input }) });
}

/** Whether the project is in a git work tree, and what in it is not committed. */
export async function inspectWorkTree(projectDir: string, env: NodeJS.ProcessEnv): Promise<WorkTree> {
  const inside = await git(projectDir, env, ['rev-parse', '--is-inside-work-tree']);
  if (inside.code === 'ENOENT') return { kind: 'no-git' };
  if (inside.failed || String(inside.stdout).trim() !== 'true') return { kind: 'not-a-repository' };
  // The pathspec "." limits the status to the project, which may be one folder of a larger repository.
  const status = await git(projectDir, env, ['status', '--porcelain', '--untracked-files=all', '--', '.']);
  if (status.failed) throw new Error(`git status failed: ${String(status.stderr).trim()}`);
  return {
    kind: 'repository',
    changed: String(status.stdout)
      .split('\n')
      .filter((line) => line.trim() !== ''),
  };
}

/**
 * The paths git ignores in the project (its .gitignore files, .git/info/exclude,
 * the global excludes). Tracked files are never reported: they are part of the project.
 */
export async function ignoredPaths(projectDir: string, env: NodeJS.ProcessEnv, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const result = await git(projectDir, env, ['check-ignore', '--stdin', '-z'], paths.join('\0'));
  // Exit code 1: none of the paths is ignored.
  if (result.exitCode === 1) return new Set();
  if (result.failed) throw new Error(`git check-ignore failed: ${String(result.stderr).trim()}`);
  return new Set(
    String(result.stdout)
      .split('\0')
      .filter((entry) => entry !== ''),
  );
}
