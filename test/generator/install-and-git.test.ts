import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, listDir, makeTempDir, removeDir, runCli } from '../support/run-cli.js';

/** Puts an executable shell script named `name` in binDir. */
async function fakeBinary(binDir: string, name: string, script: string): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const file = path.join(binDir, name);
  await writeFile(file, `#!/bin/sh\n${script}\n`);
  await chmod(file, 0o755);
}

describe('install', () => {
  let cwd: string;
  let binDir: string;
  beforeEach(async () => {
    cwd = await makeTempDir('cvs-install-');
    binDir = path.join(cwd, 'bin');
  });
  afterEach(async () => removeDir(cwd));

  it('on failure keeps the project, says how to finish by hand and exits 1', async () => {
    await fakeBinary(binDir, 'npm', 'echo "npm ERR! code E404" >&2\necho "npm ERR! 404 Not Found - some-package" >&2\nexit 1');
    const env = cleanEnv({ PATH: `${binDir}:${process.env.PATH}` });
    const result = await runCli(['app', '--yes', '--no-git', '--pm', 'npm'], { cwd, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Error: installing dependencies failed: npm install exited with code 1/);
    expect(result.stderr).toContain('npm ERR! 404 Not Found - some-package');
    expect(result.stderr).toMatch(/The project was created and kept\. To finish by hand, run:\n\s+cd app && npm install\n/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // Next steps still list the install step, since it did not happen.
    expect(result.stdout).toMatch(/cd app\n\s+npm install\n/);
    expect(await listDir(path.join(cwd, 'app'))).toContain('package.json');
    expect(await listDir(path.join(cwd, 'app'))).toContain('volt-scaled.json');
  });

  it('says the package manager is missing when it is not on PATH', async () => {
    // PATH holds git only via its absolute path: no pnpm anywhere.
    const env = cleanEnv({ PATH: binDir });
    await mkdir(binDir, { recursive: true });
    const result = await runCli(['app', '--yes', '--no-git', '--pm', 'pnpm'], { cwd, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pnpm was not found on PATH/);
    expect(result.stderr).toMatch(/cd app && pnpm install/);
  });

  it('runs `<pm> install` in the project directory with the chosen manager', async () => {
    await fakeBinary(binDir, 'yarn', 'echo "$*" > installed-by-yarn.txt\npwd >> installed-by-yarn.txt');
    const env = cleanEnv({ PATH: `${binDir}:${process.env.PATH}` });
    const result = await runCli(['app', '--yes', '--no-git', '--pm', 'yarn'], { cwd, env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const marker = await readFile(path.join(cwd, 'app', 'installed-by-yarn.txt'), 'utf8');
    expect(marker.split('\n')[0]).toBe('install');
    expect(marker.split('\n')[1]).toMatch(/\/app$/);
    expect(result.stdout).toMatch(/Dependencies installed\./);
    expect(result.stdout).not.toMatch(/yarn install\n/);
    expect(result.stdout).toMatch(/yarn dev/);
  });
});

describe('git', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await makeTempDir('cvs-git-');
  });
  afterEach(async () => removeDir(cwd));

  /** A HOME without a ~/.gitconfig and no system config: no user.name anywhere. */
  function envWithoutIdentity(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env = cleanEnv({ HOME: cwd, XDG_CONFIG_HOME: path.join(cwd, '.config'), GIT_CONFIG_NOSYSTEM: '1', ...extra });
    for (const key of ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL']) delete env[key];
    return env;
  }

  it('creates a repository with a first commit even when user.name is not set', async () => {
    const env = envWithoutIdentity();
    const result = await runCli(['app', '--yes', '--no-install'], { cwd, env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const dir = path.join(cwd, 'app');
    const log = await execa('git', ['log', '--format=%an <%ae>|%s'], { cwd: dir, env, extendEnv: false });
    expect(log.stdout).toBe('create-volt-scaled <create-volt-scaled@localhost>|Initial commit from create-volt-scaled');
    const status = await execa('git', ['status', '--porcelain'], { cwd: dir, env, extendEnv: false });
    expect(status.stdout).toBe('');
    const tracked = await execa('git', ['ls-files'], { cwd: dir, env, extendEnv: false });
    expect(tracked.stdout.split('\n')).toContain('volt-scaled.json');
    // The generated .env holds a secret: on disk, ignored, never committed; its template is.
    expect(tracked.stdout.split('\n')).toContain('.env.example');
    expect(tracked.stdout.split('\n')).not.toContain('.env');
    expect(await listDir(dir)).toContain('.env');
    const ignored = await execa('git', ['check-ignore', '--no-index', '.env', '.env.local', '.env.production', '.env.example'], {
      cwd: dir,
      env,
      extendEnv: false,
      reject: false,
    });
    expect(ignored.stdout.split('\n')).toEqual(['.env', '.env.local', '.env.production']);
  });

  it("uses the user's own identity when it is configured", async () => {
    const env = envWithoutIdentity();
    await writeFile(path.join(cwd, '.gitconfig'), '[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n');
    const result = await runCli(['app', '--yes', '--no-install'], { cwd, env });
    expect(result.code).toBe(0);
    const log = await execa('git', ['log', '--format=%an <%ae>'], { cwd: path.join(cwd, 'app'), env, extendEnv: false });
    expect(log.stdout).toBe('Ada Lovelace <ada@example.org>');
  });

  it('skips with a note when git is not installed', async () => {
    const emptyBin = path.join(cwd, 'empty-bin');
    await mkdir(emptyBin);
    const result = await runCli(['app', '--yes', '--no-install'], { cwd, env: envWithoutIdentity({ PATH: emptyBin }) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Note: git was not found; skipped creating a repository\./);
    expect(await listDir(path.join(cwd, 'app'))).not.toContain('.git');
  });

  it('does not nest a repository inside another one', async () => {
    const env = envWithoutIdentity();
    await execa('git', ['init', '--quiet'], { cwd, env, extendEnv: false });
    const result = await runCli(['packages/app', '--yes', '--no-install'], { cwd, env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/is inside the git repository .*; skipped git init/);
    expect(await listDir(path.join(cwd, 'packages', 'app'))).not.toContain('.git');
  });
});
