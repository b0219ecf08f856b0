/**
 * The API reference at /docs in a real browser (Debian's chromium driven by
 * playwright-core), served by the app from the installed @scalar/api-reference
 * bundle: it shows the notes operations from the app's OpenAPI document, asks
 * nothing of any other origin (no CDN, no fonts, no telemetry) and breaks none
 * of its Content-Security-Policy. Screenshots go to test-results/browser/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../templates/src/app.js';
import { loadConfig } from '../../templates/src/config.js';
import { silentLogger } from '../../templates/src/volt/index.js';
import { AUTH_ENV, signToken } from '../../templates/test/support/auth-tokens.js';
import { serve, type Served } from '../../templates/test/support/serve.js';
import { launchChromium } from '../support/chromium.js';

const SCREENSHOTS = path.resolve(import.meta.dirname, '..', '..', 'test-results', 'browser');

let app: App;
let served: Served;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  app = createApp(loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', INSTANCE_ID: 'docs-browser', METRICS_PORT: 'off', ...AUTH_ENV }), {
    logger: silentLogger,
  });
  served = await serve(app.server);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  await app?.close();
});

interface Watched {
  page: Page;
  /** Requests to any origin but the app's (each is also refused). */
  foreign: string[];
  /** `securitypolicyviolation` events and console errors. */
  violations: string[];
  consoleErrors: string[];
  requested: string[];
  /** The Content-Security-Policy the page arrived with. */
  policy: string;
}

async function openDocs(): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const watched: Watched = { page, foreign: [], violations: [], consoleErrors: [], requested: [], policy: '' };
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === served.url) {
      watched.requested.push(new URL(url).pathname);
      return route.continue();
    }
    watched.foreign.push(url);
    return route.abort();
  });
  await page.exposeFunction('reportViolation', (text: string) => watched.violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      (window as unknown as { reportViolation(text: string): void }).reportViolation(`${event.violatedDirective}: ${event.blockedURI}`);
    });
  });
  page.on('console', (message) => {
    if (message.type() === 'error') watched.consoleErrors.push(message.text());
  });
  const response = await page.goto(`${served.url}/docs`);
  watched.policy = (await response?.allHeaders())?.['content-security-policy'] ?? '';
  return watched;
}

describe('the API reference at /docs', () => {
  it('shows the notes operations from the app document and sends "Test Request" to the app, loading nothing from elsewhere and breaking no CSP rule', async () => {
    const { page, foreign, violations, consoleErrors, requested, policy } = await openDocs();
    // The page's own policy, not the API's `frame-ancestors 'none'` alone: scripts of this origin only.
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("default-src 'none'");
    // The first tag opens by itself; the notes tag opens from the sidebar, as a reader would.
    await page.getByText('notes', { exact: true }).first().click({ timeout: 30_000 });
    for (const summary of ['List the newest notes', 'Read a note', 'Create a note']) {
      await expect.poll(() => page.getByText(summary, { exact: true }).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'api-docs.png') });

    // "Try it": the client fills the body from the document's example and calls this origin.
    await page.locator('button').filter({ hasText: 'Test Request(post /api/v1/notes)' }).click();
    await page
      .locator('button')
      .filter({ hasText: /^Send Send post request/ })
      .click();
    await expect.poll(() => page.getByText('201 Created').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'api-docs-test-request.png') });
    const notes = (await (await fetch(`${served.url}/api/v1/notes`)).json()) as { data: { text: string }[] };
    expect(notes.data.map((note) => note.text)).toContain('Ship the release notes');

    expect(requested).toEqual(expect.arrayContaining(['/docs', '/docs/scalar.js', '/docs/init.js', '/api/v1/openapi.json', '/api/v1/notes']));
    expect(foreign).toEqual([]);
    // One report is expected: the zod bundled in Scalar probes for eval (`new Function('')`) once,
    // and runs without it when the policy says no. Anything else the policy blocks is a failure.
    expect(violations.filter((violation) => violation !== 'script-src: eval')).toEqual([]);
    expect(consoleErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
    await page.close();
  });

  it('asks for the bearer token an operation requires, and sends the one entered with "Test Request"', async () => {
    const { page, foreign } = await openDocs();
    await page.getByText('sseTicket', { exact: true }).first().click({ timeout: 30_000 });
    await page.locator('button').filter({ hasText: 'Test Request(post /api/v1/sse/ticket)' }).click();
    const send = page.locator('button').filter({ hasText: /^Send Send post request/ });
    // Without a token: the app's 401, as documented.
    await send.click();
    await expect.poll(() => page.getByText('401 Unauthorized').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    // With one entered under "Authentication": a ticket for that user.
    await page.getByPlaceholder('Token').fill(await signToken({ sub: 'reader' }));
    await send.click();
    await expect.poll(() => page.getByText('201 Created').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByText('user:reader').count(), { timeout: 5_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'api-docs-bearer-token.png') });
    expect(foreign).toEqual([]);
    await page.close();
  });
});
