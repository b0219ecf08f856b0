import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { serve } from '../support/serve.js';

describe('the demo page and the stats it shows', () => {
  let app: App;
  let base: string;

  beforeAll(async () => {
    app = createApp(loadConfig({ NODE_ENV: 'test', INSTANCE_ID: 'page-test', LOG_LEVEL: 'silent', METRICS_PORT: '0' }));
    base = (await serve(app.server)).url;
  });
  afterAll(() => app.close());

  it('serves public/index.html at / with an ETag, and 304 when unchanged', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('x-instance-id')).toBe('page-test');
    const html = await page.text();
    expect(html).toContain('new EventSource(');
    const etag = page.headers.get('etag')!;
    const again = await fetch(`${base}/index.html`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect((await fetch(`${base}/nope.html`)).status).toBe(404);
  });

  it('reports the cache hit ratio of the instance, moving with lookups', async () => {
    const before = (await (await fetch(`${base}/api/v1/stats`)).json()) as { data: { instanceId: string; cache: { hits: number; misses: number } } };
    expect(before.data.instanceId).toBe('page-test');
    await fetch(`${base}/api/v1/notes`);
    await fetch(`${base}/api/v1/notes`);
    const after = (await (await fetch(`${base}/api/v1/stats`)).json()) as {
      data: { cache: { hits: number; misses: number; hitPercentage: number | null } };
    };
    expect(after.data.cache.hits + after.data.cache.misses).toBe(before.data.cache.hits + before.data.cache.misses + 2);
    expect(after.data.cache.hits).toBeGreaterThan(before.data.cache.hits);
    expect(after.data.cache.hitPercentage).toBeGreaterThan(0);
  });
});
