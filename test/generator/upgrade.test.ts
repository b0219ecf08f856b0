import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packageInfo } from '../../generator/package-root.js';
import type { PlanSources } from '../../generator/plan.js';
import { renderProject } from '../../generator/render.js';
import { cleanEnv, makeTempDir, removeDir, runCli } from '../support/run-cli.js';
import { serveRegistry } from '../support/npm-registry.js';
import { commitAll, fingerprint, git, gitStatus, packTemplates, writeFiles, type FixtureFile } from '../support/upgrade-fixtures.js';

const OLD_VERSION = '0.0.1';
const CURRENT_VERSION = packageInfo().version;

const PACKAGE_JSON_OLD = `{
  "name": "{{name}}",
  "version": "0.1.0",
  "private": true,
  "scripts": {
    "build": "tsc",
    "test": "vitest run"
  },
  "dependencies": {
    "pino": "^9.0.0",
    "zod": "^3.25.0"
  }
}
`;
const PACKAGE_JSON_NEW = `{
  "name": "{{name}}",
  "version": "0.1.0",
  "private": true,
  "scripts": {
    "build": "tsc -p tsconfig.build.json",
    "test": "vitest run",
    "typecheck": "tsc --noEmit"
  },
  "dependencies": {
    "pino": "^10.4.0",
    "zod": "^4.6.7"
  }
}
`;
const LONG = (first: string, last: string) => [first, ...Array.from({ length: 8 }, (_, i) => `middle ${i}`), last, ''].join('\n');

/** Two small template versions with one difference per outcome. */
const OLD_TEMPLATES: Record<string, FixtureFile> = {
  'package.json.hbs': PACKAGE_JSON_OLD,
  _gitignore: 'node_modules/\nlocal-settings.json\n',
  'README.md.hbs': '# {{name}}\n',
  'src/updated.ts': 'export const a = 1;\n',
  'src/yours-only.ts': 'export const b = 1;\n',
  'src/merged.ts': LONG('// top, old', '// bottom'),
  'src/conflicted.ts': 'line 1\nline 2\nline 3\n',
  'docs/dropped.md': 'dropped by the template\n',
  'notes/dropped-but-changed.md': 'dropped by the template\n',
  'deleted-by-you.md': 'old\n',
  'scripts/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o644 },
  'crlf.txt': 'a\nb\nc\n',
  'image.bin': Buffer.from([0, 1, 2, 3]),
  'local-settings.json': '{ "token": "template default" }\n',
  '.env.development': 'SECRET=template\n',
  'deploy/config.env': LONG('LOG_LEVEL=info', 'PORT=3000'),
};
const NEW_TEMPLATES: Record<string, FixtureFile> = {
  'package.json.hbs': PACKAGE_JSON_NEW,
  _gitignore: 'node_modules/\nlocal-settings.json\n',
  'README.md.hbs': '# {{name}}\n',
  'src/updated.ts': 'export const a = 2;\n',
  'src/yours-only.ts': 'export const b = 1;\n',
  'src/merged.ts': LONG('// top, new', '// bottom'),
  'src/conflicted.ts': 'line 1\nline 2 from the template\nline 3\n',
  'notes/other.md': 'stays\n',
  'deleted-by-you.md': 'new\n',
  'scripts/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
  'crlf.txt': 'a\nB\nc\n',
  'image.bin': Buffer.from([0, 1, 2, 4]),
  'local-settings.json': '{ "token": "new template default" }\n',
  '.env.development': 'SECRET=new template\n',
  'deploy/config.env': LONG('LOG_LEVEL=info', 'PORT=8080'),
  'src/added.ts': 'export const added = true;\n',
  'lib/helper.ts': 'export const helper = true;\n',
  'src/both-added.ts': 'export const fromTemplate = 1;\n',
};

/** The user's edits on top of the generated project. */
async function editAsUser(dir: string): Promise<void> {
  const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
  // As npm install writes it: sorted.
  pkg.dependencies = { ms: '^2.1.3', ...pkg.dependencies, pino: '^9.5.0' };
  pkg.scripts.hello = 'echo hello';
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  await writeFiles(dir, {
    'src/yours-only.ts': 'export const b = 1;\n// mine\n',
    'src/merged.ts': LONG('// top, old', '// bottom, mine'),
    'src/conflicted.ts': 'line 1\nline 2 mine\nline 3\n',
    'notes/dropped-but-changed.md': 'dropped by the template, but I wrote in it\n',
    'crlf.txt': 'a\r\nb\r\nc\r\n',
    'image.bin': Buffer.from([0, 1, 2, 9]),
    'local-settings.json': '{ "token": "my own" }\n',
    '.env.development': 'SECRET=mine\n',
    'deploy/config.env': LONG('LOG_LEVEL=debug', 'PORT=3000'),
    'src/both-added.ts': 'export const mine = 1;\n',
    'src/my-feature.ts': 'export const feature = 1;\n',
  });
  await rm(path.join(dir, 'deleted-by-you.md'));
}

describe('create-volt-scaled upgrade', () => {
  let tmp: string;
  let projectDir: string;
  let oldTarball: string;
  let newSources: PlanSources;

  const upgrade = (args: string[], env = cleanEnv()) => runCli(['upgrade', ...args], { cwd: projectDir, env, sources: newSources });

  beforeEach(async () => {
    tmp = await makeTempDir('cvs-upgrade-');
    const oldDir = path.join(tmp, 'old-templates');
    const newDir = path.join(tmp, 'new-templates');
    await writeFiles(oldDir, OLD_TEMPLATES);
    await writeFiles(newDir, NEW_TEMPLATES);
    newSources = { templatesDir: newDir };
    oldTarball = await packTemplates({ version: OLD_VERSION, templatesDir: oldDir, file: path.join(tmp, 'create-volt-scaled-0.0.1.tgz') });

    // What the old generator wrote: the same renderer, the old templates, the old version.
    projectDir = path.join(tmp, 'my-app');
    await renderProject({ templatesDir: oldDir }, { name: 'my-app', redis: 'standalone', instances: 2, pm: 'npm' }, OLD_VERSION, projectDir);
    await git(projectDir, ['init', '--quiet']);
    await commitAll(projectDir, 'generated');
    await editAsUser(projectDir);
    await commitAll(projectDir, 'my changes');
  });
  afterEach(async () => removeDir(tmp));

  const read = (file: string) => readFile(path.join(projectDir, file), 'utf8');
  const exists = (file: string) =>
    stat(path.join(projectDir, file)).then(
      () => true,
      () => false,
    );

  it('merges the new template into the project: one outcome per file, conflicts marked, exit code 1', async () => {
    const result = await upgrade(['--from', oldTarball]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);

    // Never changed by the user: the template's new version.
    expect(await read('src/updated.ts')).toBe('export const a = 2;\n');
    expect(result.stdout).toMatch(/^ {2}updated\s+src\/updated\.ts$/m);
    // Changed by the user, not by the template: untouched and not listed.
    expect(await read('src/yours-only.ts')).toBe('export const b = 1;\n// mine\n');
    expect(result.stdout).not.toContain('src/yours-only.ts');
    // Both changed, different lines: merged.
    expect(await read('src/merged.ts')).toBe(LONG('// top, new', '// bottom, mine'));
    expect(result.stdout).toMatch(/^ {2}merged\s+src\/merged\.ts$/m);
    // Both changed the same line: git-style markers with both versions.
    expect(await read('src/conflicted.ts')).toBe(
      `line 1\n<<<<<<< yours\nline 2 mine\n=======\nline 2 from the template\n>>>>>>> create-volt-scaled ${CURRENT_VERSION}\nline 3\n`,
    );
    expect(result.stdout).toMatch(/^ {2}conflicted\s+src\/conflicted\.ts {2}\(1 conflict\)$/m);
    // New in the template.
    expect(await read('src/added.ts')).toBe('export const added = true;\n');
    expect(result.stdout).toMatch(/^ {2}added\s+src\/added\.ts$/m);
    // Dropped by the template: removed when untouched (with its now empty folder), kept when changed.
    expect(await exists('docs')).toBe(false);
    expect(result.stdout).toMatch(/^ {2}removed\s+docs\/dropped\.md$/m);
    expect(await read('notes/dropped-but-changed.md')).toBe('dropped by the template, but I wrote in it\n');
    expect(result.stdout).toMatch(/^ {2}kept\s+notes\/dropped-but-changed\.md {2}\(the template dropped it; you changed it\)$/m);
    expect(await read('notes/other.md')).toBe('stays\n');
    // Deleted by the user and changed by the template: stays deleted, listed.
    expect(await exists('deleted-by-you.md')).toBe(false);
    expect(result.stdout).toMatch(/^ {2}kept\s+deleted-by-you\.md {2}\(you deleted it; the template changed it, so it was not restored\)$/m);
    // The user's own files are not the upgrade's business.
    expect(await read('src/my-feature.ts')).toBe('export const feature = 1;\n');

    // The summary counts and the recorded version.
    expect(result.stdout).toMatch(/^Upgraded my-app from create-volt-scaled 0\.0\.1 to /m);
    expect(result.stdout).toMatch(/^3 updated, 3 merged, 3 conflicted, 3 added, 1 removed, 4 kept; volt-scaled\.json records /m);
    expect(JSON.parse(await read('volt-scaled.json'))).toEqual({
      generator: 'create-volt-scaled',
      version: CURRENT_VERSION,
      answers: { redis: 'standalone', instances: 2, pm: 'npm' },
    });
    expect(result.stdout).toMatch(/your lines are between <<<<<<< and =======/);
    expect(result.stdout).toMatch(/git checkout -- \. && git clean -fd -- \./);
  });

  it("merges package.json as JSON: template ranges for untouched dependencies, the user's own values kept", async () => {
    const result = await upgrade(['--from', oldTarball]);
    const pkg = JSON.parse(await read('package.json'));
    expect(pkg.dependencies).toEqual({ ms: '^2.1.3', pino: '^9.5.0', zod: '^4.6.7' });
    expect(Object.keys(pkg.dependencies)).toEqual(['ms', 'pino', 'zod']);
    expect(pkg.scripts).toEqual({ build: 'tsc -p tsconfig.build.json', test: 'vitest run', hello: 'echo hello', typecheck: 'tsc --noEmit' });
    expect(pkg.name).toBe('my-app');
    expect(result.stdout).toMatch(/^ {2}merged\s+package\.json\n\s+kept your dependencies\.pino "\^9\.5\.0" \(the template has "\^10\.4\.0"\)$/m);
    expect(result.stdout).toMatch(/package\.json's dependencies changed: run npm install afterwards/);
  });

  it('keeps modes, line endings, binary files and local files the way the user has them', async () => {
    const result = await upgrade(['--from', oldTarball]);
    // The template made the script executable; the user had not touched its mode.
    expect((await stat(path.join(projectDir, 'scripts/run.sh'))).mode & 0o777).toBe(0o755);
    expect(result.stdout).toMatch(/^ {2}updated\s+scripts\/run\.sh$/m);
    // A CRLF checkout of an unchanged file takes the template's change and stays CRLF.
    expect(await read('crlf.txt')).toBe('a\r\nB\r\nc\r\n');
    expect(result.stdout).toMatch(/^ {2}updated\s+crlf\.txt$/m);
    // A binary file changed on both sides: the user's stays, the template's is written next to it.
    expect(await readFile(path.join(projectDir, 'image.bin'))).toEqual(Buffer.from([0, 1, 2, 9]));
    expect(await readFile(path.join(projectDir, 'image.bin.from-template'))).toEqual(Buffer.from([0, 1, 2, 4]));
    expect(result.stdout).toMatch(
      /^ {2}conflicted\s+image\.bin {2}\(binary file changed on both sides; yours kept, the template's version is image\.bin\.from-template\)$/m,
    );
    // Git-ignored files and .env files are never overwritten.
    expect(await read('local-settings.json')).toBe('{ "token": "my own" }\n');
    expect(await read('.env.development')).toBe('SECRET=mine\n');
    expect(result.stdout).toMatch(/^ {2}kept\s+local-settings\.json {2}\(git-ignored: never overwritten\)$/m);
    expect(result.stdout).toMatch(/^ {2}kept\s+\.env\.development {2}\(an \.env file: never overwritten\)$/m);
    // A *.env file the template ships (the Kubernetes config.env) is not a local file: the template's change merges in.
    expect(await read('deploy/config.env')).toBe(LONG('LOG_LEVEL=debug', 'PORT=8080'));
    expect(result.stdout).toMatch(/^ {2}merged\s+deploy\/config\.env$/m);
    // A file the template added where the user already had one of their own: a whole-file conflict.
    expect(await read('src/both-added.ts')).toBe(
      `<<<<<<< yours\nexport const mine = 1;\n=======\nexport const fromTemplate = 1;\n>>>>>>> create-volt-scaled ${CURRENT_VERSION}\n`,
    );
  });

  it('exits 0 when every change merged cleanly, and a second run has nothing to do', async () => {
    // Without the overlapping edits, everything merges.
    await writeFiles(projectDir, {
      'src/conflicted.ts': 'line 1\nline 2\nline 3\n',
      'image.bin': Buffer.from([0, 1, 2, 3]),
      'src/both-added.ts': 'export const fromTemplate = 1;\n',
    });
    await commitAll(projectDir, 'no overlap');
    const result = await upgrade(['--from', oldTarball]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ 0 conflicted, /);
    await commitAll(projectDir, 'upgraded');
    const again = await upgrade(['--from', oldTarball]);
    expect(again).toEqual({ code: 0, stdout: `my-app is already on create-volt-scaled ${CURRENT_VERSION}; nothing to upgrade.\n`, stderr: '' });
  });

  it('--dry-run prints the plan and writes nothing, even with uncommitted changes', async () => {
    await writeFile(path.join(projectDir, 'src/yours-only.ts'), 'uncommitted\n');
    const before = await fingerprint(projectDir);
    const result = await upgrade(['--from', oldTarball, '--dry-run']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Dry run: upgrading my-app from create-volt-scaled 0\.0\.1 to .* would change these files; nothing was written\.$/m);
    for (const [outcome, file] of [
      ['updated', 'src/updated.ts'],
      ['merged', 'src/merged.ts'],
      ['conflicted', 'src/conflicted.ts'],
      ['added', 'src/added.ts'],
      ['removed', 'docs/dropped.md'],
      ['kept', 'notes/dropped-but-changed.md'],
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^  ${outcome}\\s+${file!.replace('.', '\\.')}`, 'm'));
    }
    expect(result.stdout).toMatch(/3 files would have conflicts/);
    expect(result.stdout).toMatch(/volt-scaled\.json would record/);
    expect(result.stdout).toMatch(/The project has 1 uncommitted change: commit first/);
    expect(await fingerprint(projectDir)).toEqual(before);
  });

  it('refuses a work tree with uncommitted changes unless --force', async () => {
    await writeFile(path.join(projectDir, 'src/yours-only.ts'), 'uncommitted\n');
    await writeFile(path.join(projectDir, 'untracked.txt'), 'new\n');
    const before = await fingerprint(projectDir);
    const refused = await upgrade(['--from', oldTarball]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^Error: .*my-app has uncommitted changes; nothing was written\.\n\s+M src\/yours-only\.ts\n\s+\?\? untracked\.txt\n/);
    expect(refused.stderr).toMatch(/Commit or stash your changes first.*or pass --force/);
    expect(await fingerprint(projectDir)).toEqual(before);

    const forced = await upgrade(['--from', oldTarball, '--force']);
    expect(forced.code).toBe(1);
    expect(await read('src/updated.ts')).toBe('export const a = 2;\n');
    expect(await read('src/yours-only.ts')).toBe('uncommitted\n');
    expect(forced.stdout).not.toMatch(/git checkout/);
  });

  it('refuses a project outside git unless --force', async () => {
    await rm(path.join(projectDir, '.git'), { recursive: true });
    const before = await fingerprint(projectDir);
    const refused = await upgrade(['--from', oldTarball]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is not in a git repository, so the upgrade could not be reviewed or undone; nothing was written/);
    expect(await fingerprint(projectDir)).toEqual(before);
    const forced = await upgrade(['--from', oldTarball, '--force']);
    expect(forced.code).toBe(1);
    expect(await read('src/updated.ts')).toBe('export const a = 2;\n');
    // Without git nothing is known to be ignored, but .env files are still never overwritten.
    expect(await read('.env.development')).toBe('SECRET=mine\n');
  });

  it('upgrades the project named on the command line from another directory', async () => {
    const result = await runCli(['upgrade', 'my-app', '--from', path.relative(tmp, oldTarball)], { cwd: tmp, sources: newSources });
    expect(result.code).toBe(1);
    expect(await read('src/updated.ts')).toBe('export const a = 2;\n');
  });

  it('leaves the project as it was when a file cannot be written', async () => {
    // The new template adds lib/helper.ts, but the user has a file named lib.
    await writeFile(path.join(projectDir, 'lib'), 'my file\n');
    await commitAll(projectDir, 'a file named lib');
    const before = await fingerprint(projectDir);
    const result = await upgrade(['--from', oldTarball]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Writing the upgrade failed: .*lib.*\n.*my-app was left as it was before the upgrade\.$/m);
    expect(result.stdout).toBe('');
    expect(await fingerprint(projectDir)).toEqual(before);
    expect(await gitStatus(projectDir)).toEqual([]);
  });

  it('adds the infra copies of a deploy/kubernetes/ that is new in the template', async () => {
    // The old version had infra/redis but no Kubernetes manifests, so it wrote no copy of redis.conf into them.
    const infra = { 'redis/redis.conf': 'port 6379\n' };
    await writeFiles(path.join(tmp, 'old-infra'), infra);
    await writeFiles(path.join(tmp, 'new-infra'), infra);
    await writeFiles(path.join(tmp, 'new-templates'), { 'deploy/kubernetes/base/kustomization.yaml': 'resources: []\n' });
    const oldWithInfra = await packTemplates({
      version: OLD_VERSION,
      templatesDir: path.join(tmp, 'old-templates'),
      infraDir: path.join(tmp, 'old-infra'),
      file: path.join(tmp, 'old-with-infra.tgz'),
    });
    projectDir = path.join(tmp, 'with-infra');
    await renderProject(
      { templatesDir: path.join(tmp, 'old-templates'), infraDir: path.join(tmp, 'old-infra') },
      { name: 'with-infra', redis: 'standalone', instances: 2, pm: 'npm' },
      OLD_VERSION,
      projectDir,
    );
    expect(await exists('deploy/kubernetes')).toBe(false);
    await git(projectDir, ['init', '--quiet']);
    await commitAll(projectDir, 'generated');

    newSources = { templatesDir: path.join(tmp, 'new-templates'), infraDir: path.join(tmp, 'new-infra') };
    const result = await upgrade(['--from', oldWithInfra]);
    expect(result.stdout).toMatch(/^ {2}added\s+deploy\/kubernetes\/base\/kustomization\.yaml$/m);
    expect(result.stdout).toMatch(/^ {2}added\s+deploy\/kubernetes\/base\/redis\.conf$/m);
    expect(await read('deploy/kubernetes/base/redis.conf')).toBe('port 6379\n');
  });

  it('gets the old template with npm pack from the registry', async () => {
    const registry = await serveRegistry([{ name: 'create-volt-scaled', version: OLD_VERSION, tarball: oldTarball }]);
    try {
      const env = cleanEnv({ npm_config_registry: registry.url, npm_config_cache: path.join(tmp, 'npm-cache') });
      const result = await upgrade([], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(1);
      expect(await read('src/updated.ts')).toBe('export const a = 2;\n');
      expect(registry.requests).toContain('/create-volt-scaled/-/create-volt-scaled-0.0.1.tgz');
    } finally {
      await registry.close();
    }
  });

  describe('bad input writes nothing', () => {
    async function expectRefused(args: string[], message: RegExp, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
      const before = await fingerprint(projectDir);
      const result = await runCli(['upgrade', ...args], { cwd: options.cwd ?? projectDir, env: options.env ?? cleanEnv(), sources: newSources });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
      expect(await fingerprint(projectDir)).toEqual(before);
      expect(await gitStatus(projectDir)).toEqual([]);
      return result;
    }

    it('an unknown flag', async () => {
      const result = await expectRefused(['--frobnicate'], /^Error: Unknown option --frobnicate/);
      expect(result.stderr).toMatch(/create-volt-scaled upgrade --help/);
    });

    it('a directory that is not a generated project', async () => {
      await mkdir(path.join(tmp, 'plain'));
      await expectRefused(['plain'], /plain has no volt-scaled\.json, so it is not a project generated by create-volt-scaled/, { cwd: tmp });
    });

    it.each([
      ['not JSON', '{ nope', /volt-scaled\.json cannot be read: it is not valid JSON/],
      ['another generator', '{"generator":"other","version":"1.0.0","answers":{}}', /"generator" is "other"/],
      ['no version', '{"generator":"create-volt-scaled","answers":{}}', /"version" must be the generator version/],
      [
        'a bad answer',
        '{"generator":"create-volt-scaled","version":"0.0.1","answers":{"redis":"sentinel","instances":2,"pm":"npm"}}',
        /"answers\.redis" must be one of standalone, cluster; got "sentinel"/,
      ],
      [
        'too many instances',
        '{"generator":"create-volt-scaled","version":"0.0.1","answers":{"redis":"cluster","instances":99,"pm":"npm"}}',
        /"answers\.instances" must be a whole number from 1 to 16; got 99/,
      ],
    ])('a volt-scaled.json that is %s', async (_label, content, message) => {
      await writeFile(path.join(projectDir, 'volt-scaled.json'), content);
      await commitAll(projectDir, 'broken manifest');
      await expectRefused(['--from', oldTarball], message);
    });

    it('a project generated by a newer version than this CLI', async () => {
      await writeFile(
        path.join(projectDir, 'volt-scaled.json'),
        JSON.stringify({ generator: 'create-volt-scaled', version: '99.0.0', answers: { redis: 'standalone', instances: 2, pm: 'npm' } }),
      );
      await commitAll(projectDir, 'from the future');
      const result = await expectRefused([], /was generated by create-volt-scaled 99\.0\.0, newer than this one/);
      expect(result.stderr).toMatch(/npm create volt-scaled@latest -- upgrade/);
    });

    it('a package.json that is not valid JSON', async () => {
      await writeFile(path.join(projectDir, 'package.json'), '{ "name": ');
      await commitAll(projectDir, 'broken package.json');
      await expectRefused(['--from', oldTarball], /package\.json is not valid JSON/);
    });

    it('--from a missing file, a file that is not a tarball, or another version', async () => {
      await expectRefused(['--from', path.join(tmp, 'nope.tgz')], /--from .*nope\.tgz: no such file/);
      await writeFile(path.join(tmp, 'junk.tgz'), 'not a tarball');
      await expectRefused(['--from', path.join(tmp, 'junk.tgz')], /is not (a readable package tarball|a create-volt-scaled package)/);
      const other = await packTemplates({ version: '0.0.2', templatesDir: path.join(tmp, 'old-templates'), file: path.join(tmp, 'other.tgz') });
      await expectRefused(['--from', other], /is create-volt-scaled 0\.0\.2, but the project was generated with 0\.0\.1/);
    });

    it('an old template the registry cannot provide: says so, points at --from', async () => {
      // A registry on a closed port, no retries: npm pack fails at once, offline.
      const env = cleanEnv({ npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0', npm_config_cache: path.join(tmp, 'npm-cache') });
      const result = await expectRefused(
        [],
        /^Error: Cannot get the template this project was generated from \(create-volt-scaled@0\.0\.1\): npm pack create-volt-scaled@0\.0\.1 exited with code 1\. Nothing was written\./,
        { env },
      );
      expect(result.stderr).toMatch(/\n {2}code ECONNREFUSED\n {2}FetchError: request to http:\/\/127\.0\.0\.1:9\/create-volt-scaled failed/);
      expect(result.stderr).toMatch(/pass the package tarball of create-volt-scaled@0\.0\.1 with --from <file\.tgz>/);
    });

    it('a version the registry does not have', async () => {
      const registry = await serveRegistry([{ name: 'create-volt-scaled', version: '0.0.2', tarball: oldTarball }]);
      try {
        const env = cleanEnv({ npm_config_registry: registry.url, npm_config_cache: path.join(tmp, 'npm-cache') });
        const result = await expectRefused([], /Cannot get the template this project was generated from \(create-volt-scaled@0\.0\.1\)/, { env });
        expect(result.stderr).toMatch(/\n {2}code ETARGET\n/);
      } finally {
        await registry.close();
      }
    });
  });
});
