/**
 * Projects generated the way users get them: from the packed create-volt-scaled
 * tarball, installed globally into a prefix of its own, run with answers as
 * flags, with its dependency install and first git commit.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { cleanEnv } from '../../support/run-cli.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * `npm pack` of this repository, installed with `npm install -g --prefix`
 * under workDir; done once per workDir (later calls reuse it). Returns the
 * path of the installed `create-volt-scaled` command.
 */
export async function packedGenerator(workDir: string): Promise<string> {
  const prefix = path.join(workDir, 'generator-prefix');
  const bin = path.join(prefix, 'bin', 'create-volt-scaled');
  if (existsSync(bin)) return bin;
  mkdirSync(workDir, { recursive: true });
  const env = cleanEnv();
  const packed = await execa('npm', ['pack', '--json', '--pack-destination', workDir], {
    cwd: repoRoot,
    env,
    extendEnv: false,
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  if (packed.exitCode !== 0) throw new Error(`npm pack failed:\n${String(packed.all)}`);
  const stdout = String(packed.stdout);
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
  const tarball = path.join(workDir, info!.filename);
  const installed = await execa('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], {
    cwd: workDir,
    env,
    extendEnv: false,
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  if (installed.exitCode !== 0) throw new Error(`npm install -g ${tarball} failed:\n${String(installed.all)}`);
  return bin;
}

/** Generates `<parentDir>/<name>` with the given flags (install and git included unless a flag says otherwise). */
export async function generateProject(options: {
  generator: string;
  parentDir: string;
  name: string;
  flags: string[];
}): Promise<{ dir: string; output: string }> {
  mkdirSync(options.parentDir, { recursive: true });
  const result = await execa(options.generator, [options.name, ...options.flags], {
    cwd: options.parentDir,
    env: cleanEnv(),
    extendEnv: false,
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: 600_000,
  });
  if (result.exitCode !== 0)
    throw new Error(`create-volt-scaled ${options.name} ${options.flags.join(' ')} failed (exit ${result.exitCode}):\n${String(result.all)}`);
  return { dir: path.join(options.parentDir, options.name), output: String(result.all) };
}

/** KEY=value lines of a .env file (comments and blank lines skipped). */
export function readDotEnv(file: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) values.set(match[1]!, match[2]!);
  }
  return values;
}

/** Sets KEY=value in a .env file: replaces the key's line, or appends one. */
export function setDotEnv(file: string, key: string, value: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((line) => line.startsWith(`${key}=`));
  if (index >= 0) lines[index] = `${key}=${value}`;
  else lines.splice(lines.at(-1) === '' ? lines.length - 1 : lines.length, 0, `${key}=${value}`);
  writeFileSync(file, lines.join('\n'));
}
