import { appendFile, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageInfo } from '../../generator/package-root.js';
import { buildPlan } from '../../generator/plan.js';
import { freePort, waitForHttp } from '../support/free-port.js';
import { cleanEnv, makeTempDir, removeDir } from '../support/run-cli.js';

const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The published artifact, end to end: npm pack, a global install of the
 * tarball, a scaffold with a real `npm install`, then the generated project's
 * own typecheck, tests, build and server. Steps run in order and share state.
 */
describe('packed create-volt-scaled', () => {
  let tmp: string;
  let tarball: string;
  let projectDir: string;
  let server: ResultPromise | undefined;
  // No npm_* variables from an outer `npm test`: they would steer the nested npm runs.
  // PACKED_TEST_NODE names the node binary everything here runs on (CI gives the image's Node 24).
  const projectNode = process.env.PACKED_TEST_NODE;
  const env = cleanEnv(projectNode ? { PATH: `${path.dirname(projectNode)}${path.delimiter}${process.env.PATH ?? ''}` } : {});
  const sh = (file: string, args: string[], cwd: string) => execa(file, args, { cwd, env, extendEnv: false, all: true, reject: false });

  beforeAll(async () => {
    tmp = await makeTempDir('cvs-packed-');
  });

  afterAll(async () => {
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await killProcessesUnder(tmp);
    await removeDir(tmp);
  });

  it('runs on the Node.js it is given', async () => {
    // In CI the generated project's suites run here on the image's Node, and in place on the machine's.
    if (process.env.CI) expect(projectNode, 'set PACKED_TEST_NODE to the node binary of the Docker image (Node 24)').toBeTruthy();
    const version = await sh('node', ['--version'], repoRoot);
    const expected = projectNode ? (await execa(projectNode, ['--version'])).stdout : process.version;
    expect(version.stdout).toBe(expected);
  });

  it('npm pack ships dist, templates and infra, without build output or node_modules', async () => {
    const packed = await sh('npm', ['pack', '--json', '--pack-destination', tmp], repoRoot);
    expect(packed.exitCode, packed.all).toBe(0);
    const json = packed.stdout.slice(packed.stdout.indexOf('['));
    const [info] = JSON.parse(json) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(tmp, info!.filename);
    const files = info!.files.map((file) => file.path);
    expect(files).toContain('dist/generator/cli.js');
    expect(files).toContain('templates/package.json.hbs');
    expect(files).toContain('templates/_gitignore');
    expect(
      files.some((file) => file.startsWith('infra/')),
      'infra/ is shipped',
    ).toBe(true);
    expect(files.filter((file) => /(^|\/)(node_modules|test-results|coverage)\//.test(file) || file.startsWith('templates/dist/'))).toEqual([]);
    expect(files.filter((file) => file.startsWith('generator/') || file.startsWith('test/'))).toEqual([]);
  });

  it('installs globally and scaffolds my-app with a real npm install', async () => {
    const prefix = path.join(tmp, 'prefix');
    const installed = await sh('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], tmp);
    expect(installed.exitCode, installed.all).toBe(0);

    const work = path.join(tmp, 'work');
    await execa('mkdir', ['-p', work]);
    const created = await sh(path.join(prefix, 'bin', 'create-volt-scaled'), ['my-app', '--yes', '--no-git'], work);
    expect(created.exitCode, created.all).toBe(0);
    expect(created.stdout).toMatch(/Dependencies installed/);
    expect(created.stdout).toMatch(/npm run dev/);
    projectDir = path.join(work, 'my-app');
    expect(await readdir(path.join(projectDir, 'node_modules'))).toContain('ioredis');

    // npm pack drops some dotfiles; the installed generator must still write every planned file.
    const { templatesDir, infraDir } = packageInfo();
    const planned = [
      ...buildPlan({ templatesDir, infraDir }).map((entry) => entry.target),
      'volt-scaled.json',
      '.env',
      'secrets/redis-admin-password',
      'secrets/redis-app-password',
    ].sort();
    const written = (await readdir(projectDir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(projectDir, path.join(entry.parentPath, entry.name)))
      .filter((file) => !file.startsWith('node_modules/') && file !== 'package-lock.json')
      .sort();
    expect(written).toEqual(planned);
  });

  it('the generated project typechecks', async () => {
    const result = await sh('npm', ['run', 'typecheck'], projectDir);
    expect(result.exitCode, result.all).toBe(0);
  });

  it("the generated project's unit and Redis tests pass", async () => {
    const result = await sh('npm', ['test'], projectDir);
    expect(result.exitCode, result.all).toBe(0);
    // The whole suite of a generated project, Redis clusters included.
  }, 1_200_000);

  it('builds, starts and answers GET /api/v1/ping with an instance id', async () => {
    const built = await sh('npm', ['run', 'build'], projectDir);
    expect(built.exitCode, built.all).toBe(0);

    const port = await freePort();
    // Its own process group, so stopping it also stops the node process npm starts.
    server = execa('npm', ['start'], {
      cwd: projectDir,
      // Metrics have their own port; a free one too, so parallel runs do not collide.
      env: { ...env, PORT: String(port), HOST: '127.0.0.1', METRICS_PORT: String(await freePort()), METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      extendEnv: false,
      detached: true,
      reject: false,
      all: true,
    });
    const exitedEarly = server.then((result) => {
      throw new Error(`npm start exited with code ${result.exitCode} before answering:\n${result.all}`);
    });
    exitedEarly.catch(() => undefined);
    const response = await Promise.race([waitForHttp(`http://127.0.0.1:${port}/api/v1/ping`, 30_000), exitedEarly]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { pong: true }, error: null });
    expect(response.headers.get('x-instance-id')).toBeTruthy();

    // `npm run token` signs with the AUTH_SECRET the generator put in .env, which `npm start` reads too.
    const token = await sh('npm', ['run', '-s', 'token', '--', '--sub', 'alice'], projectDir);
    expect(token.exitCode, token.all).toBe(0);
    const me = await fetch(`http://127.0.0.1:${port}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });
    expect(((await me.json()) as { data: { user: { id: string } | null } }).data.user?.id).toBe('alice');

    process.kill(-server.pid!, 'SIGTERM');
    const exited = await Promise.race([server, new Promise((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
    expect(exited, 'the server stops on SIGTERM').not.toBe('timeout');
    server = undefined;
  });

  it('npm start, npm run dev and npm run stack read .env; the process environment wins over it', async () => {
    const envFile = path.join(projectDir, '.env');
    const password = (await readFile(path.join(projectDir, 'secrets', 'redis-admin-password'), 'utf8')).trim();
    expect(password, 'the project has its Redis admin password').toMatch(/^[0-9a-f]{64}$/);
    await appendFile(envFile, 'INSTANCE_ID=from-dotenv\n');

    // What each script's server says it is (X-Instance-Id), on free ports.
    const instanceOf = async (script: string[], extra: NodeJS.ProcessEnv = {}) => {
      const port = await freePort();
      const ports = { PORT: String(port), HOST: '127.0.0.1', METRICS_PORT: String(await freePort()), METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
      server = execa('npm', script, { cwd: projectDir, env: { ...env, ...ports, ...extra }, extendEnv: false, detached: true, reject: false, all: true });
      try {
        const response = await waitForHttp(`http://127.0.0.1:${port}/api/v1/ping`, 60_000);
        return response.headers.get('x-instance-id');
      } finally {
        process.kill(-server.pid!, 'SIGKILL');
        await server;
        server = undefined;
      }
    };
    expect(await instanceOf(['start'])).toBe('from-dotenv');
    expect(await instanceOf(['start'], { INSTANCE_ID: 'from-environment' })).toBe('from-environment');
    expect(await instanceOf(['run', 'dev'])).toBe('from-dotenv');

    // The stack's Redis has the project's users, with the passwords of secrets/ (as docker compose).
    const stateDir = path.join(tmp, 'stack-state');
    const stack = (args: string[]) => sh('npm', ['run', 'stack', '--', ...args, '--state-dir', stateDir], projectDir);
    const proxyPort = await freePort();
    const started = await stack(['start', '--port', String(proxyPort)]);
    try {
      expect(started.exitCode, started.all).toBe(0);
      const state = JSON.parse(await readFile(path.join(stateDir, 'state.json'), 'utf8')) as {
        topology: { redisNodes: Array<{ host: string; port: number }> };
      };
      const redis = state.topology.redisNodes[0]!;
      const ping = (auth: string | undefined) =>
        execa('redis-cli', ['-h', redis.host, '-p', String(redis.port), ...(auth ? ['--user', 'admin'] : []), 'ping'], {
          env: { ...env, ...(auth ? { REDISCLI_AUTH: auth } : {}) },
          extendEnv: false,
          reject: false,
        });
      expect((await ping(undefined)).stdout).toMatch(/NOAUTH/);
      expect((await ping(password)).stdout).toBe('PONG');
      const through = await waitForHttp(`http://127.0.0.1:${proxyPort}/api/v1/ping`, 10_000);
      expect(through.headers.get('x-instance-id'), 'the topology wins over .env').toMatch(/^app[12]$/);
    } finally {
      const stopped = await stack(['stop']);
      expect(stopped.exitCode, stopped.all).toBe(0);
    }
  });
});

/** Stops anything still running from the temporary install (e.g. a test runner's helper a failed suite left behind). */
async function killProcessesUnder(dir: string): Promise<void> {
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }
}
