import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'volt-gen-'));
  cpSync(templateDir, project, { recursive: true, filter: (source) => !SKIP.has(basename(source)) });
  // The copy resolves packages from the installed node_modules, as `npm install` would provide them.
  symlinkSync(rootModules, join(project, 'node_modules'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'gen-check', private: true, type: 'module' }));
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('npm run gen controller <name>', () => {
  it('adds the controller and its test, and registers it in src/volt.router.ts', () => {
    const result = plop('controller', 'line-items');
    expect(result.code, result.out).toBe(0);
    expect(existsSync(join(project, 'src/features/line-items/line-items.controller.ts'))).toBe(true);
    expect(existsSync(join(project, 'test/unit/line-items.controller.test.ts'))).toBe(true);
    const router = readFileSync(join(project, 'src/volt.router.ts'), 'utf8');
    expect(router).toContain("import { lineItemsController } from './features/line-items/line-items.controller.js';\n// plop:imports");
    expect(router).toMatch(/\n {4}lineItems: lineItemsController,\n {4}\/\/ plop:controllers/);
    const controller = readFileSync(join(project, 'src/features/line-items/line-items.controller.ts'), 'utf8');
    expect(controller).toContain("name: 'lineItems'");
    expect(controller).toContain("path: '/line-items'");
  });

  it('refuses an existing or malformed name without touching any file', () => {
    const before = readFileSync(join(project, 'src/volt.router.ts'), 'utf8');
    for (const name of ['line-items', 'notes', 'Bad_Name']) {
      const result = plop('controller', name);
      expect(result.code, result.out).not.toBe(0);
    }
    expect(readFileSync(join(project, 'src/volt.router.ts'), 'utf8')).toBe(before);
  });

  it('the project still typechecks (tsc -p) with the generated files', () => {
    const result = run([join(rootModules, 'typescript/bin/tsc'), '-p', 'tsconfig.json']);
    expect(result.code, result.out).toBe(0);
  });

  it('the generated controller test passes', () => {
    const result = run([join(rootModules, 'vitest/vitest.mjs'), 'run', '--project', 'unit', 'test/unit/line-items.controller.test.ts']);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/4 passed/);
  });
}, 300_000);
