import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkUpstream, localNginxConfig, nginxArgs, upstreamServers } from '../../templates/scripts/stack/nginx.js';
import { inPrivateHosts } from '../../templates/scripts/stack/private-hosts.js';
import { findProgram } from '../../templates/scripts/stack/requirements.js';
import { renderProjectFiles } from './support/render-project-files.js';

/** `nginx -t` on a config, with app1..appN resolved through a private hosts file. */
async function nginxTest(configFile: string, hostNames: string[]): Promise<{ code: number; output: string }> {
  const nginx = findProgram('nginx');
  if (!nginx) throw new Error('nginx is not installed (Debian/Ubuntu: apt-get install nginx)');
  const dir = await mkdtemp(path.join(tmpdir(), 'nginx-t-'));
  const hosts = path.join(dir, 'hosts');
  await writeFile(hosts, `${['127.0.0.1 localhost', ...hostNames.map((name, i) => `127.0.0.${i + 2} ${name}`)].join('\n')}\n`);
  const prefix = `${path.join(dir, 'prefix')}/`;
  await mkdir(prefix);
  const [program, args] = inPrivateHosts(hosts, nginx, nginxArgs(prefix, configFile, true));
  // Output to a file, as under docker and npm run stack: nginx opens
  // /dev/stdout for the access log, which fails on a socket (a child's pipe in Node).
  const outputFile = path.join(dir, 'output.log');
  const fd = openSync(outputFile, 'w');
  const code = await new Promise<number>((resolve, reject) => {
    spawn(program, args, { stdio: ['ignore', fd, fd] })
      .on('error', reject)
      .on('exit', (exitCode) => resolve(exitCode ?? 1));
  }).finally(() => closeSync(fd));
  return { code, output: await readFile(outputFile, 'utf8') };
}

const apps = (n: number) => Array.from({ length: n }, (_, i) => `app${i + 1}`);
const renderNginx = (instances: number) =>
  renderProjectFiles({ redis: 'cluster', instances }, (target) => target === 'infra/nginx/nginx.conf').then((dir) =>
    path.join(dir, 'infra', 'nginx', 'nginx.conf'),
  );

describe.each([1, 3, 16])('nginx.conf for --instances %i', (instances) => {
  it('passes nginx -t with app1..appN resolvable', async () => {
    const file = await renderNginx(instances);
    expect(upstreamServers(await readFile(file, 'utf8'))).toEqual(apps(instances).map((a) => `${a}:3000`));
    const { code, output } = await nginxTest(file, apps(instances));
    expect(output).toBe('');
    expect(code).toBe(0);
  });
});

describe('nginx.conf', () => {
  it('is rejected by nginx -t when an upstream host does not resolve (the check is real)', async () => {
    const file = await renderNginx(3);
    const { code, output } = await nginxTest(file, apps(2));
    expect(code).not.toBe(0);
    expect(output).toContain('host not found in upstream "app3:3000"');
  });

  it('still passes nginx -t with the listen line npm run stack uses', async () => {
    const file = await renderNginx(2);
    const local = path.join(path.dirname(file), 'nginx.local.conf');
    const config = localNginxConfig(await readFile(file, 'utf8'), 18080);
    expect(config).toContain('listen 127.0.0.1:18080;');
    await writeFile(local, config);
    expect(await nginxTest(local, apps(2))).toEqual({ code: 0, output: '' });
  });

  it('is refused by the stack when its upstream and the instance count disagree', async () => {
    const file = await renderNginx(2);
    expect(() => checkUpstream(file, apps(2), 3000)).not.toThrow();
    expect(() => checkUpstream(file, apps(3), 3000)).toThrow(/proxies to app1:3000, app2:3000, but the stack runs app1:3000, app2:3000, app3:3000/);
  });
});
