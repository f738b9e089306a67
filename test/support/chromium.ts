import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

/** The system's Chromium (Debian's package; CI installs it), or CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium as the browser suites run it: no sandbox (root in CI), no traffic of its own. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-background-networking', ...extraArgs],
  });
}

/**
 * Signs in on the authorization server's form as a person would, from a page that has just been sent there, and
 * waits until the browser is back at `returnUrl`.
 */
export async function signInOnForm(
  page: Page,
  username: string,
  password: string,
  returnUrl: string,
): Promise<void> {
  await page.waitForSelector('input[name="username"]');
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(returnUrl), page.click('button[type="submit"]')]);
}
