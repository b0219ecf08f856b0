import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { run, type RunOptions } from '../../generator/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A writable that keeps what was written, so tests can read the CLI's output. */
function capture(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { text: () => string };
  stream.text = () => chunks.join('');
  return stream;
}

/** An environment without the caller's package-manager agent or CI flag, so defaults are predictable. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('npm_') && key !== 'CI' && key !== 'INIT_CWD') env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs the CLI in-process, non-interactively (stdin is not a TTY). */
export async function runCli(args: string[], options: Partial<RunOptions> & { cwd: string }): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  const code = await run(args, {
    env: cleanEnv(),
    stdin: Readable.from([]),
    ...options,
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

export async function makeTempDir(prefix = 'cvs-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every file under dir (relative path -> contents), to compare whole trees. */
export async function readTree(dir: string, relative = ''): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const entries = await readdir(path.join(dir, relative), { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      for (const [file, content] of await readTree(dir, child)) files.set(file, content);
    } else {
      files.set(child, await readFile(path.join(dir, child), 'utf8'));
    }
  }
  return files;
}

/** Names in dir, for "nothing was written" checks. */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
