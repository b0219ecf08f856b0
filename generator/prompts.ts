import { cancel, confirm, intro, isCancel, select, text, type CommonOptions } from '@clack/prompts';
import { MAX_INSTANCES, MIN_INSTANCES, parseInstances, type CliFlags } from './args.js';
import { DEFAULTS, resolveTarget, type Answers } from './answers.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';
import { PACKAGE_MANAGERS, type PackageManager } from './package-manager.js';

/** Thrown when the user presses Ctrl+C or Escape in a prompt; nothing has been written yet. */
function cancelled(io: Io): never {
  cancel('Cancelled; nothing was written.', { output: io.stdout });
  throw new UsageError('Cancelled by the user.', undefined);
}

function answered<T>(value: T, io: Io): Exclude<T, symbol> {
  if (isCancel(value)) cancelled(io);
  return value as Exclude<T, symbol>;
}

/** Asks for every answer the flags did not give; flags are never asked again. */
export async function promptAnswers(flags: CliFlags, context: { io: Io; detectedPm: PackageManager; version: string }): Promise<Answers> {
  const { io, detectedPm, version } = context;
  const streams: CommonOptions = { input: io.stdin, output: io.stdout };
  intro(`create-volt-scaled ${version}`, streams);

  const dir =
    flags.dir ??
    answered(
      await text({
        ...streams,
        message: 'Project directory (its name is the package name)',
        placeholder: DEFAULTS.dir,
        defaultValue: DEFAULTS.dir,
        validate: (value) => {
          try {
            resolveTarget(value || DEFAULTS.dir, io.cwd);
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        },
      }),
      io,
    );

  const redis =
    flags.redis ??
    answered(
      await select({
        ...streams,
        message: 'Redis topology',
        initialValue: DEFAULTS.redis as Answers['redis'],
        options: [
          { value: 'standalone' as const, label: 'standalone', hint: 'one Redis server' },
          { value: 'cluster' as const, label: 'cluster', hint: '6-node Redis Cluster (3 masters, 3 replicas)' },
        ],
      }),
      io,
    );

  const instances =
    flags.instances ??
    parseInstances(
      answered(
        await text({
          ...streams,
          message: `App instances behind nginx (${MIN_INSTANCES}-${MAX_INSTANCES})`,
          placeholder: String(DEFAULTS.instances),
          defaultValue: String(DEFAULTS.instances),
          validate: (value) => {
            try {
              parseInstances(value || String(DEFAULTS.instances));
              return undefined;
            } catch (error) {
              return (error as Error).message.replace('--instances', 'Instances');
            }
          },
        }),
        io,
      ) || String(DEFAULTS.instances),
    );

  const pm =
    flags.pm ??
    answered(
      await select({
        ...streams,
        message: 'Package manager',
        initialValue: detectedPm,
        options: PACKAGE_MANAGERS.map((value) => ({ value, label: value })),
      }),
      io,
    );

  const install = flags.install ?? answered(await confirm({ ...streams, message: `Install dependencies with ${pm}?`, initialValue: DEFAULTS.install }), io);
  const git = flags.git ?? answered(await confirm({ ...streams, message: 'Create a git repository?', initialValue: DEFAULTS.git }), io);

  return { ...resolveTarget(dir || DEFAULTS.dir, io.cwd), redis, instances, pm, install, git };
}

/** Interactive mode asks before replacing a non-empty directory instead of refusing outright. */
export async function confirmReplace(targetDir: string, io: Io): Promise<boolean> {
  return answered(
    await confirm({
      input: io.stdin,
      output: io.stdout,
      message: `${targetDir} is not empty. Replace its contents (.git and .env are kept)?`,
      initialValue: false,
    }),
    io,
  );
}
