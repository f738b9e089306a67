import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext } from 'playwright-core';
import { withAllGroups } from '../support/full-token.js';
import { SESSION_COOKIE, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const JWT_SHAPED = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/;

/** What the test measured, printed at the end for RELIABILITY.md. */
const figures: Record<string, number | string> = {};

describe('Chromium through the gateway', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Server;
  let pageUrl: string;
  let powerUserToken = '';

  beforeAll(async () => {
    // `localhost` for the authorization server keeps its cookies apart from the gateway's on 127.0.0.1
    // (cookies ignore ports). The gateway's /api is the demo API, which verifies the token itself.
    stack = await startStack({ issuerHost: 'localhost', api: 'demo' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        // evil.example resolves too: a redirect there would load, not fail on DNS, and show in the URL.
        '--host-resolver-rules=MAP page.test 127.0.0.1, MAP evil.example 127.0.0.1',
      ],
    });
    context = await browser.newContext();
    // The seeds' failure: a page that puts the access token itself into a cookie.
    page = createServer((req, res) => {
      res.setHeader('set-cookie', [`token=${powerUserToken}; Path=/`, 'small=1; Path=/']);
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><title>token in a cookie</title><p>set</p>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    // Its own host name (on 127.0.0.1) so its cookie jar is not the gateway's.
    pageUrl = `http://page.test:${(page.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    if (page) {
      page.closeAllConnections();
      await new Promise((resolve) => page.close(resolve));
    }
    await stack?.stop();
    console.log(`Chromium figures: ${JSON.stringify(figures)}`);
  });

  it('logs power-user in with the form and reaches /api/whoami with one small cookie', async () => {
    const tab = await context.newPage();
    await tab.goto(`${stack.gatewayUrl}/auth/login?returnTo=/api/whoami`);
    expect(new URL(tab.url()).hostname).toBe('localhost');
    await tab.fill('input[name="username"]', 'power-user');
    await tab.fill('input[name="password"]', 'many-groups');
    await Promise.all([tab.waitForURL(`${stack.gatewayUrl}/api/whoami`), tab.click('button[type="submit"]')]);
    const whoami = JSON.parse((await tab.textContent('body')) ?? '{}') as {
      sub: string;
      tokenBytes: number;
      groupsCount: number;
      via: string;
    };
    // The demo API verified a JWT under the 4 KiB budget against the JWKS and fetched its 272 groups from the
    // issuer's /claims (they would make a 9.5 KB token).
    expect(whoami).toMatchObject({ sub: 'power-user', via: 'jwt' });
    expect(whoami.groupsCount).toBeGreaterThan(200);
    expect(whoami.tokenBytes).toBeLessThanOrEqual(4096);

    const gatewayCookies = await context.cookies(stack.gatewayUrl);
    expect(gatewayCookies.map((c) => c.name)).toEqual([SESSION_COOKIE]);
    const [session] = gatewayCookies;
    expect(session.value).toMatch(/^[\w-]{43}$/);
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Lax');
    const cookieBytes = session.name.length + 1 + session.value.length;
    expect(cookieBytes).toBeLessThan(100);
    const everyCookie = await context.cookies();
    for (const cookie of everyCookie) expect(cookie.value).not.toMatch(JWT_SHAPED);

    // The recording upstream behind the same gateway shows the exact token the session forwards.
    expect((await tab.goto(`${stack.gatewayUrl}/recorded/token`))?.status()).toBe(200);
    powerUserToken = stack.upstream.authorizations.at(-1)!.replace(/^Bearer /, '');
    expect(powerUserToken).toMatch(JWT_SHAPED);
    expect(powerUserToken.length).toBe(whoami.tokenBytes);
    Object.assign(figures, {
      accessTokenBytes: powerUserToken.length,
      gatewayCookieBytes: cookieBytes,
      gatewayCookies: gatewayCookies.length,
      groupsCount: whoami.groupsCount,
      cookiesInJar: everyCookie.length,
      jarCookieNames: everyCookie.map((c) => `${c.domain}:${c.name}`).join(' '),
    });
    await tab.close();
  });

  it('returns to the gateway, not to another origin, after a login with a hostile returnTo', async () => {
    // A fresh browser profile, so the sign-in form is shown again.
    const fresh = await browser.newContext();
    const tab = await fresh.newPage();
    // `/%2e//evil.example` is a single-slash path as sent and `//evil.example` once its dot segment is resolved.
    await tab.goto(`${stack.gatewayUrl}/auth/login?returnTo=/%2e//evil.example`);
    await tab.fill('input[name="username"]', 'alice');
    await tab.fill('input[name="password"]', 'wonderland');
    await Promise.all([
      tab.waitForURL((url) => !url.pathname.startsWith('/auth/') && url.origin !== stack.issuer),
      tab.click('button[type="submit"]'),
    ]);
    await tab.waitForLoadState('load');
    expect(new URL(tab.url()).origin).toBe(new URL(stack.gatewayUrl).origin);
    expect(new URL(tab.url()).pathname).toBe('/');
    expect((await fresh.cookies(stack.gatewayUrl)).map((c) => c.name)).toEqual([SESSION_COOKIE]);
    await fresh.close();
  });

  it('refuses the full access token set as a cookie by a page: the cookie is not stored', async () => {
    powerUserToken = withAllGroups(powerUserToken);
    expect(powerUserToken.length).toBeGreaterThan(4096);
    const tab = await context.newPage();
    const response = await tab.goto(pageUrl);
    expect(response?.status()).toBe(200);
    const offered = (await response!.headersArray()).filter((h) => h.name.toLowerCase() === 'set-cookie');
    expect(offered.some((h) => h.value.startsWith(`token=${powerUserToken.slice(0, 20)}`))).toBe(true);
    const stored = await context.cookies(pageUrl);
    // The small cookie from the same response is kept: the big one alone is dropped, silently.
    expect(stored.map((c) => c.name)).toEqual(['small']);
    figures.refusedCookieBytes = 'token='.length + powerUserToken.length;
    await tab.close();
  });
});
