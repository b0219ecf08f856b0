import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../generator/args.js';
import { UsageError } from '../../generator/errors.js';

describe('parseCliArgs', () => {
  it('leaves every answer undefined when no flag is given', () => {
    expect(parseCliArgs([])).toEqual({
      dir: undefined,
      yes: false,
      redis: undefined,
      instances: undefined,
      pm: undefined,
      install: undefined,
      git: undefined,
      dryRun: false,
      force: false,
      help: false,
      version: false,
    });
  });

  it('reads the directory and every flag', () => {
    const flags = parseCliArgs(['app', '-y', '--redis', 'cluster', '--instances', '3', '--pm', 'pnpm', '--no-install', '--no-git', '--dry-run', '--force']);
    expect(flags).toMatchObject({
      dir: 'app',
      yes: true,
      redis: 'cluster',
      instances: 3,
      pm: 'pnpm',
      install: false,
      git: false,
      dryRun: true,
      force: true,
    });
  });

  it('accepts --flag=value and short -h / -v', () => {
    expect(parseCliArgs(['--redis=standalone', '--instances=16']).instances).toBe(16);
    expect(parseCliArgs(['-h']).help).toBe(true);
    expect(parseCliArgs(['-v']).version).toBe(true);
  });

  it.each([
    [['--frobnicate'], /Unknown option --frobnicate/],
    [['-x'], /Unknown option -x/],
    [['--redis', 'nope'], /--redis must be one of standalone, cluster; got "nope"/],
    [['--instances', '0'], /--instances must be a whole number from 1 to 16; got "0"/],
    [['--instances', '17'], /got "17"/],
    [['--instances', 'abc'], /got "abc"/],
    [['--instances', '2.5'], /got "2.5"/],
    [['--instances', '-1'], /--instances/],
    [['--pm', 'pip'], /--pm must be one of npm, pnpm, yarn, bun; got "pip"/],
    [['--redis'], /--redis/],
    [['a', 'b'], /Expected one project directory, got 2/],
  ])('rejects %j as a usage error', (argv, message) => {
    let caught: unknown;
    try {
      parseCliArgs(argv);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).toMatch(message);
  });
});
