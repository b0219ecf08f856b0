import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { answersFromFlags, DEFAULTS, projectNameFromDir, resolveTarget } from '../../generator/answers.js';
import { parseCliArgs } from '../../generator/args.js';
import { UsageError } from '../../generator/errors.js';
import { commandsFor, detectPackageManager } from '../../generator/package-manager.js';
import { projectNameProblem } from '../../generator/project-name.js';

const cwd = '/home/someone/code';

describe('project name', () => {
  it.each(['my-app', 'app2', 'volt.api', 'a_b'])('accepts %s', (name) => {
    expect(projectNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['My App!', /not a valid npm package name/],
    ['..', /not a project name/],
    ['node_modules', /node_modules is not a valid package name|blacklisted|not a valid npm package name/],
    ['.hidden', /not a valid npm package name/],
    ['http', /core module/],
    ['UPPER', /capital letters/],
  ])('rejects %s', (name, message) => {
    expect(projectNameProblem(name)).toMatch(message);
  });

  it('is the basename of the directory, or of cwd for "."', () => {
    expect(projectNameFromDir('projects/my-app', cwd)).toBe('my-app');
    expect(projectNameFromDir('my-app/', cwd)).toBe('my-app');
    expect(projectNameFromDir('.', cwd)).toBe('code');
    expect(projectNameFromDir('..', cwd)).toBe('..');
  });

  it('resolves the target against cwd and refuses bad names with a usage error', () => {
    expect(resolveTarget('my-app', cwd)).toEqual({ targetDir: path.join(cwd, 'my-app'), name: 'my-app' });
    expect(() => resolveTarget('My App!', cwd)).toThrow(UsageError);
    expect(() => resolveTarget('..', cwd)).toThrow(UsageError);
  });
});

describe('package manager detection', () => {
  it.each([
    ['npm/11.6.0 node/v20.20.2 linux x64 workspaces/false', 'npm'],
    ['pnpm/9.12.0 npm/? node/v20.20.2 linux x64', 'pnpm'],
    ['yarn/1.22.22 npm/? node/v20.20.2 linux x64', 'yarn'],
    ['bun/1.1.30 npm/? node/v20.20.2 linux x64', 'bun'],
    ['cnpm/9 node/v20', 'npm'],
    ['', 'npm'],
  ])('reads %j as %s', (agent, expected) => {
    expect(detectPackageManager({ npm_config_user_agent: agent })).toBe(expected);
  });

  it('defaults to npm without a user agent', () => {
    expect(detectPackageManager({})).toBe('npm');
  });

  it("knows each manager's command syntax", () => {
    expect(commandsFor('npm').run('dev')).toBe('npm run dev');
    expect(commandsFor('pnpm').run('dev')).toBe('pnpm dev');
    expect(commandsFor('yarn').run('dev')).toBe('yarn dev');
    expect(commandsFor('bun').run('dev')).toBe('bun run dev');
    expect(commandsFor('yarn').install).toBe('yarn install');
    expect(commandsFor('npm').run('stack', ['start'])).toBe('npm run stack -- start');
    expect(commandsFor('yarn').run('stack', ['start'])).toBe('yarn stack start');
  });
});

describe('answersFromFlags', () => {
  it('fills every missing answer with its default', () => {
    const answers = answersFromFlags(parseCliArgs(['--yes']), { cwd, detectedPm: 'npm' });
    expect(answers).toEqual({
      targetDir: path.join(cwd, DEFAULTS.dir),
      name: DEFAULTS.dir,
      redis: 'standalone',
      instances: 2,
      pm: 'npm',
      install: true,
      git: true,
    });
  });

  it('takes the detected package manager unless --pm says otherwise', () => {
    expect(answersFromFlags(parseCliArgs(['x']), { cwd, detectedPm: 'pnpm' }).pm).toBe('pnpm');
    expect(answersFromFlags(parseCliArgs(['x', '--pm', 'bun']), { cwd, detectedPm: 'pnpm' }).pm).toBe('bun');
  });

  it('lets flags override defaults', () => {
    const answers = answersFromFlags(parseCliArgs(['svc', '--redis', 'cluster', '--instances', '5', '--no-install', '--no-git']), { cwd, detectedPm: 'npm' });
    expect(answers).toMatchObject({ name: 'svc', redis: 'cluster', instances: 5, install: false, git: false });
  });
});
