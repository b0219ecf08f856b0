/**
 * A real nginx running a config text, with the compose hostnames (app1, ...)
 * resolved through a private hosts file as under `npm run stack`, listening
 * on a free loopback port. Its stdout (the access log) and stderr go to a
 * file, read back as JSON lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localNginxConfig, nginxArgs } from '../../../templates/scripts/stack/nginx.js';
import { inPrivateHosts } from '../../../templates/scripts/stack/private-hosts.js';
import { findProgram } from '../../../templates/scripts/stack/requirements.js';

export interface NginxProcess {
  port: number;
  /** Every access log line so far, parsed (lines that are not JSON objects are kept as `{ raw }`). */
  accessLog(): Array<Record<string, unknown>>;
  /** Everything nginx wrote, as text. */
  output(): string;
  stop(): Promise<void>;
}

export async function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts nginx on `source` (the rendered nginx.conf) with its `listen` line moved to a free port. */
export async function startNginx(source: string, hosts: Record<string, string>): Promise<NginxProcess> {
  const nginx = findProgram('nginx');
  if (!nginx) throw new Error('nginx is not installed (Debian/Ubuntu: apt-get install nginx)');
  const dir = await mkdtemp(path.join(tmpdir(), 'nginx-run-'));
  const prefix = `${path.join(dir, 'prefix')}/`;
  await mkdir(prefix);
  const hostsFile = path.join(dir, 'hosts');
  await writeFile(
    hostsFile,
    `127.0.0.1 localhost\n${Object.entries(hosts)
      .map(([name, address]) => `${address} ${name}\n`)
      .join('')}`,
  );
  const port = await freeLoopbackPort();
  const configFile = path.join(dir, 'nginx.conf');
  await writeFile(configFile, localNginxConfig(source, port));
  const outputFile = path.join(dir, 'output.log');
  const fd = openSync(outputFile, 'w');
  const [program, args] = inPrivateHosts(hostsFile, nginx, nginxArgs(prefix, configFile));
  const child: ChildProcess = spawn(program, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = () => readFileSync(outputFile, 'utf8');
  // Ready once it accepts connections (or gone, with its error in the output).
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${output()}`);
    if (await accepts(port)) break;
    if (attempt > 100) throw new Error(`nginx did not listen on ${port} within 5 s:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    output,
    accessLog: () =>
      output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return { raw: line };
          }
        }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGQUIT would wait for open streams; tests want it gone.
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
