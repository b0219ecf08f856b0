import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packageInfo } from '../../generator/package-root.js';
import { buildPlan, KUSTOMIZE_COPIES } from '../../generator/plan.js';
import { makeTempDir, removeDir } from '../support/run-cli.js';

async function writeFiles(root: string, files: string[]): Promise<void> {
  for (const file of files) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), `content of ${file}\n`);
  }
}

describe('buildPlan', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('cvs-plan-');
  });
  afterEach(async () => removeDir(dir));

  it('renders .hbs files, copies the rest, renames _gitignore and skips build output', async () => {
    const templatesDir = path.join(dir, 'templates');
    const infraDir = path.join(dir, 'infra');
    await writeFiles(templatesDir, [
      'src/app.ts',
      'package.json.hbs',
      '_gitignore',
      'docs/_gitignore',
      'plop/controller.ts.hbs',
      'public/logo.png',
      'node_modules/dep/index.js',
      'src/node_modules/x.js',
      'dist/server.js',
      'coverage/index.html',
      'test-results/run.json',
      'debug.log',
      'volt-scaled.json',
    ]);
    await writeFiles(infraDir, ['nginx/nginx.conf', 'compose/redis-cluster.yml.hbs', 'README.md']);

    const plan = buildPlan({ templatesDir, infraDir });
    expect(plan.map(({ target, kind }) => `${kind} ${target}`)).toEqual([
      'copy .gitignore',
      'copy docs/.gitignore',
      'copy infra/README.md',
      'render infra/compose/redis-cluster.yml',
      'copy infra/nginx/nginx.conf',
      'render package.json',
      'copy plop/controller.ts.hbs',
      'copy public/logo.png',
      'copy src/app.ts',
    ]);
    expect(plan.find((entry) => entry.target === 'package.json')?.source).toBe(path.join(templatesDir, 'package.json.hbs'));
  });

  it('refuses two sources for one target', async () => {
    const templatesDir = path.join(dir, 'templates');
    await writeFiles(templatesDir, ['README.md', 'README.md.hbs']);
    expect(() => buildPlan({ templatesDir })).toThrow(/Two template files map to README.md/);
  });

  it('plans the real templates: package.json rendered, infra under infra/, nothing from node_modules', () => {
    const { templatesDir, infraDir } = packageInfo();
    const plan = buildPlan({ templatesDir, infraDir });
    const byTarget = new Map(plan.map((entry) => [entry.target, entry]));
    expect(byTarget.get('package.json')?.kind).toBe('render');
    expect(byTarget.get('.gitignore')?.kind).toBe('copy');
    expect(byTarget.get('.env.example')?.kind).toBe('render');
    expect(byTarget.get('src/config.ts')?.kind).toBe('copy');
    expect(plan.some((entry) => entry.target.split('/').includes('node_modules'))).toBe(false);
    expect(plan.some((entry) => entry.target.endsWith('.hbs') && !entry.target.startsWith('plop/'))).toBe(false);
    expect(plan.every((entry) => !entry.target.startsWith('infra/') || entry.source.startsWith(infraDir))).toBe(true);
    // kustomize reads only files under deploy/kubernetes/: the infra files it needs are copied there.
    for (const copy of KUSTOMIZE_COPIES) {
      expect(byTarget.get(copy.target)).toEqual({ source: path.join(infraDir, copy.infra), target: copy.target, kind: 'copy' });
    }
    expect(byTarget.get('deploy/kubernetes/components/prometheus-operator/prometheus-rule.yaml')?.kind).toBe('render');
  });
});
