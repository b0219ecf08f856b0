import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { cleanEnv } from './run-cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.join(here, '..', '..');

/** [text to wait for, keys to type]. */
export type PtyStep = [expect: string, keys: string];

export const KEYS = { enter: '\r', down: '\u001b[B', up: '\u001b[A', ctrlC: '\u0003' } as const;

/**
 * Runs the CLI from source inside a real pseudo-terminal (python3's pty module),
 * so stdin.isTTY is true and @clack/prompts reads raw keystrokes as it would
 * from a person.
 */
export async function runCliInPty(
  args: string[],
  steps: PtyStep[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stepsDone: number; output: string }> {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  const cli = path.join(repoRoot, 'generator', 'cli.ts');
  const result = await execa('python3', [path.join(here, 'pty-session.py'), JSON.stringify(steps), '--', tsx, cli, ...args], {
    cwd: options.cwd,
    env: cleanEnv({ TERM: 'xterm-256color', ...options.env }),
    extendEnv: false,
  });
  const parsed = JSON.parse(result.stdout) as { code: number; steps_done: number; output: string };
  return { code: parsed.code, stepsDone: parsed.steps_done, output: parsed.output };
}
