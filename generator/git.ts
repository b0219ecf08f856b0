import { realpath } from 'node:fs/promises';
import { execa } from 'execa';
import type { Io } from './io.js';

const FALLBACK_IDENTITY = { 'user.name': 'create-volt-scaled', 'user.email': 'create-volt-scaled@localhost' };

export type GitOutcome = 'committed' | 'git-missing' | 'inside-repository' | 'failed';

/**
 * git init + first commit. A missing git, or a project created inside another
 * repository, is skipped with a note: the project itself is complete either way.
 */
export async function initGitRepository(projectDir: string, io: Io): Promise<GitOutcome> {
  const git = (args: string[]) => execa('git', args, { cwd: projectDir, env: io.env, extendEnv: false, reject: false, stdin: 'ignore' });

  const version = await git(['--version']);
  if (version.failed) {
    io.print('Note: git was not found; skipped creating a repository.');
    return 'git-missing';
  }
  const topLevel = await git(['rev-parse', '--show-toplevel']);
  if (!topLevel.failed && typeof topLevel.stdout === 'string' && !(await isSameDir(topLevel.stdout.trim(), projectDir))) {
    io.print(`Note: ${projectDir} is inside the git repository ${topLevel.stdout.trim()}; skipped git init.`);
    return 'inside-repository';
  }

  // Only where the user has no identity configured, so their own name is used when they have one.
  const identity: string[] = [];
  for (const [key, value] of Object.entries(FALLBACK_IDENTITY)) {
    const configured = await git(['config', '--get', key]);
    if (configured.failed || String(configured.stdout).trim() === '') identity.push('-c', `${key}=${value}`);
  }

  for (const args of [
    ['init', '--quiet'],
    ['add', '--all'],
    [...identity, 'commit', '--quiet', '--no-verify', '-m', 'Initial commit from create-volt-scaled'],
  ]) {
    const result = await git(args);
    if (result.failed) {
      io.printError(
        `Warning: git ${args.filter((a) => !a.startsWith('user.') && a !== '-c').join(' ')} failed; the project is complete but has no first commit.\n${String(result.stderr).trim()}`,
      );
      return 'failed';
    }
  }
  io.print('Created a git repository with a first commit.');
  return 'committed';
}

async function isSameDir(a: string, b: string): Promise<boolean> {
  // git prints the resolved path; resolve symlinks on our side too.
  return (await realpath(a)) === (await realpath(b));
}
