/**
 * What a failing request tells the client: a generic 500 unless the process
 * was started with EXPOSE_ERRORS=true (`npm run dev` sets it). NODE_ENV
 * has no say: left unset it means development, which must not leak internals.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/volt/index.js';
import { startApp } from '../support/app-process.js';
import { serve } from '../support/serve.js';

/** A loopback port nothing listens on: Redis there is unreachable. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function startWithUnreachableRedis(env: Record<string, string>): Promise<string> {
  const config = loadConfig({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, LOG_LEVEL: 'silent', METRICS_PORT: 'off', ...env });
  const app = createApp(config, { logger: silentLogger });
  apps.push(app);
  return (await serve(app.server)).url;
}

async function createNote(base: string): Promise<{ status: number; body: { data: unknown; error: Record<string, unknown> } }> {
  const response = await fetch(`${base}/api/v1/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hello"}' });
  return { status: response.status, body: (await response.json()) as never };
}

describe('error responses', () => {
  it('NODE_ENV unset and Redis unreachable: a generic 500 with no stack and no internal message', async () => {
    const base = await startWithUnreachableRedis({});
    const { status, body } = await createNote(base);
    expect(status).toBe(500);
    expect(body).toEqual({ data: null, error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
  });

  it('NODE_ENV=development alone does not expose either', async () => {
    const base = await startWithUnreachableRedis({ NODE_ENV: 'development' });
    expect((await createNote(base)).body.error).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
  });

  it('EXPOSE_ERRORS=true puts the message and the stack in the envelope', async () => {
    const base = await startWithUnreachableRedis({ EXPOSE_ERRORS: 'true' });
    const { status, body } = await createNote(base);
    expect(status).toBe(500);
    expect(body.error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(body.error.message).not.toBe('Internal server error');
    expect(body.error.stack).toEqual(expect.stringContaining('\n    at '));
  });

  it('EXPOSE_ERRORS accepts only true or false', () => {
    expect(loadConfig({}).exposeErrors).toBe(false);
    expect(loadConfig({ EXPOSE_ERRORS: 'false' }).exposeErrors).toBe(false);
    expect(() => loadConfig({ EXPOSE_ERRORS: 'yes' })).toThrow(/EXPOSE_ERRORS/);
  });

  it('npm run dev exposes them whatever .env says, with a script that needs no POSIX shell', async () => {
    const manifest = ['package.json', 'package.json.hbs'].map((name) => new URL(`../../${name}`, import.meta.url)).find((url) => exists(url))!;
    const scripts = JSON.parse(/"scripts":\s*(\{[^}]*\})/.exec(readFileSync(manifest, 'utf8'))![1]!) as Record<string, string>;
    expect(scripts.dev).toMatch(/ src\/dev\.ts$/);
    expect(Object.values(scripts).filter((command) => /(^|\s)[A-Z_]+=/.test(command))).toEqual([]);

    // As the generated .env says: EXPOSE_ERRORS=false.
    const dev = await startApp(
      'dev',
      { REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, LOG_LEVEL: 'silent', EXPOSE_ERRORS: 'false' },
      { entry: 'src/dev.ts' },
    );
    try {
      const { status, body } = await createNote(dev.url);
      expect(status).toBe(500);
      expect(body.error.stack).toEqual(expect.stringContaining('\n    at '));
    } finally {
      await dev.kill();
    }
  }, 30_000);
});

function exists(url: URL): boolean {
  try {
    readFileSync(url);
    return true;
  } catch {
    return false;
  }
}
