/**
 * The template as it was at another git ref, next to the working tree's, so a
 * benchmark can measure both side by side in one run (`--baseline <ref>`):
 * `git archive` of the ref's `templates/` and `bench/http-servers/` into
 * node_modules/.cache/volt-bench/ref-<sha>/ (inside this repository, so its
 * imports resolve against the same node_modules), compiled with tsc on demand.
 * Each build is served by that ref's own bench servers, so a change of
 * internal API between the two does not matter.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export interface TemplateBuild {
  /** What the tables call it: `this build`, or `baseline <ref>`. */
  label: string;
  /** The directory holding `templates/` and `bench/http-servers/`. */
  root: string;
  /** Compiled `templates/src` (after `compile()`). */
  dist: string;
}

/** The working tree's template. */
export function currentBuild(cacheName: string): TemplateBuild {
  return { label: 'this build', root: repoRoot, dist: join(repoRoot, 'node_modules', '.cache', cacheName, 'dist') };
}

/** The template at `ref` (a commit, branch or tag), extracted once per commit. */
export function baselineBuild(ref: string): TemplateBuild {
  const rev = spawnSync('git', ['rev-parse', '--verify', '--short=12', `${ref}^{commit}`], { cwd: repoRoot, encoding: 'utf8' });
  if (rev.status !== 0) throw new Error(`--baseline ${ref}: not a commit in this repository (${rev.stderr.trim()})`);
  const sha = rev.stdout.trim();
  const root = join(repoRoot, 'node_modules', '.cache', 'volt-bench', `ref-${sha}`);
  const marker = join(root, '.extracted');
  if (!existsSync(marker)) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const archive = spawnSync('git', ['archive', '--format=tar', sha, 'templates', 'bench/http-servers'], { cwd: repoRoot, maxBuffer: 512 * 1024 * 1024 });
    if (archive.status !== 0) throw new Error(`git archive ${sha} failed: ${archive.stderr}`);
    const untar = spawnSync('tar', ['-x', '-C', root], { input: archive.stdout });
    if (untar.status !== 0) throw new Error(`extracting ${sha} failed: ${untar.stderr}`);
    // Inside node_modules, Node looks no further up for a package scope: say these are ES modules, as the repository does.
    writeFileSync(join(root, 'package.json'), `${JSON.stringify({ name: `volt-bench-ref-${sha}`, private: true, type: 'module' })}\n`);
    writeFileSync(marker, `${sha}\n`);
  }
  return { label: `baseline ${ref} (${sha})`, root, dist: join(root, 'dist') };
}

/** Compiles a build's `templates/src` with tsc (no on-the-fly transpiling in a measurement). */
export function compile(build: TemplateBuild): void {
  rmSync(build.dist, { recursive: true, force: true });
  mkdirSync(build.dist, { recursive: true });
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(build.root, 'templates/tsconfig.build.json'), '--outDir', build.dist, '--sourceMap', 'false'], {
    encoding: 'utf8',
  });
  if (!existsSync(join(build.dist, 'volt.router.js'))) throw new Error(`Compiling ${build.label} failed:\n${result.stdout}${result.stderr}`);
  if (result.status !== 0) process.stderr.write(`tsc reported type errors in ${build.label} (output emitted anyway):\n${result.stdout}\n`);
}
