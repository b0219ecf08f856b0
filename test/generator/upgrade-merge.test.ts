import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../generator/errors.js';
import { applyChanges } from '../../generator/upgrade/apply-changes.js';
import { parseUpgradeArgs } from '../../generator/upgrade/args.js';
import { dependenciesDiffer, mergePackageJson } from '../../generator/upgrade/package-json-merge.js';
import { planUpgrade } from '../../generator/upgrade/plan-upgrade.js';
import { decodeText, mergeText, usesCrlf } from '../../generator/upgrade/text-merge.js';
import { fingerprint, writeFiles } from '../support/upgrade-fixtures.js';
import { makeTempDir, removeDir, runCli } from '../support/run-cli.js';

const labels = { ours: 'yours', theirs: 'template' };

describe('mergeText', () => {
  it("takes each side's change when they touch different lines", () => {
    expect(mergeText('a\nB\nc\nd\ne\n', 'a\nb\nc\nd\ne\n', 'a\nb\nc\nd\nE\n', labels)).toEqual({ text: 'a\nB\nc\nd\nE\n', conflicts: 0 });
  });

  it('marks lines both sides changed, and counts each block', () => {
    const merged = mergeText('1\nX\n3\n4\n5\nP\n', '1\n2\n3\n4\n5\n6\n', '1\nY\n3\n4\n5\nQ\n', labels);
    expect(merged.conflicts).toBe(2);
    expect(merged.text).toBe('1\n<<<<<<< yours\nX\n=======\nY\n>>>>>>> template\n3\n4\n5\n<<<<<<< yours\nP\n=======\nQ\n>>>>>>> template\n');
  });

  it('does not call the same change on both sides a conflict', () => {
    expect(mergeText('a\nsame\n', 'a\nb\n', 'a\nsame\n', labels)).toEqual({ text: 'a\nsame\n', conflicts: 0 });
  });

  it('keeps a last line without a line break, and starts every marker on its own line', () => {
    expect(mergeText('a\nb\nc\nmine', 'a\nb\nc\nd', 'A\nb\nc\nd', labels)).toEqual({ text: 'A\nb\nc\nmine', conflicts: 0 });
    expect(mergeText('a\nmine', 'a\nc', 'a\ntheirs', labels).text).toBe('a\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> template\n');
  });

  it('tells text from binary and CRLF from LF', () => {
    expect(decodeText(Buffer.from('héllo\n'))).toBe('héllo\n');
    expect(decodeText(Buffer.from('\uFEFFbom\n'))).toBe('\uFEFFbom\n');
    expect(decodeText(Buffer.from([0x61, 0, 0x62]))).toBeUndefined();
    expect(decodeText(Buffer.from([0xff, 0xfe, 0x41]))).toBeUndefined();
    expect(usesCrlf('a\r\nb\r\n')).toBe(true);
    expect(usesCrlf('a\r\nb\n')).toBe(false);
    expect(usesCrlf('a\nb\n')).toBe(false);
  });
});

describe('mergePackageJson', () => {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const base = {
    name: 'app',
    scripts: { build: 'tsc', test: 'vitest run' },
    dependencies: { pino: '^9.0.0', zod: '^3.0.0' },
    devDependencies: { tsx: '^4.0.0' },
  };

  it("moves untouched dependencies to the template's ranges and keeps the user's own", () => {
    const ours = { ...base, scripts: { ...base.scripts, lint: 'eslint .' }, dependencies: { ms: '^2.1.3', pino: '^9.5.0', zod: '^3.0.0' } };
    const theirs = { ...base, scripts: { build: 'tsc -p tsconfig.build.json', test: 'vitest run' }, dependencies: { pino: '^10.0.0', zod: '^4.0.0' } };
    const merged = mergePackageJson(json(ours), json(base), json(theirs));
    expect(JSON.parse(merged.text)).toEqual({
      name: 'app',
      scripts: { build: 'tsc -p tsconfig.build.json', test: 'vitest run', lint: 'eslint .' },
      dependencies: { ms: '^2.1.3', pino: '^9.5.0', zod: '^4.0.0' },
      devDependencies: { tsx: '^4.0.0' },
    });
    expect(merged.notes).toEqual(['kept your dependencies.pino "^9.5.0" (the template has "^10.0.0")']);
    expect(dependenciesDiffer(json(ours), merged.text)).toBe(true);
  });

  it('adds and removes what the template added and removed, unless the user changed it', () => {
    const ours = { ...base, dependencies: { ms: '^2.1.3', ...base.dependencies }, devDependencies: { tsx: '^4.1.0' } };
    const theirs = { ...base, dependencies: { pino: '^9.0.0', 'lru-cache': '^11.0.0' }, devDependencies: {}, engines: { node: '>=20.19' } };
    const merged = mergePackageJson(json(ours), json(base), json(theirs));
    const result = JSON.parse(merged.text);
    // New keys land after the key they follow in the template; npm's sorted order is kept.
    expect(Object.keys(result)).toEqual(['name', 'scripts', 'dependencies', 'devDependencies', 'engines']);
    expect(result.dependencies).toEqual({ 'lru-cache': '^11.0.0', ms: '^2.1.3', pino: '^9.0.0' });
    expect(Object.keys(result.dependencies)).toEqual(['lru-cache', 'ms', 'pino']);
    expect(result.devDependencies).toEqual({ tsx: '^4.1.0' });
    expect(merged.notes).toEqual(['kept your devDependencies.tsx "^4.1.0" (the template removed it)']);
  });

  it("keeps a removal by the user, and the user's indentation and line endings", () => {
    const ours = `{\r\n    "name": "app",\r\n    "scripts": {\r\n        "test": "vitest run"\r\n    }\r\n}\r\n`;
    const merged = mergePackageJson(
      ours,
      json({ name: 'app', scripts: { build: 'tsc', test: 'vitest run' } }),
      json({ name: 'app', scripts: { build: 'tsc -b', test: 'vitest' } }),
    );
    expect(merged.text).toBe(`{\r\n    "name": "app",\r\n    "scripts": {\r\n        "test": "vitest"\r\n    }\r\n}\r\n`);
    expect(merged.notes).toEqual(['kept your removal of scripts.build (the template has "tsc -b")']);
    expect(dependenciesDiffer(ours, merged.text)).toBe(false);
  });

  it('refuses a package.json that is not JSON, without a stack trace', () => {
    expect(() => mergePackageJson('{ "name": ', json(base), json(base))).toThrow(/Your package\.json is not valid JSON/);
  });
});

describe('planUpgrade', () => {
  const file = (text: string, mode = 0o644) => ({ content: Buffer.from(text), mode });
  const plan = (base: Record<string, string>, theirs: Record<string, string>, ours: Record<string, string>) =>
    planUpgrade({
      base: new Map(Object.entries(base).map(([name, text]) => [name, file(text)])),
      theirs: new Map(Object.entries(theirs).map(([name, text]) => [name, file(text)])),
      ours: new Map(Object.entries(ours).map(([name, text]) => [name, file(text)])),
      localFileReason: () => undefined,
      labels,
    });

  it('says an install is needed when an untouched package.json gets new dependency ranges', () => {
    const before = '{ "dependencies": { "zod": "^3.0.0" } }\n';
    const after = '{ "dependencies": { "zod": "^4.0.0" } }\n';
    const result = plan({ 'package.json': before }, { 'package.json': after }, { 'package.json': before });
    expect(result.changes).toEqual([{ path: 'package.json', outcome: 'updated', notes: [], write: file(after) }]);
    expect(result.dependenciesChanged).toBe(true);
  });

  it('does not when only scripts change', () => {
    const result = plan(
      { 'package.json': '{ "scripts": { "a": "x" } }\n' },
      { 'package.json': '{ "scripts": { "a": "y" } }\n' },
      { 'package.json': '{ "scripts": { "a": "x" } }\n' },
    );
    expect(result.changes.map((change) => change.outcome)).toEqual(['updated']);
    expect(result.dependenciesChanged).toBe(false);
  });

  it("leaves a file alone when the user already made the template's change", () => {
    expect(plan({ 'a.ts': 'old\n' }, { 'a.ts': 'new\n' }, { 'a.ts': 'new\n' }).changes).toEqual([]);
  });
});

describe('applyChanges', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('cvs-apply-');
  });
  afterEach(async () => removeDir(dir));

  it('puts back what it already changed when a rename fails, and leaves no staged file', async () => {
    await writeFiles(dir, { 'a.txt': 'original a\n', 'gone.txt': 'original gone\n', 'blocked/inside.txt': 'x\n' });
    const before = await fingerprint(dir);
    const originals = new Map([
      ['a.txt', { content: Buffer.from('original a\n'), mode: 0o644 }],
      ['gone.txt', { content: Buffer.from('original gone\n'), mode: 0o644 }],
    ]);
    const write = (text: string) => ({ content: Buffer.from(text), mode: 0o644 });
    // "blocked" is a non-empty directory: renaming a file onto it fails, also for root.
    const operations = [
      { path: 'a.txt', write: write('new a\n') },
      { path: 'new/added.txt', write: write('added\n') },
      { path: 'gone.txt', remove: true as const },
      { path: 'blocked', write: write('cannot land\n') },
    ];
    await expect(applyChanges(dir, operations, originals)).rejects.toThrow();
    expect(await fingerprint(dir)).toEqual(before);
  });

  it('writes, removes, sets modes and drops folders its removals emptied', async () => {
    await writeFiles(dir, { 'a.txt': 'a\n', 'old/only.txt': 'x\n', 'keep/other.txt': 'y\n', 'keep/drop.txt': 'z\n' });
    await applyChanges(
      dir,
      [
        { path: 'a.txt', write: { content: Buffer.from('A\n'), mode: 0o755 } },
        { path: 'deep/new/file.txt', write: { content: Buffer.from('new\n'), mode: 0o644 } },
        { path: 'old/only.txt', remove: true },
        { path: 'keep/drop.txt', remove: true },
      ],
      new Map(),
    );
    expect(await readFile(path.join(dir, 'a.txt'), 'utf8')).toBe('A\n');
    expect((await stat(path.join(dir, 'a.txt'))).mode & 0o777).toBe(0o755);
    expect(await readFile(path.join(dir, 'deep/new/file.txt'), 'utf8')).toBe('new\n');
    expect([...(await fingerprint(dir)).keys()]).toEqual(['a.txt', 'deep/new/file.txt', 'keep/other.txt']);
    await expect(stat(path.join(dir, 'old'))).rejects.toThrow(/ENOENT/);
  });
});

describe('upgrade arguments and help', () => {
  it('reads the directory and every flag', () => {
    expect(parseUpgradeArgs([])).toEqual({ dir: undefined, from: undefined, dryRun: false, force: false, help: false });
    expect(parseUpgradeArgs(['app', '--from', 'x.tgz', '--dry-run', '--force'])).toEqual({ dir: 'app', from: 'x.tgz', dryRun: true, force: true, help: false });
    expect(parseUpgradeArgs(['-h']).help).toBe(true);
  });

  it.each([
    [['--from'], /Option --from <value> needs a value|--from/],
    [['--from', ''], /--from needs the path of a create-volt-scaled package tarball/],
    [['a', 'b'], /Expected one project directory, got 2: a b/],
    [['--yes'], /Unknown option --yes/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseUpgradeArgs(argv)).toThrow(UsageError);
    expect(() => parseUpgradeArgs(argv)).toThrow(message);
  });

  it('upgrade --help explains the outcomes and lists every flag; the main help points at it', async () => {
    const result = await runCli(['upgrade', '--help'], { cwd: process.cwd() });
    expect(result.code).toBe(0);
    for (const text of [
      '--from',
      '--dry-run',
      '--force',
      '--help',
      '-h',
      'updated',
      'merged',
      'conflicted',
      'added',
      'removed',
      'kept',
      'npm create volt-scaled@latest -- upgrade',
    ]) {
      expect(result.stdout).toContain(text);
    }
    const main = await runCli(['--help'], { cwd: process.cwd() });
    expect(main.stdout).toMatch(/create-volt-scaled upgrade \[dir\]/);
  });
});
