/**
 * The demo page in a real browser (Debian's chromium driven by playwright-core)
 * against the real stack: nginx in front of 3 app instances on a 6-node Redis
 * Cluster. Screenshots go to test-results/browser/. Each page is its own
 * browser context (its own cookies), as two people on two machines.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, infraForTests, startStack, type RunningStack } from '../../templates/test/stack/harness.js';
import { AUTH_ENV, signToken } from '../../templates/test/support/auth-tokens.js';
import { launchChromium } from '../support/chromium.js';

const SCREENSHOTS = path.resolve(import.meta.dirname, '..', '..', 'test-results', 'browser');

let stack: RunningStack;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await buildApp();
  const { infraDir, instances } = await infraForTests();
  // Outside production, so the page offers the development sign-in (it also takes pasted tokens).
  stack = await startStack({ redis: 'cluster', instances, infraDir, env: { ...AUTH_ENV, NODE_ENV: 'development' } });
  browser = await launchChromium();
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

async function privateEvents(page: Page): Promise<string[]> {
  return page.locator('#private-events li').allTextContents();
}

/** Signs a page in, then waits for its stream to reopen with the user's private channel. */
async function signIn(page: Page, how: { devUser: string } | { token: string }): Promise<void> {
  if ('devUser' in how) {
    await page.fill('#dev-user', how.devUser);
    await page.click('#dev-sign-in button[type=submit]');
  } else {
    await page.fill('#token-input', how.token);
    await page.click('#token-sign-in button[type=submit]');
  }
  await expect.poll(() => page.locator('#signed-in').isVisible(), { timeout: 10_000 }).toBe(true);
  const channel = await page.locator('#private-channel').textContent();
  await expect.poll(() => page.evaluate(() => document.getElementById('connection-state')?.dataset.state), { timeout: 10_000 }).toMatch(/connected|resumed/);
  expect(channel).toMatch(/^user:/);
}

async function addNote(page: Page, text: string): Promise<void> {
  await page.fill('#note-text', text);
  await page.click('#note-form button[type=submit]');
}

describe('the realtime demo page through nginx', () => {
  it('shows a note added in one page live in another page served by a different instance', async () => {
    const [one, two] = await pagesOnTwoInstances();
    expect(one.instance).toMatch(/^app\d+$/);
    expect(two.instance).toMatch(/^app\d+$/);

    const text = `hello from page one ${Date.now()}`;
    await one.page.fill('#note-text', text);
    await one.page.click('#note-form button[type=submit]');

    await expect.poll(() => noteTexts(two.page), { timeout: 10_000 }).toContain(text);
    await expect.poll(() => two.page.locator('#events li').first().textContent()).toContain(`delivered by ${two.instance}`);
    // Then its word statistics, from the background job some instance's worker ran.
    const stats = two.page.locator('#notes li', { hasText: text }).locator('.stats');
    await expect.poll(() => stats.textContent(), { timeout: 10_000 }).toMatch(/^5 words \(5 unique\), \d+ characters · job \d+ run by app\d+$/);
    await expect.poll(() => two.page.locator('#events li', { hasText: 'note.stats' }).first().textContent()).toMatch(/computed by app\d+, delivered by app\d+/);
    expect(await one.page.locator('#request-instance').textContent()).toMatch(/^app\d+$/);
    await expect.poll(() => one.page.locator('#cache-hit-ratio').textContent(), { timeout: 10_000 }).toMatch(/%|no lookups/);

    await one.page.screenshot({ path: path.join(SCREENSHOTS, 'page-one-added-note.png'), fullPage: true });
    await two.page.screenshot({ path: path.join(SCREENSHOTS, 'page-two-live-note.png'), fullPage: true });
    await one.page.close();
    await two.page.close();
  });

  it('two users in two pages: each private event reaches its owner only, public notes reach both', async () => {
    const [alice, bob] = await pagesOnTwoInstances();
    // What the page hides stays hidden, forms included (the stylesheet makes them flex).
    const hiddenDisplay = await alice.page.evaluate(() => {
      const form = document.getElementById('dev-sign-in')!;
      form.hidden = true;
      const display = getComputedStyle(form).display;
      form.hidden = false;
      return display;
    });
    expect(hiddenDisplay).toBe('none');
    // One signs in with the development sign-in, the other with a pasted token (`npm run token`).
    await signIn(alice.page, { devUser: 'alice' });
    await signIn(bob.page, { token: await signToken({ sub: 'bob', name: 'Bob' }) });
    expect(await alice.page.locator('#signed-in-as').textContent()).toBe('alice');
    expect(await bob.page.locator('#signed-in-as').textContent()).toBe('Bob (bob)');
    expect(await bob.page.locator('#private-channel').textContent()).toBe('user:bob');

    // The token lives in an HttpOnly, SameSite=Lax cookie: page scripts never see it.
    const [cookie] = await alice.page.context().cookies();
    expect(cookie).toMatchObject({ name: 'volt_session', httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(await alice.page.evaluate(() => document.cookie)).toBe('');

    const stamp = Date.now();
    await addNote(alice.page, `alice writes ${stamp}`);
    await addNote(bob.page, `bob writes ${stamp}`);
    for (const page of [alice.page, bob.page]) {
      await expect.poll(() => noteTexts(page), { timeout: 10_000 }).toEqual(expect.arrayContaining([`alice writes ${stamp}`, `bob writes ${stamp}`]));
    }
    await expect.poll(() => privateEvents(alice.page), { timeout: 10_000 }).toEqual([expect.stringContaining(`"alice writes ${stamp}"`)]);
    await expect.poll(() => privateEvents(bob.page), { timeout: 10_000 }).toEqual([expect.stringContaining(`"bob writes ${stamp}"`)]);
    // A moment later, still nothing of the other's.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await privateEvents(alice.page)).toHaveLength(1);
    expect(await privateEvents(bob.page)).toHaveLength(1);
    expect(
      await alice.page
        .locator('#notes li', { hasText: `alice writes ${stamp}` })
        .locator('.meta:not(.stats)')
        .textContent(),
    ).toContain('by alice');

    await alice.page.screenshot({ path: path.join(SCREENSHOTS, 'signed-in-alice.png'), fullPage: true });
    await bob.page.screenshot({ path: path.join(SCREENSHOTS, 'signed-in-bob.png'), fullPage: true });

    // Signing out closes the private channel; the public stream goes on.
    await bob.page.click('#sign-out');
    await expect.poll(() => bob.page.locator('#signed-out').isVisible(), { timeout: 10_000 }).toBe(true);
    await addNote(alice.page, `after bob left ${stamp}`);
    await expect.poll(() => noteTexts(bob.page), { timeout: 10_000 }).toContain(`after bob left ${stamp}`);
    expect(await bob.page.locator('#private').isVisible()).toBe(false);
    await alice.page.close();
    await bob.page.close();
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
