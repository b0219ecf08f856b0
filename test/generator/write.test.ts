import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packageInfo } from '../../generator/package-root.js';
import { buildPlan } from '../../generator/plan.js';
import { listDir, makeTempDir, readTree, removeDir, runCli } from '../support/run-cli.js';

describe('writing the project', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await makeTempDir('cvs-write-');
  });
  afterEach(async () => removeDir(cwd));

  it('--dry-run prints every planned file and writes nothing', async () => {
    const result = await runCli(['app', '--dry-run', '--redis', 'cluster'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Dry run: would create app in .*; nothing is written/);
    expect(result.stdout).toContain('redis=cluster');
    const { templatesDir, infraDir } = packageInfo();
    for (const entry of buildPlan({ templatesDir, infraDir })) {
      expect(result.stdout).toMatch(new RegExp(`^  ${entry.kind}\\s+${entry.target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    }
    expect(result.stdout).toMatch(/^ {2}write\s+volt-scaled.json$/m);
    expect(result.stdout).toMatch(/^ {2}write\s+\.env {2}\(\.env\.example with a random AUTH_SECRET; git-ignored\)$/m);
    expect(result.stdout).toMatch(/^ {2}write\s+secrets\/redis-admin-password {2}\(a random password; git-ignored\)$/m);
    expect(result.stdout).toMatch(/^ {2}write\s+secrets\/redis-app-password {2}\(a random password; git-ignored\)$/m);
    expect(await listDir(cwd)).toEqual([]);
  });

  it('writes every planned file, the rendered package.json and volt-scaled.json', async () => {
    const result = await runCli(['shop-api', '--yes', '--redis', 'cluster', '--instances', '4', '--pm', 'pnpm', '--no-install', '--no-git'], { cwd });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const dir = path.join(cwd, 'shop-api');
    const { templatesDir, infraDir } = packageInfo();
    const tree = await readTree(dir);
    expect([...tree.keys()].sort()).toEqual(
      [
        ...buildPlan({ templatesDir, infraDir }).map((e) => e.target),
        'volt-scaled.json',
        '.env',
        'secrets/redis-admin-password',
        'secrets/redis-app-password',
      ].sort(),
    );
    const pkg = JSON.parse(tree.get('package.json') ?? '{}');
    expect(pkg.name).toBe('shop-api');
    expect(JSON.parse(tree.get('volt-scaled.json') ?? '{}')).toEqual({
      generator: 'create-volt-scaled',
      version: packageInfo().version,
      answers: { redis: 'cluster', instances: 4, pm: 'pnpm' },
    });
    expect(tree.get('src/config.ts')).toBe(await readFile(path.join(templatesDir, 'src/config.ts'), 'utf8'));
    // Next steps in the chosen package manager's syntax.
    expect(result.stdout).toMatch(/cd shop-api\n\s+pnpm install\n\s+pnpm dev\s+#/);
    expect(result.stdout).toMatch(/docker compose up\s+# 4 app instances \+ nginx \+ Redis Cluster/);
    expect(result.stdout).toMatch(/pnpm build && pnpm stack start\s+# the same topology as local processes/);
    // Only the project itself: no temporary sibling left behind.
    expect(await listDir(cwd)).toEqual(['shop-api']);
    expect(((await stat(dir)).mode & 0o777).toString(8)).not.toBe('700');
  });

  it('writes .env (.env.example with a fresh random AUTH_SECRET) and fresh random Redis passwords in secrets/, git-ignored', async () => {
    const passwords: string[] = [];
    for (const name of ['one', 'two']) {
      const result = await runCli([name, '--yes', '--no-install', '--no-git'], { cwd });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/\(\d+ files, \d+ ms\)/);
      const dir = path.join(cwd, name);
      const env = await readFile(path.join(dir, '.env'), 'utf8');
      const example = await readFile(path.join(dir, '.env.example'), 'utf8');
      const authSecret = /^AUTH_SECRET=(.*)$/m.exec(env)?.[1] ?? '';
      expect(authSecret).toMatch(/^[0-9a-f]{64}$/);
      expect(example).toMatch(/^AUTH_SECRET=$/m);
      expect(env.replace(`AUTH_SECRET=${authSecret}`, 'AUTH_SECRET=')).toBe(example);
      passwords.push(authSecret);
      expect(((await stat(path.join(dir, '.env'))).mode & 0o777).toString(8)).toBe('600');
      expect(((await stat(path.join(dir, 'secrets'))).mode & 0o777).toString(8)).toBe('700');
      for (const file of ['redis-admin-password', 'redis-app-password']) {
        const password = await readFile(path.join(dir, 'secrets', file), 'utf8');
        expect(password).toMatch(/^[0-9a-f]{64}\n$/);
        passwords.push(password);
      }
      expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^secrets\/$/m);
    }
    expect(new Set(passwords).size).toBe(6);
  });

  it('a render that fails midway leaves neither the target nor a temporary directory', async () => {
    const templatesDir = path.join(cwd, 'broken-templates');
    await mkdir(path.join(templatesDir, 'src'), { recursive: true });
    await writeFile(path.join(templatesDir, 'a-first.txt'), 'copied before the failure\n');
    await writeFile(path.join(templatesDir, 'b-valid.md.hbs'), '# {{name}}\n');
    await writeFile(path.join(templatesDir, 'c-broken.ts.hbs'), 'const x = {{#if name}}unclosed block\n');
    await writeFile(path.join(templatesDir, 'src', 'z-after.ts'), 'never reached\n');
    const work = path.join(cwd, 'work');
    await mkdir(work);

    const result = await runCli(['nested/deeper/app', '--yes', '--no-install', '--no-git'], { cwd: work, sources: { templatesDir } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Could not render .*c-broken\.ts\.hbs: Parse error/);
    expect(result.stderr).toMatch(/Nothing was written to .*nested\/deeper\/app/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // Not the project, not its temporary sibling, not the parent directories created for it.
    expect(await listDir(work)).toEqual([]);
    expect(result.stdout).not.toMatch(/Created/);
  });

  it('a failing render into an existing empty directory leaves it empty', async () => {
    const templatesDir = path.join(cwd, 'broken-templates');
    await mkdir(templatesDir);
    await writeFile(path.join(templatesDir, 'broken.hbs'), '{{#each}}');
    await mkdir(path.join(cwd, 'app'));
    const result = await runCli(['app', '--yes', '--no-install', '--no-git'], { cwd, sources: { templatesDir } });
    expect(result.code).toBe(1);
    expect(await listDir(cwd)).toEqual(['app', 'broken-templates']);
    expect(await listDir(path.join(cwd, 'app'))).toEqual([]);
  });

  it('generates into an existing empty directory', async () => {
    await mkdir(path.join(cwd, 'app'));
    const result = await runCli(['app', '--yes', '--no-install', '--no-git'], { cwd });
    expect(result.code).toBe(0);
    expect(await listDir(path.join(cwd, 'app'))).toContain('package.json');
    expect(await listDir(cwd)).toEqual(['app']);
  });

  it("--force replaces a non-empty directory's contents, keeps .git, .env and secrets/, and says so", async () => {
    const dir = path.join(cwd, 'app');
    await mkdir(path.join(dir, '.git'), { recursive: true });
    await writeFile(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(path.join(dir, 'old.txt'), 'stale');
    await writeFile(path.join(dir, 'package.json'), '{"name":"old"}');
    await writeFile(path.join(dir, '.env'), 'REDIS_PASSWORD=the-users-own\n');
    await mkdir(path.join(dir, 'secrets'));
    await writeFile(path.join(dir, 'secrets', 'redis-admin-password'), 'the-users-own-admin-password\n');
    const result = await runCli(['app', '--yes', '--force', '--no-install', '--no-git'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Replacing everything in .*app except \.git, \.env and secrets \(kept as they are\) with the new project/);
    const entries = await listDir(dir);
    expect(entries).not.toContain('old.txt');
    expect(entries).toContain('.git');
    expect(JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')).name).toBe('app');
    expect(await readFile(path.join(dir, '.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(await readFile(path.join(dir, '.env'), 'utf8')).toBe('REDIS_PASSWORD=the-users-own\n');
    expect(await readFile(path.join(dir, 'secrets', 'redis-admin-password'), 'utf8')).toBe('the-users-own-admin-password\n');
    // The password the kept directory lacked is made.
    expect(await readFile(path.join(dir, 'secrets', 'redis-app-password'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(await listDir(cwd)).toEqual(['app']);
  });

  it('"." generates into the current directory under its own name', async () => {
    const dir = path.join(cwd, 'here-app');
    await mkdir(dir);
    const result = await runCli(['.', '--yes', '--no-install', '--no-git'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')).name).toBe('here-app');
    expect(result.stdout).not.toMatch(/cd /);
  });
});
