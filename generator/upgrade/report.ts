import { commandsFor, type PackageManager } from '../package-manager.js';
import { MANIFEST_FILE } from '../plan.js';
import { OUTCOMES, type UpgradePlan } from './plan-upgrade.js';

export interface ReportContext {
  name: string;
  from: string;
  to: string;
  pm: PackageManager;
  dryRun: boolean;
  /** The project was a committed git work tree before the upgrade, so git can undo it. */
  undoableWithGit: boolean;
  /** Uncommitted changes seen by a dry run, which the real run would refuse. */
  uncommitted: number;
}

/** Every changed file grouped by outcome, then the counts and what to do next. */
export function describeUpgrade(plan: UpgradePlan, context: ReportContext): string {
  const { dryRun } = context;
  const lines = [
    dryRun
      ? `Dry run: upgrading ${context.name} from create-volt-scaled ${context.from} to ${context.to} would change these files; nothing was written.`
      : `Upgraded ${context.name} from create-volt-scaled ${context.from} to ${context.to}.`,
    '',
  ];
  const width = Math.max(...OUTCOMES.map((outcome) => outcome.length));
  for (const outcome of OUTCOMES) {
    for (const change of plan.changes.filter((entry) => entry.outcome === outcome)) {
      const [first, ...more] = change.path === 'package.json' ? [] : change.notes;
      lines.push(`  ${outcome.padEnd(width)}  ${change.path}${first ? `  (${[first, ...more].join('; ')})` : ''}`);
      if (change.path === 'package.json') for (const note of change.notes) lines.push(`  ${''.padEnd(width)}    ${note}`);
    }
  }
  if (plan.changes.length === 0) lines.push('  No file needs a change.');

  const counts = OUTCOMES.map((outcome) => `${plan.changes.filter((entry) => entry.outcome === outcome).length} ${outcome}`);
  lines.push('', `${counts.join(', ')}; ${MANIFEST_FILE} ${dryRun ? 'would record' : 'records'} ${context.to}.`);

  const conflicted = plan.changes.filter((entry) => entry.outcome === 'conflicted');
  if (conflicted.length > 0) {
    lines.push(
      dryRun
        ? `${plural(conflicted.length, 'file')} would have conflicts to resolve by hand.`
        : `${plural(conflicted.length, 'file')} ${conflicted.length === 1 ? 'has' : 'have'} conflicts: in each block, your lines are between <<<<<<< and =======, the template's between ======= and >>>>>>>; keep what is right, delete the markers, then commit.`,
    );
    if (conflicted.some((entry) => entry.sidecar)) lines.push('Delete each .from-template file once you have taken what you need from it.');
  }
  if (plan.dependenciesChanged) {
    lines.push(`package.json's dependencies ${dryRun ? 'would change' : 'changed'}: run ${commandsFor(context.pm).install} afterwards.`);
  }
  if (dryRun && context.uncommitted > 0) {
    lines.push(`The project has ${plural(context.uncommitted, 'uncommitted change')}: commit first, as the upgrade refuses to run over them without --force.`);
  }
  if (!dryRun && context.undoableWithGit) {
    lines.push('Review it with git status and git diff; to undo it, run git checkout -- . && git clean -fd -- . in the project.');
  }
  return lines.join('\n');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
