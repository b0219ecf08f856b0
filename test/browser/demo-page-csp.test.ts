/**
 * The demo page under its Content-Security-Policy in a real browser (Debian's
 * chromium driven by playwright-core), served by one app instance in memory
 * mode: the page works (script, styles, fetch and EventSource all allowed)
 * and the browser reports no violation; an inline script, which the policy
 * exists to stop, is blocked and reported.
 */
import type { AddressInfo } from 'node:net';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../templates/src/app.js';
import { loadConfig } from '../../templates/src/config.js';
import { launchChromium } from '../support/chromium.js';

let app: App;
let base: string;
let browser: Browser;

beforeAll(async () => {
  // With AUTH_SECRET, so the page's sign-in runs under the policy too.
  app = createApp(
    loadConfig({ NODE_ENV: 'test', INSTANCE_ID: 'csp-page', LOG_LEVEL: 'silent', METRICS_PORT: 'off', AUTH_SECRET: 'csp-test-secret-csp-test-secret-0123' }),
  );
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Every CSP violation the page reports, from its first script on (the listener is installed before the page's own code). */
async function openWatched(): Promise<{ page: Page; violations: () => Promise<string[]>; consoleErrors: string[] }> {
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}`));
  });
  const response = await page.goto(`${base}/`);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  return { page, violations: () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), consoleErrors };
}

describe('the demo page under its Content-Security-Policy', () => {
  it('runs its script, styles, fetches and event stream with no violation reported', async () => {
    const { page, violations, consoleErrors } = await openWatched();
    await expect.poll(() => page.locator('#connection-state').getAttribute('data-state'), { timeout: 15_000 }).toBe('connected');
    // The stylesheet applied (a file of this origin, not an inline style).
    expect(await page.evaluate(() => getComputedStyle(document.body).maxWidth)).toBe('960px');
    const text = `under a strict policy ${Date.now()}`;
    await page.fill('#note-text', text);
    await page.click('#note-form button[type=submit]');
    await expect.poll(() => page.locator('#notes li').first().textContent(), { timeout: 10_000 }).toContain(text);
    await expect.poll(() => page.locator('#events li', { hasText: 'note.created' }).first().textContent(), { timeout: 10_000 }).toContain('note.created');
    await expect.poll(() => page.locator('#cache-hit-ratio').textContent(), { timeout: 10_000 }).toMatch(/%|no lookups/);
    // Signed in (the development sign-in), the stream reopens with a ticket and the user's private channel.
    await page.fill('#dev-user', 'carol');
    await page.click('#dev-sign-in button[type=submit]');
    await expect.poll(() => page.locator('#signed-in').isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.locator('#private-channel').textContent(), { timeout: 10_000 }).toBe('user:carol');
    await expect.poll(() => page.locator('#connection-state').getAttribute('data-state'), { timeout: 10_000 }).toMatch(/connected|resumed/);
    await page.fill('#note-text', `${text} signed in`);
    await page.click('#note-form button[type=submit]');
    await expect.poll(() => page.locator('#private-events li').first().textContent(), { timeout: 10_000 }).toContain(`${text} signed in`);
    expect(await violations()).toEqual([]);
    expect(consoleErrors.filter((message) => /Content Security Policy/i.test(message))).toEqual([]);
    await page.close();
  });

  it('blocks and reports what the policy forbids: an inline script, a script from elsewhere, framing', async () => {
    const { page, violations, consoleErrors } = await openWatched();
    await page.evaluate(() => {
      const inline = document.createElement('script');
      inline.textContent = 'window.inlineRan = true';
      document.head.append(inline);
      const foreign = document.createElement('script');
      foreign.src = 'http://127.0.0.2:9/evil.js';
      document.head.append(foreign);
    });
    await expect.poll(violations).toEqual(expect.arrayContaining(['script-src-elem blocked inline', 'script-src-elem blocked http://127.0.0.2:9/evil.js']));
    expect(await page.evaluate(() => (window as unknown as { inlineRan?: boolean }).inlineRan)).toBeUndefined();
    expect(consoleErrors.some((message) => /Content Security Policy/i.test(message))).toBe(true);
    // Another site cannot show the page in a frame.
    const framing = await browser.newPage();
    await framing.setContent(`<iframe src="${base}/"></iframe>`);
    await expect.poll(() => framing.frames()[1]?.url() ?? '', { timeout: 5_000 }).not.toBe('');
    await expect
      .poll(
        () =>
          framing
            .frames()[1]
            ?.evaluate(() => document.getElementById('note-form') !== null)
            .catch(() => false),
        { timeout: 2_000 },
      )
      .toBe(false);
    await framing.close();
    await page.close();
  });
});
