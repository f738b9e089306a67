import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, signInOnForm } from '../support/chromium.js';
import { GatewaySessions } from '../support/gateway-sessions.js';
import { GATEWAY_CLIENT_ID, GATEWAY_CLIENT_SECRET, SESSION_COOKIE, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { isActive, redeemRefreshToken } from '../support/token-endpoints.js';
import type { BasicClient } from '../support/token-endpoints.js';

const PEPPER = 'demo-page-sessions-pepper-0123456789abcdef';
const IDLE_SECONDS = 900;
/** GATEWAY_SESSION_CACHE_MAX_AGE_MS's default: the longest an instance may still serve a session ended elsewhere. */
const INVALIDATION_BOUND_MS = 5000;

interface Tab {
  context: BrowserContext;
  page: Page;
  /** Page errors (uncaught exceptions) seen so far. */
  errors: string[];
}

// Slow suite (a real browser), not part of `npm test`: `npm run test:browser`.
describe('the demo page as a single-page app, with the real authorization server', () => {
  let stack: Stack;
  let browser: Browser;
  let sessions: GatewaySessions;
  let gatewayClient: BasicClient;
  const tabs: Tab[] = [];

  beforeAll(async () => {
    // Two gateway instances on one store; the authorization server and the gateways on one host, so its session
    // cookie (SameSite=Lax) reaches it from the gateway's hidden iframe, as it would on sibling subdomains.
    stack = await startStack({
      gateways: 2,
      gatewayEnv: { STORE_PEPPER: PEPPER, GATEWAY_SESSION_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS) },
    });
    browser = await launchChromium();
    sessions = new GatewaySessions(`${stack.prefix}gw:`, PEPPER);
    gatewayClient = {
      issuer: stack.issuer,
      clientId: GATEWAY_CLIENT_ID,
      clientSecret: GATEWAY_CLIENT_SECRET,
    };
  });

  // Every test signs alice in: her sessions end with the test, so that each test's list holds its own alone.
  afterEach(async () => {
    for (const tab of tabs.splice(0)) {
      await tab.context.request
        .post(`${stack.gatewayUrl}/auth/logout`, { headers: { 'X-CSRF': '1', origin: stack.gatewayUrl } })
        .catch(() => undefined);
      await tab.context.close().catch(() => undefined);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await sessions?.close();
    await stack?.stop();
  });

  async function newTab(options: { fakeClock?: boolean } = {}): Promise<Tab> {
    const context = await browser.newContext();
    if (options.fakeClock) await context.clock.install();
    const page = await context.newPage();
    const tab = { context, page, errors: [] as string[] };
    page.on('pageerror', (error) => tab.errors.push(error.message));
    tabs.push(tab);
    return tab;
  }

  /** A browser that signs alice in with the button and the form, as a person would. */
  async function signedIn(options: { fakeClock?: boolean } = {}): Promise<Tab> {
    const tab = await newTab(options);
    await tab.page.goto(`${stack.gatewayUrl}/`);
    await tab.page.waitForSelector('#login:visible');
    await tab.page.click('#login');
    await signInOnForm(tab.page, 'alice', 'wonderland', `${stack.gatewayUrl}/`);
    await tab.page.waitForSelector('#who >> text=Signed in as Alice');
    // The page's first calls are done (the hops card shows once the APIs answered).
    await tab.page.waitForSelector('#hops:visible');
    return tab;
  }

  async function ticketOf(context: BrowserContext): Promise<string> {
    const cookie = (await context.cookies(stack.gatewayUrl)).find((c) => c.name === SESSION_COOKIE);
    if (!cookie) throw new Error('no session cookie');
    return cookie.value;
  }

  /** The rows of "Your sessions": whether each is this device's, and its cells' text. */
  async function sessionRows(page: Page): Promise<Array<{ current: string | null; cells: string[] }>> {
    const rows = await page.locator('#session-list tr[data-current]').all();
    return Promise.all(
      rows.map(async (row) => ({
        current: await row.getAttribute('data-current'),
        cells: await row.locator('td').allTextContents(),
      })),
    );
  }

  /** Waits until the countdown shows more than `seconds` (polled from here: the page's policy forbids eval). */
  async function countdownAbove(page: Page, seconds: number): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const shown = Number(await page.getAttribute('#countdown', 'data-seconds'));
      if (shown > seconds) return;
      if (Date.now() > deadline) throw new Error(`the countdown shows ${shown}, not more than ${seconds}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Clicks "Call /api/whoami" and returns the answer the page got. */
  async function callApi(page: Page): Promise<{ status: number; body: Record<string, unknown> }> {
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/whoami'),
      page.click('#whoami'),
    ]);
    return { status: response.status(), body: (await response.json()) as Record<string, unknown> };
  }

  it('lists both sessions of a user; "Sign out everywhere else" ends the other one everywhere and revokes its refresh token', async () => {
    const a = await signedIn();
    const b = await signedIn();
    // B is served by the other gateway instance (one site behind a load balancer, told apart here by port; cookies
    // ignore ports): the end reaches it through the invalidation channel, not its own memory.
    await b.page.goto(`${stack.gateways[1]}/`);
    await b.page.waitForSelector('#who >> text=Signed in as Alice');
    expect((await callApi(b.page)).status).toBe(200);

    await a.page.reload();
    await a.page.waitForSelector('#session-list tr[data-current] >> nth=1');
    const rows = await sessionRows(a.page);
    expect(rows).toHaveLength(2);
    expect(rows.filter((row) => row.current === 'true')).toEqual([
      {
        current: 'true',
        cells: [expect.stringMatching(/Chrome/), expect.any(String), expect.any(String), 'this device'],
      },
    ]);
    expect(rows.filter((row) => row.current === 'false')).toEqual([
      {
        current: 'false',
        cells: [expect.stringMatching(/Chrome/), expect.any(String), expect.any(String), 'End'],
      },
    ]);
    for (const row of rows) expect(row.cells.join(' ')).not.toContain('Invalid Date');
    expect(await a.page.isVisible('#sign-out-others')).toBe(true);

    const bRefreshToken = (await sessions.read(await ticketOf(b.context)))?.refreshToken;
    const aRefreshToken = (await sessions.read(await ticketOf(a.context)))?.refreshToken;
    expect(bRefreshToken).toEqual(expect.any(String));
    expect(aRefreshToken).toEqual(expect.any(String));
    expect(await isActive(gatewayClient, bRefreshToken!)).toBe(true);

    const [answer] = await Promise.all([
      a.page.waitForResponse((r) => r.url().endsWith('/auth/sessions/sign-out-others')),
      a.page.click('#sign-out-others'),
    ]);
    const endedAt = Date.now();
    expect([answer.status(), await answer.json()]).toEqual([200, { ended: 1, revoked: 1 }]);
    await a.page.waitForSelector('#sessions-note >> text=Ended 1 session; 1 refresh token revoked');
    expect((await sessionRows(a.page)).map((row) => row.current)).toEqual(['true']);
    expect(await a.page.isHidden('#sign-out-others')).toBe(true);

    // B's next call is refused within the bound (the channel usually makes it the very next one) …
    let refused = await callApi(b.page);
    while (refused.status === 200 && Date.now() - endedAt < INVALIDATION_BOUND_MS)
      refused = await callApi(b.page);
    expect(refused).toEqual({ status: 401, body: { error: 'unauthenticated', reason: 'session_expired' } });
    expect(Date.now() - endedAt).toBeLessThan(INVALIDATION_BOUND_MS + 1000);
    // … and its page says the session ended and offers to sign in, with nothing of the session left on it.
    await b.page.waitForSelector('#who >> text=Your session has ended.');
    expect(await b.page.isVisible('#login')).toBe(true);
    expect(await b.page.isHidden('#logout')).toBe(true);
    expect(await b.page.isHidden('#sessions')).toBe(true);
    expect(await b.page.textContent('#countdown')).toBe('');

    // A carries on.
    expect((await callApi(a.page)).status).toBe(200);
    expect(await a.page.textContent('#who')).toContain('Signed in as Alice');

    // At the authorization server: B's refresh token is dead, A's lives.
    expect(await isActive(gatewayClient, bRefreshToken!)).toBe(false);
    expect(await redeemRefreshToken(gatewayClient, bRefreshToken!)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(await isActive(gatewayClient, aRefreshToken!)).toBe(true);

    // B's tab does not sign itself back in from the authorization server's session on its next load.
    const silentLogins: string[] = [];
    b.page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/auth/silent-login') silentLogins.push(r.url());
    });
    await b.page.reload();
    await b.page.waitForSelector('#who >> text=Nobody is signed in.');
    expect(await b.page.isVisible('#login')).toBe(true);
    expect(silentLogins).toEqual([]);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('ends one other session with its "End" button', async () => {
    const a = await signedIn();
    const b = await signedIn();
    const bRefreshToken = (await sessions.read(await ticketOf(b.context)))?.refreshToken;
    await a.page.reload();
    await a.page.waitForSelector('#session-list tr[data-current="false"] button');
    const [answer] = await Promise.all([
      a.page.waitForResponse((r) => r.request().method() === 'DELETE'),
      a.page.click('#session-list tr[data-current="false"] button'),
    ]);
    expect(new URL(answer.url()).pathname).toMatch(/^\/auth\/sessions\/[\w-]+$/);
    expect([answer.status(), await answer.json()]).toEqual([200, { ended: 1, revoked: 1 }]);
    await a.page.waitForSelector('#sessions-note >> text=Ended 1 session; 1 refresh token revoked');
    expect((await sessionRows(a.page)).map((row) => row.current)).toEqual(['true']);
    expect(await callApi(b.page)).toEqual({
      status: 401,
      body: { error: 'unauthenticated', reason: 'session_expired' },
    });
    await b.page.waitForSelector('#who >> text=Your session has ended.');
    expect(await isActive(gatewayClient, bRefreshToken!)).toBe(false);
    expect((await callApi(a.page)).status).toBe(200);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('signs in again silently on load while the authorization server still knows the browser: no navigation, no form', async () => {
    const tab = await signedIn();
    // The gateway's session is gone (its cookie cleared); the authorization server's session cookie stays.
    await tab.context.clearCookies({ name: SESSION_COOKIE });
    const navigations: string[] = [];
    const requests: string[] = [];
    tab.page.on('framenavigated', (frame) => {
      if (frame === tab.page.mainFrame()) navigations.push(frame.url());
    });
    tab.page.on('request', (r) => requests.push(r.url()));

    await tab.page.reload();
    await tab.page.waitForSelector('#who >> text=Signed in as Alice');
    // The reload itself is the only navigation of the page; the sign-in went through the hidden iframe.
    expect(navigations).toEqual([`${stack.gatewayUrl}/`]);
    expect(tab.page.url()).toBe(`${stack.gatewayUrl}/`);
    expect(requests.filter((url) => url.startsWith(`${stack.gatewayUrl}/auth/silent-login?`))).toHaveLength(
      1,
    );
    expect(requests.filter((url) => url.startsWith(`${stack.issuer}/auth?`))).toHaveLength(1);
    expect(requests.filter((url) => url.startsWith(`${stack.issuer}/interaction/`))).toEqual([]);
    expect(await tab.page.$$('iframe')).toHaveLength(0);
    expect(await tab.page.isHidden('#login')).toBe(true);
    expect(await ticketOf(tab.context)).toMatch(/^[\w-]{43}$/);
    expect(tab.errors).toEqual([]);
  });

  it('shows "Sign in" when the authorization server does not know the browser, with one silent attempt and no loop', async () => {
    const tab = await newTab();
    const silentLogins: string[] = [];
    const callbacks: string[] = [];
    tab.page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/auth/silent-login') silentLogins.push(r.url());
      if (url.pathname === '/auth/callback') callbacks.push(url.searchParams.get('error') ?? 'code');
    });
    await tab.page.goto(`${stack.gatewayUrl}/`);
    await tab.page.waitForSelector('#who >> text=Nobody is signed in.');
    expect(await tab.page.isVisible('#login')).toBe(true);
    expect(await tab.page.textContent('#login')).toBe('Sign in');
    // The authorization server answered, at once: login_required.
    expect(callbacks).toEqual(['login_required']);
    await tab.page.waitForTimeout(1500);
    expect(silentLogins).toHaveLength(1);
    // Reloading does not start it over.
    await tab.page.reload();
    await tab.page.waitForSelector('#who >> text=Nobody is signed in.');
    await tab.page.waitForTimeout(1000);
    expect(silentLogins).toHaveLength(1);
    expect(tab.page.url()).toBe(`${stack.gatewayUrl}/`);
    expect(tab.errors).toEqual([]);
  });

  it('offers "Sign in" when the silent sign-in never answers', async () => {
    const tab = await newTab();
    // An iframe that loads and says nothing.
    await tab.page.route('**/auth/silent-login?**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>quiet</title>' }),
    );
    await tab.page.goto(`${stack.gatewayUrl}/`);
    await tab.page.waitForSelector('#who >> text=Looking for a session');
    await tab.page.waitForTimeout(2000);
    expect(await tab.page.isHidden('#login')).toBe(true);
    await tab.page.waitForSelector('#login:visible', { timeout: 15_000 });
    expect(await tab.page.textContent('#who')).toBe('Nobody is signed in.');
    expect(await tab.page.$$('iframe')).toHaveLength(0);
  });

  it("stays signed in when an API itself answers 401: that refusal is the API's, not the session's end", async () => {
    const tab = await signedIn();
    // The recording API never refuses: its answer, relayed by the gateway with the session's header, becomes a 401.
    const relayedHeaders: Array<string | undefined> = [];
    await tab.page.route('**/api/whoami', async (route) => {
      const relayed = await route.fetch();
      relayedHeaders.push(relayed.headers()['x-session-expires-in']);
      await route.fulfill({
        response: relayed,
        status: 401,
        json: { error: 'unauthenticated', reason: 'token_expired' },
      });
    });
    expect(await callApi(tab.page)).toEqual({
      status: 401,
      body: { error: 'unauthenticated', reason: 'token_expired' },
    });
    await tab.page.waitForSelector('#answer >> text=401 Unauthorized');
    expect(relayedHeaders).toEqual([expect.stringMatching(/^\d+$/)]);
    expect(await tab.page.textContent('#who')).toContain('Signed in as Alice');
    expect(await tab.page.isVisible('#logout')).toBe(true);
    expect(await tab.page.getAttribute('#countdown', 'data-seconds')).toMatch(/^\d+$/);
    expect(tab.errors).toEqual([]);
  });

  it('counts down from the idle timeout, pushed back by each API call, warns before the end and says when it came', async () => {
    // The page's clock is Playwright's: minutes pass for the page in an instant, not for the gateway.
    const tab = await signedIn({ fakeClock: true });
    const seconds = async () => Number(await tab.page.getAttribute('#countdown', 'data-seconds'));

    await tab.page.clock.fastForward(120_000);
    expect(await seconds()).toBeLessThanOrEqual(IDLE_SECONDS - 119);
    expect((await callApi(tab.page)).status).toBe(200);
    await countdownAbove(tab.page, IDLE_SECONDS - 10);
    expect(await seconds()).toBeLessThanOrEqual(IDLE_SECONDS);
    expect(await tab.page.textContent('#countdown')).toMatch(
      /^Session ends in 1[45]:\d\d without activity\.$/,
    );
    expect(await tab.page.getAttribute('#countdown', 'class')).toBe('muted');

    // Shortly before the end: a warning.
    await tab.page.clock.fastForward((IDLE_SECONDS - 30) * 1000);
    expect(await tab.page.textContent('#countdown')).toMatch(
      /^Your session ends in 0:[0-3]\d unless you use it/,
    );
    expect(await tab.page.getAttribute('#countdown', 'class')).toBe('warning');

    // At zero the page asks: the gateway (whose time did not fly) still holds the session, so it counts on.
    await tab.page.clock.fastForward(60_000);
    await countdownAbove(tab.page, IDLE_SECONDS - 60);
    expect(await tab.page.textContent('#who')).toContain('Signed in as Alice');

    // Once the session has expired in the store, zero is the end.
    expect(await sessions.expire(await ticketOf(tab.context))).toBe(true);
    await tab.page.clock.fastForward(IDLE_SECONDS * 1000);
    await tab.page.waitForSelector('#who >> text=Your session has ended.');
    expect(await tab.page.isVisible('#login')).toBe(true);
    expect(tab.errors).toEqual([]);
  });
});
