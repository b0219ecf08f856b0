import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { serve } from '../support/serve.js';
import { SseClient } from '../support/sse-client.js';

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
    // Scripts and styles are files of their own (a strict Content-Security-Policy allows no inline code).
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    for (const file of ['/app.js', '/api.js', '/session.js', '/app.css']) {
      const res = await fetch(`${base}${file}`);
      expect(res.status, file).toBe(200);
    }
    const script = await fetch(`${base}/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await script.text();
    expect(code).toContain('new EventSource(');
    // The page's script imports its other modules from public/.
    expect(code).toContain("import { showNoteStats } from './note-stats.js';");
    expect(code).toContain("addEventListener('note.stats'");
    const stats = await fetch(`${base}/note-stats.js`);
    expect(stats.status).toBe(200);
    expect(stats.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await stats.text()).toContain('export function showNoteStats(');
    const etag = page.headers.get('etag')!;
    const again = await fetch(`${base}/index.html`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect((await fetch(`${base}/nope.html`)).status).toBe(404);
  });

  it('sends the page with a strict Content-Security-Policy: no inline script or style, same-origin everything, no framing', async () => {
    const page = await fetch(`${base}/`);
    const policy = page.headers.get('content-security-policy')!;
    const directives = new Map(
      policy
        .split(';')
        .map((part) => part.trim().split(/\s+/))
        .map(([name, ...values]) => [name!, values]),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(policy).not.toMatch(/unsafe-|data:|\*/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    // The page carries no inline code for that policy to block: no inline script, style or handler.
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    // The API keeps its own policy (nothing to render, never framed).
    expect((await fetch(`${base}/api/v1/ping`)).headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
  });

  it('serves the page whatever query string follows its path (cache busters, tracking parameters)', async () => {
    const page = await (await fetch(`${base}/`)).text();
    for (const path of ['/?x=1', '/index.html?v=1', '/?', '/index.html?a=1&b=%20']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(await response.text(), path).toBe(page);
    }
    // The query never turns a missing file into the page, nor reaches the API as a page.
    expect((await fetch(`${base}/nope.html?x=1`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/ping?x=1`)).headers.get('content-type')).toMatch(/^application\/json/);
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

  it("shows a new note's word statistics as they arrive from the job that computed them", async () => {
    const port = Number(new URL(base).port);
    const stream = await SseClient.open({ port, path: '/api/v1/sse/events?channels=notes' });
    try {
      const created = await fetch(`${base}/api/v1/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'Background jobs compute these words, these very words' }),
      });
      expect(created.status).toBe(201);
      const note = ((await created.json()) as { data: { id: number } }).data;
      await stream.waitFor((client) => client.events.some((event) => event.event === 'note.stats'), 10_000, 'a note.stats event');
      const stats = JSON.parse(stream.events.find((event) => event.event === 'note.stats')!.data).data;
      expect(stats).toEqual({
        noteId: note.id,
        words: 8,
        uniqueWords: 6,
        characters: 53,
        readingSeconds: 3,
        jobId: expect.any(String),
        instanceId: 'page-test',
      });
    } finally {
      stream.close();
    }
  });
});
