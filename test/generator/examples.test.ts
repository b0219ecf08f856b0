import { cp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLineOf, EXAMPLES, generateExample } from '../../scripts/examples.js';
import { fieldErrors, schemaErrors } from '../infra/support/kubernetes-validation.js';
import { kustomize, run, secretsCommand } from '../infra/support/kustomize.js';
import { makeTempDir, readTree, removeDir } from '../support/run-cli.js';

const examplesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');

describe('committed examples', () => {
  let work: string;
  beforeAll(async () => {
    work = await makeTempDir('cvs-examples-');
  });
  afterAll(async () => removeDir(work));

  it.each(EXAMPLES.map((example) => [example.dir, example] as const))(
    'examples/%s is identical to a fresh run (run `npm run examples` after changing templates)',
    async (_dir, example) => {
      const fresh = await readTree(await generateExample(example, work));
      const committed = await readTree(path.join(examplesDir, example.dir));
      const hint = `examples/${example.dir} is out of date with \`${commandLineOf(example)}\`; run \`npm run examples\` and commit the result`;
      // .env and secrets/ are git-ignored, never committed: .env is compared
      // to .env.example but for its random AUTH_SECRET, each secret is checked
      // to be a random password.
      const env = fresh.get('.env') ?? '';
      for (const tree of [fresh, committed]) {
        tree.delete('.env');
        for (const file of [...tree.keys()].filter((file) => file.startsWith('secrets/'))) {
          if (tree === fresh) expect(tree.get(file), file).toMatch(/^[0-9a-f]{64}\n$/);
          tree.delete(file);
        }
      }
      expect(env.replace(/^AUTH_SECRET=[0-9a-f]{64}$/m, 'AUTH_SECRET=')).toBe(fresh.get('.env.example'));
      expect([...committed.keys()], hint).toEqual([...fresh.keys()]);
      for (const [file, content] of fresh) {
        expect(committed.get(file), `${hint} (${file} differs)`).toBe(content);
      }
      expect([...committed.keys()].some((file) => file.split('/').includes('node_modules'))).toBe(false);
    },
  );

  it.each(EXAMPLES.map((example) => [example.dir, example] as const))(
    'examples/%s/deploy/kubernetes renders with kustomize into valid objects for its answers',
    async (dir, example) => {
      // A copy, so the Secret's file is made as a user makes it, outside the repository.
      const project = path.join(work, `kubernetes-${dir}`);
      await cp(path.join(examplesDir, dir), project, { recursive: true });
      await run(await secretsCommand(project), project);
      const objects = await kustomize(path.join(project, 'deploy/kubernetes'));
      expect(await schemaErrors(objects)).toEqual([]);
      expect(fieldErrors(objects)).toEqual([]);
      const instances = example.dir === 'cluster' ? 3 : 2;
      const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { replicas: number } };
      expect(deployment.spec.replicas).toBe(instances);
      const redis = objects.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name);
      expect(redis).toEqual([example.dir === 'cluster' ? 'redis-cluster' : 'redis']);
      expect(objects.every((o) => o.kind === 'Namespace' || o.metadata.namespace === example.projectName)).toBe(true);
    },
  );

  it('commits no .env and no secrets/ (each example git-ignores its own)', async () => {
    const tracked = await execa('git', ['ls-files', '--', 'examples'], { cwd: path.dirname(examplesDir) });
    const files = tracked.stdout.split('\n');
    for (const example of EXAMPLES) expect(files).toContain(`examples/${example.dir}/.env.example`);
    expect(files.filter((file) => /(^|\/)\.env(\.(?!example$).*)?$/.test(file) || /(^|\/)secrets\//.test(file))).toEqual([]);
    const local = EXAMPLES.flatMap((example) => [`examples/${example.dir}/.env`, `examples/${example.dir}/secrets/redis-admin-password`]);
    const ignored = await execa('git', ['check-ignore', '--no-index', ...local], { cwd: path.dirname(examplesDir), reject: false });
    expect(ignored.stdout.split('\n')).toEqual(local);
  });

  it('the two examples differ where their answers differ', async () => {
    const basic = await readTree(path.join(examplesDir, 'basic'));
    const cluster = await readTree(path.join(examplesDir, 'cluster'));
    expect(JSON.parse(basic.get('volt-scaled.json') ?? '{}').answers).toEqual({ redis: 'standalone', instances: 2, pm: 'npm' });
    expect(JSON.parse(cluster.get('volt-scaled.json') ?? '{}').answers).toEqual({ redis: 'cluster', instances: 3, pm: 'npm' });
  });
});
