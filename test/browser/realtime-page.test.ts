/**
 * The demo page in a real browser (Debian's chromium driven by playwright-core)
 * against the real stack: nginx in front of 3 app instances on a 6-node Redis
 * Cluster. Screenshots go to test-results/browser/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, infraForTests, startStack, type RunningStack } from '../../templates/test/stack/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(import.meta.dirname, '..', '..', 'test-results', 'browser');

let stack: RunningStack;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await buildApp();
  const { infraDir, instances } = await infraForTests();
  stack = await startStack({ redis: 'cluster', instances, infraDir });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function openPage(): Promise<{ page: Page; instance: string }> {
  const page = await browser.newPage();
  await page.goto(`${stack.url}/`);
  await expect.poll(() => page.locator('#connection-state').getAttribute('data-state'), { timeout: 15_000 }).toBe('connected');
  const instance = (await page.locator('#stream-instance').textContent()) ?? '';
  return { page, instance };
}

/** Pages whose streams are held by two different instances (nginx picks them). */
async function pagesOnTwoInstances(): Promise<[{ page: Page; instance: string }, { page: Page; instance: string }]> {
  const first = await openPage();
  for (let attempt = 0; attempt < 10; attempt++) {
    const second = await openPage();
    if (second.instance !== first.instance) return [first, second];
    await second.page.close();
  }
  throw new Error(`every stream landed on ${first.instance}`);
}

async function noteTexts(page: Page): Promise<string[]> {
  return page.locator('#notes li').evaluateAll((items) => items.map((item) => item.firstChild?.textContent ?? ''));
}

describe('the realtime demo page through nginx', () => {
  it('shows a note added in one page live in another page served by a different instance', async () => {
    const [one, two] = await pagesOnTwoInstances();
    expect(one.instance).toMatch(/^app\d+$/);
    expect(two.instance).toMatch(/^app\d+$/);

    const text = `hello from page one ${Date.now()}`;
    await one.page.fill('#note-text', text);
    await one.page.click('button[type=submit]');

    await expect.poll(() => noteTexts(two.page), { timeout: 10_000 }).toContain(text);
    await expect.poll(() => two.page.locator('#events li').first().textContent()).toContain(`delivered by ${two.instance}`);
    expect(await one.page.locator('#request-instance').textContent()).toMatch(/^app\d+$/);
    await expect.poll(() => one.page.locator('#cache-hit-ratio').textContent(), { timeout: 10_000 }).toMatch(/%|no lookups/);

    await one.page.screenshot({ path: path.join(SCREENSHOTS, 'page-one-added-note.png'), fullPage: true });
    await two.page.screenshot({ path: path.join(SCREENSHOTS, 'page-two-live-note.png'), fullPage: true });
    await one.page.close();
    await two.page.close();
  });

  it('shows "reconnecting", then resumes on another instance with the notes it missed, without a reload', async () => {
    const { page, instance } = await openPage();
    // A marker on window survives only if the page is never reloaded.
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    const states: string[] = [];
    await page.exposeFunction('recordState', (state: string) => states.push(state));
    await page.evaluate(() => {
      const pill = document.getElementById('connection-state')!;
      new MutationObserver(() => (window as unknown as { recordState(s: string): void }).recordState(pill.textContent ?? '')).observe(pill, {
        childList: true,
      });
    });

    const victim = stack.state().processes.find((process) => process.role === 'app' && process.name === instance);
    if (!victim) throw new Error(`no app process named ${instance} in the stack state`);
    process.kill(victim.pid, 'SIGKILL');

    // Published while the page has no stream: it must get them by replay.
    const missed: string[] = [];
    for (let index = 0; index < 3; index++) {
      const text = `missed while reconnecting ${index} ${Date.now()}`;
      const response = await fetch(`${stack.url}/api/v1/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
      expect(response.status).toBe(201);
      missed.push(text);
    }

    await expect.poll(() => states.includes('reconnecting'), { timeout: 10_000 }).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'page-reconnecting.png'), fullPage: true });
    await expect.poll(() => page.locator('#connection-state').textContent(), { timeout: 20_000 }).toMatch(/^resumed from id /);
    await expect.poll(() => noteTexts(page), { timeout: 10_000 }).toEqual(expect.arrayContaining(missed));
    expect(await page.locator('#stream-instance').textContent()).not.toBe(instance);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'page-resumed.png'), fullPage: true });
  });
});
