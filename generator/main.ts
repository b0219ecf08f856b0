import { answersFromFlags, resolveTarget, type Answers } from './answers.js';
import { parseCliArgs } from './args.js';
import { ENV_EXAMPLE_FILE, ENV_FILE, REDIS_SECRET_FILES, SECRETS_DIR, writeEnvFile, writeRedisSecrets } from './env-file.js';
import { CliError, StepFailedError, UsageError } from './errors.js';
import { helpText } from './help.js';
import { createIo, type Io, type RunContext } from './io.js';
import { cdPathFor, nextSteps } from './next-steps.js';
import { packageInfo } from './package-root.js';
import { detectPackageManager } from './package-manager.js';
import { buildPlan, MANIFEST_FILE, type PlanEntry, type PlanSources } from './plan.js';
import { inspectTarget } from './target-dir.js';
import { UPGRADE_COMMAND } from './upgrade/args.js';
import { KEPT_ON_FORCE, writeProjectAtomically } from './write-project.js';

// prompts, render, install, git and upgrade are imported where they are used: node-plop,
// @clack/prompts and execa take most of the start-up time, and --help,
// --version or a --no-install --no-git run should not pay for what they skip.

export interface RunOptions extends RunContext {
  /** Where templates and infra snippets come from; tests point this at broken templates. */
  sources?: PlanSources;
}

/** The whole CLI as a function: argv in, exit code out, every side channel passed in. */
export async function run(argv: readonly string[], options: RunOptions): Promise<number> {
  const io = createIo(options);
  try {
    if (argv[0] === UPGRADE_COMMAND) return await (await import('./upgrade/command.js')).upgrade(argv.slice(1), io, options.sources);
    return await generate(argv, io, options.sources);
  } catch (error) {
    if (error instanceof CliError) {
      io.printError(`Error: ${error.message}`);
      if (error.hint) io.printError(error.hint);
      return 1;
    }
    throw error;
  }
}

async function generate(argv: readonly string[], io: Io, sourcesOverride: PlanSources | undefined): Promise<number> {
  const flags = parseCliArgs(argv);
  const pkg = packageInfo();
  if (flags.help) {
    io.print(helpText(pkg.version));
    return 0;
  }
  if (flags.version) {
    io.print(pkg.version);
    return 0;
  }

  const detectedPm = detectPackageManager(io.env);
  const interactive = Boolean(io.stdin.isTTY) && !flags.yes && !isCi(io.env);
  // A directory given on the command line is checked before any prompt is shown.
  const early = flags.dir === undefined ? undefined : await checkTarget(resolveTarget(flags.dir, io.cwd).targetDir, flags.force, interactive, io);

  const answers = interactive
    ? await (await import('./prompts.js')).promptAnswers(flags, { io, detectedPm, version: pkg.version })
    : answersFromFlags(flags, { cwd: io.cwd, detectedPm });
  const state = early ?? (await checkTarget(answers.targetDir, flags.force, interactive, io));

  const sources = sourcesOverride ?? { templatesDir: pkg.templatesDir, infraDir: pkg.infraDir };
  const plan = buildPlan(sources);
  if (flags.dryRun) {
    io.print(describePlan(plan, answers, state));
    return 0;
  }

  if (state === 'non-empty') {
    const kept = `${KEPT_ON_FORCE.slice(0, -1).join(', ')} and ${KEPT_ON_FORCE.at(-1)}`;
    io.print(`Replacing everything in ${answers.targetDir} except ${kept} (kept as they are) with the new project.`);
  }
  const { renderProject } = await import('./render.js');
  const started = performance.now();
  await writeProjectAtomically({
    targetDir: answers.targetDir,
    name: answers.name,
    state,
    render: async (dir) => {
      await renderProject(sources, answers, pkg.version, dir, plan);
      await writeEnvFile(dir);
      await writeRedisSecrets(dir);
    },
  }).catch((error: unknown) => {
    throw new CliError((error as Error).message, `Nothing was written to ${answers.targetDir}.`);
  });
  // A kept secrets/ (--force) gets the passwords it lacks.
  if (state === 'non-empty') await writeRedisSecrets(answers.targetDir);
  io.print(`Created ${answers.name} in ${answers.targetDir} (${plan.length + GENERATED_FILES} files, ${Math.round(performance.now() - started)} ms).`);

  const cdPath = cdPathFor(answers.targetDir, io.cwd);
  let installFailure: StepFailedError | undefined;
  if (answers.install) {
    try {
      const { installDependencies } = await import('./install.js');
      await installDependencies({ projectDir: answers.targetDir, pm: answers.pm, cdPath, io });
    } catch (error) {
      if (!(error instanceof StepFailedError)) throw error;
      installFailure = error;
    }
  }
  if (answers.git) await (await import('./git.js')).initGitRepository(answers.targetDir, io);

  io.print('');
  io.print(nextSteps(answers, { cwd: io.cwd, installed: answers.install && !installFailure }));
  if (installFailure) {
    io.printError('');
    io.printError(`Error: installing dependencies failed: ${installFailure.message}`);
    io.printError(`The project was created and kept. To finish by hand, run:\n  ${installFailure.howToFinish}`);
    return 1;
  }
  return 0;
}

/** Refuses a file, or a non-empty directory without --force (interactive runs ask instead). */
async function checkTarget(targetDir: string, force: boolean, interactive: boolean, io: Io) {
  const state = await inspectTarget(targetDir);
  if (state === 'file') {
    throw new UsageError(`${targetDir} is a file, not a directory; choose another project directory.`, undefined);
  }
  if (state === 'non-empty' && !force) {
    if (interactive && (await (await import('./prompts.js')).confirmReplace(targetDir, io))) return state;
    throw new UsageError(
      `${targetDir} is not empty; nothing was written.`,
      'Choose a new directory, or pass --force to replace its contents (.git, .env and secrets/ are kept).',
    );
  }
  return state;
}

function describePlan(plan: readonly PlanEntry[], answers: Answers, state: string): string {
  const lines = [
    `Dry run: would create ${answers.name} in ${answers.targetDir}${state === 'non-empty' ? ' (replacing its contents)' : ''}; nothing is written.`,
    `Answers: redis=${answers.redis} instances=${answers.instances} pm=${answers.pm} install=${answers.install} git=${answers.git}`,
    '',
  ];
  for (const entry of plan) lines.push(`  ${entry.kind.padEnd(6)}  ${entry.target}`);
  lines.push(`  ${'write'.padEnd(6)}  ${MANIFEST_FILE}`);
  lines.push(`  ${'write'.padEnd(6)}  ${ENV_FILE}  (${ENV_EXAMPLE_FILE} with a random AUTH_SECRET; git-ignored)`);
  for (const file of REDIS_SECRET_FILES) lines.push(`  ${'write'.padEnd(6)}  ${SECRETS_DIR}/${file}  (a random password; git-ignored)`);
  lines.push('', `${plan.length + GENERATED_FILES} files.`);
  return lines.join('\n');
}

/** Written by the generator itself rather than taken from templates/: volt-scaled.json, .env and the Redis secrets. */
const GENERATED_FILES = 2 + REDIS_SECRET_FILES.length;

function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI?.toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}
