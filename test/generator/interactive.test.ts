import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEYS, runCliInPty } from '../support/pty.js';
import { listDir, makeTempDir, readTree, removeDir, runCli } from '../support/run-cli.js';

describe('interactive run in a terminal', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await makeTempDir('cvs-pty-');
  });
  afterEach(async () => removeDir(cwd));

  it('asks every question and writes the same tree as the equivalent flags', async () => {
    const result = await runCliInPty(
      [],
      [
        ['Project directory', `typed-app${KEYS.enter}`],
        ['Redis topology', `${KEYS.down}${KEYS.enter}`],
        ['App instances', `3${KEYS.enter}`],
        ['Package manager', `${KEYS.down}${KEYS.enter}`],
        ['Install dependencies with pnpm?', 'n'],
        ['Create a git repository?', 'n'],
      ],
      { cwd },
    );
    expect(result.stepsDone).toBe(6);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/Created typed-app in /);
    expect(result.output).toMatch(/pnpm dev/);

    const flagsDir = path.join(cwd, 'flags');
    await mkdir(flagsDir);
    const flags = await runCli(['typed-app', '--redis', 'cluster', '--instances', '3', '--pm', 'pnpm', '--no-install', '--no-git'], { cwd: flagsDir });
    expect(flags.code).toBe(0);
    // The same but for the Redis passwords in secrets/ and .env's AUTH_SECRET, random in every project.
    const withoutPasswords = (tree: Map<string, string>) => {
      for (const file of ['secrets/redis-admin-password', 'secrets/redis-app-password'])
        tree.set(file, tree.get(file)!.replace(/^[0-9a-f]{64}\n$/, '<random>'));
      tree.set('.env', tree.get('.env')!.replace(/^AUTH_SECRET=[0-9a-f]{64}$/m, 'AUTH_SECRET=<random>'));
      return tree;
    };
    const typed = withoutPasswords(await readTree(path.join(cwd, 'typed-app')));
    expect(typed.size).toBeGreaterThan(5);
    expect(typed.get('secrets/redis-admin-password')).toBe('<random>');
    expect(typed.get('.env')).toMatch(/^AUTH_SECRET=<random>$/m);
    expect(typed).toEqual(withoutPasswords(await readTree(path.join(flagsDir, 'typed-app'))));
  });

  it('asks only what the flags did not answer', async () => {
    const result = await runCliInPty(
      ['flagged-app', '--redis', 'standalone', '--pm', 'npm', '--no-install', '--no-git'],
      [['App instances', `${KEYS.enter}`]],
      { cwd },
    );
    expect(result.stepsDone).toBe(1);
    expect(result.code).toBe(0);
    expect(result.output).not.toMatch(/Project directory|Redis topology|Package manager|Install dependencies|git repository\?/);
    const tree = await readTree(path.join(cwd, 'flagged-app'));
    expect(JSON.parse(tree.get('volt-scaled.json') ?? '{}').answers).toEqual({ redis: 'standalone', instances: 2, pm: 'npm' });
  });

  it('re-asks an invalid answer instead of failing', async () => {
    const result = await runCliInPty(
      ['retry-app', '--redis', 'standalone', '--pm', 'npm', '--no-install', '--no-git'],
      [
        ['App instances', `17${KEYS.enter}`],
        ['Instances must be a whole number from 1 to 16', `\u007f\u007f4${KEYS.enter}`],
      ],
      { cwd },
    );
    expect(result.stepsDone).toBe(2);
    expect(result.code).toBe(0);
    const tree = await readTree(path.join(cwd, 'retry-app'));
    expect(JSON.parse(tree.get('volt-scaled.json') ?? '{}').answers.instances).toBe(4);
  });

  it.each([
    ['--yes', ['--yes'], {}],
    ['CI=true', [], { CI: 'true' }],
  ] as const)('never prompts with %s, even in a terminal', async (_label, flags, env) => {
    const result = await runCliInPty(['quiet-app', ...flags, '--no-install', '--no-git'], [], { cwd, env });
    expect(result.code).toBe(0);
    expect(result.output).not.toMatch(/Redis topology|App instances|Package manager/);
    const tree = await readTree(path.join(cwd, 'quiet-app'));
    expect(JSON.parse(tree.get('volt-scaled.json') ?? '{}').answers).toEqual({ redis: 'standalone', instances: 2, pm: 'npm' });
  });

  it('installs with a progress spinner in a terminal', async () => {
    // A stand-in npm that records its arguments: the spinner, not the registry, is under test here.
    const binDir = path.join(cwd, 'bin');
    await mkdir(binDir);
    await writeFile(path.join(binDir, 'npm'), '#!/bin/sh\nsleep 1\necho "$*" > installed.txt\n');
    await chmod(path.join(binDir, 'npm'), 0o755);
    const result = await runCliInPty(
      ['spin-app', '--redis', 'standalone', '--instances', '2', '--pm', 'npm', '--no-git'],
      [['Install dependencies with npm?', 'y']],
      { cwd, env: { PATH: `${binDir}:${process.env.PATH}` } },
    );
    expect(result.stepsDone).toBe(1);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/Installing dependencies with npm/);
    expect(result.output).toMatch(/Dependencies installed/);
    expect(await readFile(path.join(cwd, 'spin-app', 'installed.txt'), 'utf8')).toBe('install\n');
  });

  it('Ctrl+C cancels with a message and writes nothing', async () => {
    const result = await runCliInPty([], [['Project directory', `half${KEYS.ctrlC}`]], { cwd });
    expect(result.stepsDone).toBe(1);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/Cancelled; nothing was written\./);
    expect(await listDir(cwd)).toEqual([]);
  });

  it('asks before replacing a non-empty directory, and keeps it on "no"', async () => {
    await mkdir(path.join(cwd, 'busy'));
    await writeFile(path.join(cwd, 'busy', 'mine.txt'), 'keep');
    const result = await runCliInPty(
      ['busy', '--redis', 'standalone', '--instances', '2', '--pm', 'npm', '--no-install', '--no-git'],
      [['is not empty. Replace its contents', 'n']],
      { cwd },
    );
    expect(result.stepsDone).toBe(1);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/is not empty; nothing was written/);
    expect(await listDir(path.join(cwd, 'busy'))).toEqual(['mine.txt']);
  });

  it('replaces a non-empty directory\'s contents on "yes"', async () => {
    await mkdir(path.join(cwd, 'busy'));
    await writeFile(path.join(cwd, 'busy', 'mine.txt'), 'replace me');
    const result = await runCliInPty(
      ['busy', '--redis', 'standalone', '--instances', '2', '--pm', 'npm', '--no-install', '--no-git'],
      [['is not empty. Replace its contents', 'y']],
      { cwd },
    );
    expect(result.stepsDone).toBe(1);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/Replacing everything in .*busy except \.git/);
    const entries = await listDir(path.join(cwd, 'busy'));
    expect(entries).toContain('package.json');
    expect(entries).not.toContain('mine.txt');
  });
});
