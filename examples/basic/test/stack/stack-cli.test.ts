/** `npm run stack` refuses bad input with a message that says what to do, and starts nothing. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { infraForTests, projectRoot } from './harness.js';

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const script = path.join(projectRoot, 'scripts', 'stack', 'main.ts');

function stack(...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsxCli, script, ...args], { cwd: projectRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

let infra: { infraDir: string; instances: number };
let stateDir: string;
beforeAll(async () => {
  infra = await infraForTests();
  stateDir = mkdtempSync(path.join(tmpdir(), 'stack-cli-'));
});

describe('npm run stack, bad input', () => {
  it('rejects an unknown command and an unknown option', async () => {
    const command = await stack('launch', '--state-dir', stateDir);
    expect(command.code).toBe(1);
    expect(command.output).toContain('unknown command "launch"');
    const option = await stack('start', '--replicas', '3', '--state-dir', stateDir);
    expect(option.code).toBe(1);
    expect(option.output).toMatch(/Unknown option '--replicas'/);
  });

  it('rejects a bad --redis or --instances value', async () => {
    const redis = await stack('start', '--redis', 'sentinel', '--infra', infra.infraDir, '--state-dir', stateDir);
    expect(redis.code).toBe(1);
    expect(redis.output).toContain('--redis must be standalone or cluster; got "sentinel"');
    const instances = await stack('start', '--instances', '0', '--infra', infra.infraDir, '--state-dir', stateDir);
    expect(instances.code).toBe(1);
    expect(instances.output).toContain('--instances must be a whole number from 1 to 16; got "0"');
  });

  it('refuses an instance count that nginx.conf does not proxy to', async () => {
    const other = String(infra.instances + 1);
    const result = await stack('start', '--instances', other, '--infra', infra.infraDir, '--state-dir', stateDir);
    expect(result.code).toBe(1);
    expect(result.output).toContain(`but the stack runs`);
    expect(result.output).toContain(`app${other}:3000`);
  });

  it('says where the configuration is missing', async () => {
    const result = await stack('start', '--infra', path.join(stateDir, 'no-such-infra'), '--state-dir', stateDir);
    expect(result.code).toBe(1);
    expect(result.output).toContain(`${path.join(stateDir, 'no-such-infra', 'nginx', 'nginx.conf')} not found`);
    expect(existsSync(path.join(stateDir, 'state.json'))).toBe(false);
  });

  it('reports when no stack runs, for status and stop', async () => {
    const status = await stack('status', '--state-dir', stateDir);
    expect(status.code).toBe(1);
    expect(status.output).toContain('No stack in');
    const stop = await stack('stop', '--state-dir', stateDir);
    expect(stop.code).toBe(0);
    expect(stop.output).toContain('nothing to stop');
  });
});
