import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, makeTempDir, removeDir, runCli } from '../support/run-cli.js';

/** Bad input: a clear message on stderr, exit code 1, nothing written, no stack trace. */
describe('bad input', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await makeTempDir('cvs-errors-');
  });
  afterEach(async () => removeDir(cwd));

  async function expectRefused(args: string[], message: RegExp, before: string[] = []) {
    const result = await runCli(args, { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.stdout).toBe('');
    expect(await listDir(cwd)).toEqual(before);
    return result;
  }

  it.each([['My App!'], ['..'], ['node_modules']])('refuses the project name %j', async (name) => {
    await expectRefused([name, '--yes', '--no-install', '--no-git'], /^Error: .*(not a valid npm package name|not a project name)/);
  });

  it('refuses a non-empty directory without --force and leaves its files alone', async () => {
    await mkdir(path.join(cwd, 'taken'));
    await writeFile(path.join(cwd, 'taken', 'notes.txt'), 'keep me');
    const result = await expectRefused(['taken', '--yes', '--no-install', '--no-git'], /taken is not empty; nothing was written/, ['taken']);
    expect(result.stderr).toMatch(/--force/);
    expect(await listDir(path.join(cwd, 'taken'))).toEqual(['notes.txt']);
  });

  it('refuses a target path that is a file', async () => {
    await writeFile(path.join(cwd, 'app'), 'a file');
    await expectRefused(['app', '--yes', '--no-install', '--no-git'], /app is a file, not a directory/, ['app']);
  });

  it('refuses an unknown flag and points at --help', async () => {
    const result = await expectRefused(['app', '--yes', '--frobnicate'], /^Error: Unknown option --frobnicate/);
    expect(result.stderr).toMatch(/Run create-volt-scaled --help/);
  });

  it.each([['0'], ['abc'], ['17']])('refuses --instances %s', async (value) => {
    await expectRefused(['app', '--yes', '--instances', value], new RegExp(`--instances must be a whole number from 1 to 16; got "${value}"`));
  });

  it('refuses --redis nope', async () => {
    await expectRefused(['app', '--yes', '--redis', 'nope'], /--redis must be one of standalone, cluster; got "nope"/);
  });

  it('refuses --pm with an unknown package manager', async () => {
    await expectRefused(['app', '--yes', '--pm', 'pip'], /--pm must be one of npm, pnpm, yarn, bun/);
  });
});

describe('--help and --version', () => {
  it('--help lists every flag with examples', async () => {
    const result = await runCli(['--help'], { cwd: process.cwd() });
    expect(result.code).toBe(0);
    for (const flag of [
      '--yes',
      '-y',
      '--redis',
      '--instances',
      '--pm',
      '--no-install',
      '--no-git',
      '--dry-run',
      '--force',
      '--help',
      '-h',
      '--version',
      '-v',
    ]) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toMatch(/Examples:\n\s+create-volt-scaled my-app/);
  });

  it('--version prints the package version', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const result = await runCli(['--version'], { cwd: process.cwd() });
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
