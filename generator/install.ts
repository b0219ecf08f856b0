import { spinner } from '@clack/prompts';
import { execa } from 'execa';
import { StepFailedError } from './errors.js';
import { commandsFor, type PackageManager } from './package-manager.js';
import type { Io } from './io.js';

/** Runs `<pm> install` in the project; on failure the project stays and the error says how to finish. */
export async function installDependencies(options: { projectDir: string; pm: PackageManager; cdPath: string; io: Io }): Promise<void> {
  const { projectDir, pm, cdPath, io } = options;
  const label = `Installing dependencies with ${pm}`;
  const progress = io.stdout.isTTY ? spinner({ output: io.stdout }) : undefined;
  if (progress) progress.start(label);
  else io.print(`${label}...`);

  const result = await execa(pm, ['install'], {
    cwd: projectDir,
    env: io.env,
    extendEnv: false,
    all: true,
    reject: false,
    stdin: 'ignore',
  });
  if (result.exitCode === 0 && !result.failed) {
    if (progress) progress.stop('Dependencies installed');
    else io.print('Dependencies installed.');
    return;
  }
  if (progress) progress.error(`${pm} install failed`);
  const reason = result.code === 'ENOENT' ? `${pm} was not found on PATH` : `${pm} install exited with code ${result.exitCode ?? 'unknown'}`;
  const output = tail(result.all ?? '', 20);
  const howToFinish = `${cdPath === '.' ? '' : `cd ${cdPath} && `}${commandsFor(pm).install}`;
  throw new StepFailedError(`${reason}.${output ? `\n${output}` : ''}`, howToFinish);
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
