import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDocsServer, findScalarBundle, silentLogger, Volt } from '../../src/volt/index.js';
import { getJson, serve, type Served } from './kernel/harness.js';

const testConfig = (env: Record<string, string> = {}) =>
  loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', INSTANCE_ID: 'docs', METRICS_PORT: 'off', ...env });

let app: App;
let base: string;

beforeAll(async () => {
  app = createApp(testConfig(), { logger: silentLogger });
  base = (await serve(app.server)).url;
});
afterAll(() => app.close());

describe('/docs: the API reference page', { timeout: 30_000 }, () => {
  it('is an HTML page that loads only same-origin scripts, under its own Content-Security-Policy', async () => {
    const res = await fetch(`${base}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval|https?:)/);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1]!);
    // Every executable script has a same-origin src; the settings are a JSON data block.
    expect(scripts.filter((attributes) => !attributes.includes('type="application/json"'))).toEqual([' src="/docs/scalar.js"', ' src="/docs/init.js"']);
    expect(html).toContain('"url":"/api/v1/openapi.json"');
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${base}/docs/`)).status).toBe(200);
  });

  it('serves the installed @scalar/api-reference bundle, gzipped when asked, revalidated by ETag', async () => {
    const bundle = readFileSync(findScalarBundle()!);
    const plain = await fetch(`${base}/docs/scalar.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(Buffer.from(await plain.arrayBuffer()).equals(bundle)).toBe(true);

    // fetch() would decode gzip itself: read the raw bytes with a plain request.
    const { request } = await import('node:http');
    const zipped = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(`${base}/docs/scalar.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(bundle.length / 2);
    expect(gunzipSync(zipped.body).equals(bundle)).toBe(true);

    const etag = plain.headers.get('etag')!;
    const again = await fetch(`${base}/docs/scalar.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const head = await fetch(`${base}/docs/init.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('serves the document as JSON at {basePATH}/openapi.json', async () => {
    const res = await getJson(`${base}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Object.keys(res.body.paths)).toContain('/api/v1/notes/{id}');
  });

  it('leaves other methods and paths to the 404 and 405 they had', async () => {
    expect((await getJson(`${base}/docs`, { method: 'POST' })).body.error.code).toBe('NOT_FOUND');
    expect((await getJson(`${base}/docs/other.js`)).status).toBe(404);
    expect((await getJson(`${base}/api/v1/notes`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('API_DOCS', () => {
  it('is on by default except in production, where API_DOCS=true turns it on', () => {
    expect(testConfig().apiDocs).toBe(true);
    expect(testConfig({ NODE_ENV: 'development' }).apiDocs).toBe(true);
    expect(testConfig({ NODE_ENV: 'production' }).apiDocs).toBe(false);
    expect(testConfig({ NODE_ENV: 'production', API_DOCS: 'true' }).apiDocs).toBe(true);
    expect(testConfig({ API_DOCS: 'false' }).apiDocs).toBe(false);
    expect(() => testConfig({ API_DOCS: 'maybe' })).toThrow(/API_DOCS/);
  });

  it('off: /docs and the document answer 404, the API is unchanged', async () => {
    const off = createApp(testConfig({ API_DOCS: 'false' }), { logger: silentLogger });
    const served = await serve(off.server);
    try {
      expect((await getJson(`${served.url}/docs`)).status).toBe(404);
      expect((await getJson(`${served.url}/docs/scalar.js`)).status).toBe(404);
      const spec = await getJson(`${served.url}/api/v1/openapi.json`);
      expect(spec.status).toBe(404);
      expect(spec.body.error.code).toBe('NOT_FOUND');
      expect((await getJson(`${served.url}/api/v1/ping`)).body).toEqual({ data: { pong: true }, error: null });
      // The document can still be built (npm run docs).
      expect(off.router.openapi().paths['/api/v1/ping']).toBeDefined();
    } finally {
      await served.close();
      await off.close();
    }
  });

  it('follows BASE_PATH', async () => {
    const moved = createApp(testConfig({ BASE_PATH: '/v2' }), { logger: silentLogger });
    const served = await serve(moved.server);
    try {
      const spec = await getJson(`${served.url}/v2/openapi.json`);
      expect(spec.status).toBe(200);
      expect(Object.keys(spec.body.paths)).toContain('/v2/notes');
      expect(await (await fetch(`${served.url}/docs`)).text()).toContain('"url":"/v2/openapi.json"');
    } finally {
      await served.close();
      await moved.close();
    }
  });
});

describe('playground.security (Volt.js)', () => {
  const volt = Volt.context({}).create();
  const controllers = {
    items: volt.controller({ name: 'items', path: '/items', actions: { list: volt.query({ path: '/', output: z.array(z.string()), handler: () => [] }) } }),
  };
  let served: Served;
  const seen: Request[] = [];
  beforeAll(async () => {
    const router = volt.router({
      controllers,
      docs: {
        playground: {
          security: (request) => {
            seen.push(request);
            const key = request.headers.get('x-docs-key');
            if (key === null) throw new Error('no key');
            return key === 'open-sesame';
          },
        },
      },
    });
    served = await serve(router.listener);
  });
  afterAll(() => served.close());

  it('receives a Fetch Request; false answers 403, a throw 401, true the page', async () => {
    expect((await getJson(`${served.url}/docs`)).status).toBe(401);
    const denied = await getJson(`${served.url}/api/v1/openapi.json`, { headers: { 'x-docs-key': 'wrong' } });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('FORBIDDEN');
    expect((await fetch(`${served.url}/docs`, { headers: { 'x-docs-key': 'open-sesame' } })).status).toBe(200);
    const spec = await getJson(`${served.url}/api/v1/openapi.json`, { headers: { 'x-docs-key': 'open-sesame' } });
    expect(Object.keys(spec.body.paths)).toEqual(['/api/v1/items']);
    expect(seen.at(-1)).toBeInstanceOf(Request);
    expect(new URL(seen.at(-1)!.url).pathname).toBe('/api/v1/openapi.json');
  });

  it('is served by the Fetch handler too', async () => {
    const router = volt.router({ controllers, docs: {} });
    const page = await router.handler(new Request('http://localhost/docs'));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/docs/scalar.js');
    const spec = await router.handler(new Request('http://localhost/api/v1/openapi.json'));
    expect(((await spec.json()) as { info: { title: string } }).info.title).toBe('API');
  });
});

describe('without the @scalar/api-reference bundle', () => {
  it('fails at start with what to install', () => {
    expect(() => createDocsServer({ basePATH: '/api/v1', docs: {}, document: () => ({}) as never, logger: silentLogger, findBundle: () => undefined })).toThrow(
      /needs @scalar\/api-reference .*node_modules\/@scalar\/api-reference\/dist\/browser\/standalone\.js was not found/,
    );
  });

  it('looks the bundle up from a directory like a package, and finds nothing outside a project', () => {
    expect(findScalarBundle()).toMatch(/node_modules\/@scalar\/api-reference\/dist\/browser\/standalone\.js$/);
    expect(findScalarBundle('/nonexistent/dir/file.js')).toBeUndefined();
  });
});
