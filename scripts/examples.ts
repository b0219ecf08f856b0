import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { run } from '../generator/main.js';

/**
 * The committed examples: the directory under examples/, the project (package)
 * name they are generated with, and the flags. The package name differs from the
 * directory because "cluster" is a Node core module name, which npm refuses.
 */
export const EXAMPLES = [
  { dir: 'basic', projectName: 'volt-example-basic', args: ['--yes', '--no-install', '--no-git'] },
  {
    dir: 'cluster',
    projectName: 'volt-example-cluster',
    args: ['--yes', '--redis', 'cluster', '--instances', '3', '--no-install', '--no-git'],
  },
] as const;

export type Example = (typeof EXAMPLES)[number];

export function commandLineOf(example: Example): string {
  return `create-volt-scaled ${example.projectName} ${example.args.join(' ')}`;
}

/**
 * Generates one example in-process into a new temporary directory under
 * parentDir and returns the project's path. The environment is pinned (no
 * package-manager user agent) so the output does not depend on who runs it.
 */
export async function generateExample(example: Example, parentDir: string): Promise<string> {
  const workDir = await mkdtemp(path.join(parentDir, `.example-${example.dir}-`));
  let output = '';
  const sink = () =>
    new Writable({
      write(chunk, _encoding, done) {
        output += String(chunk);
        done();
      },
    });
  const code = await run([example.projectName, ...example.args], {
    cwd: workDir,
    env: { PATH: process.env.PATH ?? '' },
    stdout: sink(),
    stderr: sink(),
    stdin: Readable.from([]),
  });
  if (code !== 0) {
    await rm(workDir, { recursive: true, force: true });
    throw new Error(`${commandLineOf(example)} failed with exit code ${code}:\n${output}`);
  }
  return path.join(workDir, example.projectName);
}
