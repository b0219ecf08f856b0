import { chromium, type Browser } from 'playwright-core';

/** The system's Chromium (Debian's `chromium` package); CHROMIUM_PATH names another binary. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium as every browser test and the dashboard drawing run it: no sandbox (root in CI), no background traffic. */
export function launchChromium(executablePath = CHROMIUM_PATH): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
