import path from 'node:path';
import type { Answers } from './answers.js';
import { commandsFor } from './package-manager.js';

/** How to reach the project from where the user stands: relative when inside cwd, else absolute. */
export function cdPathFor(targetDir: string, cwd: string): string {
  const relative = path.relative(cwd, targetDir);
  const shown = relative === '' ? '.' : relative.startsWith('..') ? targetDir : relative;
  return /[\s'"$`\\]/.test(shown) ? `'${shown.replace(/'/g, `'\\''`)}'` : shown;
}

export function nextSteps(answers: Answers, options: { cwd: string; installed: boolean }): string {
  const pm = commandsFor(answers.pm);
  const cd = cdPathFor(answers.targetDir, options.cwd);
  const topology = `${answers.instances} app instance${answers.instances === 1 ? '' : 's'} + nginx + Redis${answers.redis === 'cluster' ? ' Cluster' : ''}`;
  const steps: Array<[string, string]> = [];
  if (cd !== '.') steps.push([`cd ${cd}`, '']);
  if (!options.installed) steps.push([pm.install, '']);
  steps.push(
    [pm.run('dev'), 'one instance, in-memory adapters, no Redis needed'],
    [pm.run('test'), 'unit and Redis tests'],
    ['docker compose up', topology],
    [`${pm.run('build')} && ${pm.run('stack', ['start'])}`, 'the same topology as local processes, without Docker'],
  );
  const width = Math.max(...steps.map(([command]) => command.length));
  const lines = steps.map(([command, why]) => `  ${why ? `${command.padEnd(width)}  # ${why}` : command}`);
  return ['Next steps:', ...lines].join('\n');
}
