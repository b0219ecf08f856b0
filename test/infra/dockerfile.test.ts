import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// hadolint is not packaged for Debian bookworm; these checks read the file
// for the properties the image must have and run its HEALTHCHECK for real.
const templates = path.join(import.meta.dirname, '..', '..', 'templates');
const dockerfile = readFileSync(path.join(templates, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

function healthcheckCommand(): string[] {
  const line = instructions.find((l) => l.startsWith('HEALTHCHECK'));
  const exec = line && /\bCMD (\[.*\])$/.exec(line);
  if (!exec) throw new Error('no exec-form HEALTHCHECK CMD in the Dockerfile');
  return JSON.parse(exec[1]!) as string[];
}

async function runHealthcheck(port: number): Promise<number> {
  const [command, ...args] = healthcheckCommand();
  expect(command).toBe('node');
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { PORT: String(port) }, timeout: 10_000 }, (error) => {
      resolve(error ? Number((error as { code?: number }).code ?? 1) : 0);
    });
  });
}

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function serveLive(status: number): Promise<number> {
  server = createServer((req, res) => {
    res.statusCode = req.url === '/health/live' ? status : 404;
    res.end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('Dockerfile', () => {
  it('builds in deps, build and runtime stages on node:24-bookworm-slim', () => {
    expect(instructions).toContain('ARG NODE_IMAGE=node:24-bookworm-slim');
    // No `# syntax=` line: BuildKit would fetch that frontend image from a registry first.
    expect(dockerfile).not.toMatch(/^# *syntax=/im);
    const stages = instructions.filter((l) => l.startsWith('FROM')).map((l) => l.split(/\s+/).at(-1));
    expect(stages).toEqual(['deps', 'build', 'runtime']);
  });

  it('installs only production dependencies in the runtime stage and runs as the node user', () => {
    const runtime = instructions.slice(instructions.findIndex((l) => l.endsWith('AS runtime')));
    expect(runtime.join('\n')).toContain('npm ci --omit=dev');
    expect(runtime.join('\n')).not.toMatch(/npm ci(?! --omit=dev)/);
    expect(runtime).toContain('USER node');
    // Source maps on: production stack traces name the TypeScript files.
    expect(runtime.at(-1)).toBe('CMD ["node", "--enable-source-maps", "dist/server.js"]');
  });

  it('has a HEALTHCHECK that passes on a live /health/live', async () => {
    expect(await runHealthcheck(await serveLive(200))).toBe(0);
  });

  it('has a HEALTHCHECK that fails on an error status', async () => {
    expect(await runHealthcheck(await serveLive(503))).toBe(1);
  });

  it('has a HEALTHCHECK that fails when nothing listens', async () => {
    const port = await serveLive(200);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    expect(await runHealthcheck(port)).toBe(1);
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(path.join(templates, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  it('keeps dependencies, build output, local state and secrets out of the build context', () => {
    for (const entry of ['node_modules', 'dist', '.git', '.stack', '.env', '.env.*']) expect(ignored).toContain(entry);
    expect(ignored).toContain('!.env.example');
  });
});
