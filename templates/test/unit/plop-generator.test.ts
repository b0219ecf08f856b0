import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisInfraDir } from '../support/redis-servers.js';

// The generated project's own `npm run gen controller <name>`: run plop's CLI
// on a copy of the template, then typecheck the copy and run the generated test.
const templateDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
// A generated project has its own node_modules; templates/ in the generator's
// repository resolves packages from the repository root's (vitest may leave
// a cache-only node_modules/.vite in templates/, so look for a package).
const rootModules =
  [join(templateDir, 'node_modules'), join(templateDir, '../node_modules')].find((dir) => existsSync(join(dir, 'plop'))) ?? join(templateDir, 'node_modules');
const SKIP = new Set(['node_modules', 'dist', 'coverage', '.stack', 'test-results']);

let project: string;

function run(args: string[], cwd = project) {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NODE_ENV: 'test' }, timeout: 240_000 });
  return { code: result.status, out: `${result.stdout}\n${result.stderr}` };
}

const plop = (...args: string[]) => run([join(rootModules, 'plop/bin/plop.js'), ...args]);

/** Every file of the project copy (node_modules aside), path -> content. */
function snapshot(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(project, { recursive: true, withFileTypes: true })) {
    const path = relative(project, join(entry.parentPath, entry.name));
    if (entry.isFile() && !path.split('/').some((part) => SKIP.has(part))) files.set(path, readFileSync(join(project, path), 'utf8'));
  }
  return files;
}
let before: Map<string, string>;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'volt-gen-'));
  cpSync(templateDir, project, { recursive: true, filter: (source) => !SKIP.has(basename(source)) });
  // The copy resolves packages from the installed node_modules, as `npm install` would provide them.
  symlinkSync(rootModules, join(project, 'node_modules'), 'dir');
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'gen-check', private: true, type: 'module' }, null, 2)}\n`);
  // The Redis user's rules and their Kubernetes copy, as a generated project has them
  // (templates/ in the generator's repository gets them from infra/ when it renders).
  for (const target of ['infra/redis/app-user.acl', 'deploy/kubernetes/base/app-user.acl']) {
    if (existsSync(join(project, target))) continue;
    mkdirSync(dirname(join(project, target)), { recursive: true });
    copyFileSync(join(redisInfraDir, 'app-user.acl'), join(project, target));
  }
  before = snapshot();
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('npm run gen controller <name>', () => {
  it("adds a feature (controller, channel, test), lists it in src/features/index.ts and gives the app's Redis user its keys, touching nothing else", () => {
    const result = plop('controller', 'line-items');
    expect(result.code, result.out).toBe(0);
    const after = snapshot();
    const changed = [...after.keys()].filter((path) => before.get(path) !== after.get(path)).sort();
    const removed = [...before.keys()].filter((path) => !after.has(path));
    // Adding a feature never means editing src/scaling/, the kernel or app.ts.
    expect(changed).toEqual([
      'deploy/kubernetes/base/app-user.acl',
      'infra/redis/app-user.acl',
      'src/features/index.ts',
      'src/features/line-items/line-items.channels.ts',
      'src/features/line-items/line-items.controller.ts',
      'test/unit/line-items.controller.test.ts',
    ]);
    expect(removed).toEqual([]);
    const features = after.get('src/features/index.ts')!;
    expect(features).toContain(
      "import { lineItemsChannels } from './line-items/line-items.channels.js';\n" +
        "import { lineItemsController } from './line-items/line-items.controller.js';\n// plop:imports",
    );
    expect(features).toMatch(/\n {2}lineItems: lineItemsController,\n {2}\/\/ plop:controllers/);
    expect(features).toMatch(/\n {2}\.\.\.lineItemsChannels,\n {2}\/\/ plop:channels/);
    expect(after.get('src/features/line-items/line-items.channels.ts')).toContain("export const LINE_ITEMS_CHANNEL = 'line-items';");
    // The app's Redis user may now use the feature's keys, and only those more.
    for (const acl of ['infra/redis/app-user.acl', 'deploy/kubernetes/base/app-user.acl']) {
      expect(after.get(acl)).toMatch(/^resetkeys ~notes:\* ~cache:\* ~sse:\* ~jobs:\* ~line-items:\*$/m);
      expect(after.get(acl)!.replace(' ~line-items:*', '')).toBe(before.get(acl));
    }
    const controller = readFileSync(join(project, 'src/features/line-items/line-items.controller.ts'), 'utf8');
    expect(controller).toContain("name: 'lineItems'");
    expect(controller).toContain("path: '/line-items'");
  });

  it('--auth: every action uses auth(), items record their creator, the channel is for signed-in users', () => {
    const unchanged = snapshot();
    const result = plop('controller', 'invoices', '--auth');
    expect(result.code, result.out).toBe(0);
    const after = snapshot();
    const changed = [...after.keys()].filter((path) => unchanged.get(path) !== after.get(path)).sort();
    expect(changed).toEqual([
      'deploy/kubernetes/base/app-user.acl',
      'infra/redis/app-user.acl',
      'src/features/index.ts',
      'src/features/invoices/invoices.channels.ts',
      'src/features/invoices/invoices.controller.ts',
      'test/unit/invoices.controller.test.ts',
    ]);
    const controller = after.get('src/features/invoices/invoices.controller.ts')!;
    expect(controller).toContain("import { auth } from '../auth/auth.procedure.js';");
    expect(controller.match(/use: \[auth\(\)\],/g)).toHaveLength(3);
    expect(controller).toContain('createdBy: context.user.id');
    expect(controller).toContain('createdBy: z.string(),');
    expect(after.get('src/features/invoices/invoices.channels.ts')).toContain('authorize: (_channel, { user }) => user !== null');
    // Without the flag, nothing about auth.
    expect(after.get('src/features/line-items/line-items.controller.ts')).not.toContain('auth');
  });

  it('refuses an existing or malformed name without touching any file', () => {
    const unchanged = snapshot();
    for (const name of ['line-items', 'notes', 'Bad_Name', 'broadcast']) {
      const result = plop('controller', name);
      expect(result.code, result.out).not.toBe(0);
    }
    expect(snapshot()).toEqual(unchanged);
  });

  it('the project still typechecks (tsc -p) and passes lint (biome check) with the generated files', () => {
    const tsc = run([join(rootModules, 'typescript/bin/tsc'), '-p', 'tsconfig.json']);
    expect(tsc.code, tsc.out).toBe(0);
    const lint = run([join(rootModules, '@biomejs/biome/bin/biome'), 'check', '.']);
    expect(lint.code, lint.out).toBe(0);
  });

  it('the generated tests pass: CRUD, a subscriber of the new channel receives each created item, --auth answers 401 to anonymous requests, and the API contract holds with their operations', () => {
    const result = run([
      join(rootModules, 'vitest/vitest.mjs'),
      'run',
      '--project',
      'unit',
      '--reporter',
      'verbose',
      'test/unit/line-items.controller.test.ts',
      'test/unit/invoices.controller.test.ts',
      'test/unit/openapi-contract.test.ts',
    ]);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/18 passed/);
    expect(result.out).toContain('announces each new item on the `line-items` channel');
    expect(result.out).toContain('answers 401 without a signed-in user, on every action');
    // Documented without warnings, like the rest of the API.
    const docs = run([join(rootModules, 'tsx/dist/cli.mjs'), 'scripts/docs.ts', '--output', 'docs/openapi.json']);
    expect(docs.code, docs.out).toBe(0);
    expect(docs.out).toMatch(/Wrote docs\/openapi\.json: 17 operations\n/);
    expect(docs.out).not.toContain('warning');
    const document = JSON.parse(readFileSync(join(project, 'docs/openapi.json'), 'utf8')) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/v1/line-items', '/api/v1/line-items/{id}']));
  });
}, 300_000);
