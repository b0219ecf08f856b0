import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { create } from 'tar';
import { cleanEnv } from './run-cli.js';

/** A file's content, or content with a mode (e.g. 0o755 for a script). */
export type FixtureFile = string | Buffer | { content: string | Buffer; mode: number };

/** Writes files (relative path -> content) under dir. */
export async function writeFiles(dir: string, files: Record<string, FixtureFile>): Promise<void> {
  for (const [relative, file] of Object.entries(files)) {
    const target = path.join(dir, relative);
    await mkdir(path.dirname(target), { recursive: true });
    const { content, mode } = typeof file === 'string' || Buffer.isBuffer(file) ? { content: file, mode: 0o644 } : file;
    await writeFile(target, content);
    await chmod(target, mode);
  }
}

/**
 * A create-volt-scaled package tarball (package/package.json, templates/,
 * infra/) as `npm pack` lays it out, for `upgrade --from`.
 */
export async function packTemplates(options: { version: string; templatesDir: string; infraDir?: string; file: string }): Promise<string> {
  const root = path.join(path.dirname(options.file), `pkg-${options.version}-${Date.now()}`);
  const packageDir = path.join(root, 'package');
  await mkdir(packageDir, { recursive: true });
  await writeFile(path.join(packageDir, 'package.json'), `${JSON.stringify({ name: 'create-volt-scaled', version: options.version }, null, 2)}\n`);
  await cp(options.templatesDir, path.join(packageDir, 'templates'), { recursive: true });
  if (options.infraDir) await cp(options.infraDir, path.join(packageDir, 'infra'), { recursive: true });
  await create({ gzip: true, file: options.file, cwd: root, portable: true }, ['package']);
  return options.file;
}

/** git with a fixed identity and no user configuration, so commits work on any machine. */
export function git(dir: string, args: string[]) {
  return execa('git', ['-c', 'user.name=Test', '-c', 'user.email=test@localhost', '-c', 'commit.gpgsign=false', ...args], {
    cwd: dir,
    env: cleanEnv({ GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }),
    extendEnv: false,
  });
}

export async function commitAll(dir: string, message: string): Promise<void> {
  await git(dir, ['add', '--all']);
  await git(dir, ['commit', '--quiet', '--no-verify', '-m', message]);
}

/** `git status --porcelain` lines: empty when the work tree is committed. */
export async function gitStatus(dir: string): Promise<string[]> {
  const { stdout } = await git(dir, ['status', '--porcelain', '--untracked-files=all']);
  return stdout.split('\n').filter((line) => line !== '');
}

/** Every file under dir (outside .git) as "mode sha1", to check that nothing was written. */
export async function fingerprint(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const absolute = path.join(entry.parentPath, entry.name);
    const relative = path.relative(dir, absolute);
    if (relative === '.git' || relative.startsWith(`.git${path.sep}`) || !entry.isFile()) continue;
    const mode = ((await stat(absolute)).mode & 0o777).toString(8);
    files.set(
      relative,
      `${mode} ${createHash('sha1')
        .update(await readFile(absolute))
        .digest('hex')}`,
    );
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}
