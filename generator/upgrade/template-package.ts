import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { extract } from 'tar';
import { CliError } from '../errors.js';
import type { PlanSources } from '../plan.js';

const PACKAGE_NAME = 'create-volt-scaled';
const FROM_HINT = `Pass the ${PACKAGE_NAME} package tarball of the version in volt-scaled.json with --from <file.tgz>.`;

/** The templates of one published generator version, unpacked on disk. */
export interface TemplatePackage {
  version: string;
  sources: PlanSources;
}

/**
 * Gets the generator package of `version`: the tarball given with --from, or
 * `npm pack create-volt-scaled@<version>` (the project's .npmrc applies, so a
 * private registry or mirror works). Unpacks it under workDir.
 */
export async function getTemplatePackage(options: {
  version: string;
  from: string | undefined;
  projectDir: string;
  env: NodeJS.ProcessEnv;
  workDir: string;
}): Promise<TemplatePackage> {
  const { version, from, projectDir, env, workDir } = options;
  if (from !== undefined && !(await stat(from).catch(() => undefined))?.isFile()) {
    throw new CliError(`--from ${from}: no such file. Nothing was written.`, FROM_HINT);
  }
  const tarball = from ?? (await npmPack(version, projectDir, env, workDir));
  const origin = from ? `--from ${from}` : `create-volt-scaled@${version} from the registry`;
  const unpacked = path.join(workDir, 'package-unpacked');
  await mkdir(unpacked, { recursive: true });
  try {
    await extract({ file: tarball, cwd: unpacked, strict: true });
  } catch (error) {
    throw new CliError(`${origin} is not a readable package tarball: ${(error as Error).message}. Nothing was written.`, FROM_HINT);
  }

  const root = path.join(unpacked, 'package');
  const manifest = await readFile(path.join(root, 'package.json'), 'utf8')
    .then((text) => JSON.parse(text) as { name?: unknown; version?: unknown })
    .catch(() => undefined);
  if (manifest?.name !== PACKAGE_NAME) {
    throw new CliError(`${origin} is not a ${PACKAGE_NAME} package (no package/package.json named ${PACKAGE_NAME}). Nothing was written.`, FROM_HINT);
  }
  if (manifest.version !== version) {
    throw new CliError(
      `${origin} is ${PACKAGE_NAME} ${String(manifest.version)}, but the project was generated with ${version}. Nothing was written.`,
      `The upgrade compares your files with the template they were generated from; pass the ${version} tarball (npm pack ${PACKAGE_NAME}@${version}).`,
    );
  }
  const templatesDir = path.join(root, 'templates');
  if (!(await isDirectory(templatesDir))) {
    throw new CliError(`${origin} has no templates/ folder. Nothing was written.`, FROM_HINT);
  }
  const infraDir = path.join(root, 'infra');
  return { version, sources: { templatesDir, infraDir: (await isDirectory(infraDir)) ? infraDir : undefined } };
}

async function npmPack(version: string, projectDir: string, env: NodeJS.ProcessEnv, workDir: string): Promise<string> {
  const spec = `${PACKAGE_NAME}@${version}`;
  const destination = path.join(workDir, 'packed');
  await mkdir(destination, { recursive: true });
  const result = await execa('npm', ['pack', spec, '--pack-destination', destination, '--ignore-scripts', '--loglevel=error'], {
    cwd: projectDir,
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    all: true,
  });
  const tarballs = (await readdir(destination)).filter((name) => name.endsWith('.tgz'));
  if (result.exitCode === 0 && !result.failed && tarballs.length === 1) return path.join(destination, tarballs[0]!);

  const reason = result.code === 'ENOENT' ? 'npm was not found on PATH' : `npm pack ${spec} exited with code ${result.exitCode ?? 'unknown'}`;
  throw new CliError(
    `Cannot get the template this project was generated from (${spec}): ${reason}. Nothing was written.`,
    [...npmErrorLines(result.all ?? ''), `Check your network and registry settings, or pass the package tarball of ${spec} with --from <file.tgz>.`].join('\n'),
  );
}

/** npm's own reason (e.g. "code E404", "404 Not Found - GET ..."), without stack traces or the pointer to its debug log. */
function npmErrorLines(output: string): string[] {
  const lines = output
    .split('\n')
    .map((line) => line.replace(/^npm (error|ERR!) ?/, '').trimEnd())
    .filter((line) => !/^(\s|\d*$|[{}]|syscall |errno |A complete log of this run)/.test(line));
  return [...new Set(lines)].slice(0, 3).map((line) => `  ${line}`);
}

async function isDirectory(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => undefined))?.isDirectory() ?? false;
}
