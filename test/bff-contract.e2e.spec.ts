import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Envelope } from '@cloakroom/envelope';
import { RedisSealedStore } from '@cloakroom/sealed-store';
import { SESSION_NAMESPACE, decodeSession } from '@cloakroom/bff';
import { TestBrowser } from './support/browser.js';
import { testRedisUrl } from './support/redis.js';
import { GATEWAY_CLIENT_ID, GATEWAY_CLIENT_SECRET, SESSION_COOKIE, startStack } from './support/stack.js';
import type { Stack } from './support/stack.js';

// The contract single-page apps expect of a BFF (the way Duende BFF and oauth2-proxy offer it), against the real
// authorization server: silent login, /auth/user, the user's sessions and ending them, the expiry an app can see.

const PEPPER = 'contract-test-pepper-0123456789abcdef0123456789';
const IDLE_SECONDS = 1800;
const XCSRF = { 'x-csrf': '1' };

/** The refresh token a gateway session holds, read from the store with the gateway's pepper and the ticket. */
async function refreshTokenOf(stack: Stack, ticket: string): Promise<string | undefined> {
  const store = new RedisSealedStore(new Envelope({ pepper: PEPPER }), {
    keyPrefix: `${stack.prefix}gw:`,
    connection: { url: testRedisUrl() },
  });
  try {
    const bytes = await store.get<Buffer>(SESSION_NAMESPACE, ticket);
    return bytes ? decodeSession(Buffer.from(bytes)).refreshToken : undefined;
  } finally {
    await store.close();
  }
}

/** Whether the authorization server still honours a refresh token (introspected as the gateway, its client). */
async function isActive(stack: Stack, refreshToken: string): Promise<boolean> {
  const response = await fetch(`${stack.asUrl}/token/introspection`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${GATEWAY_CLIENT_ID}:${GATEWAY_CLIENT_SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' }),
  });
  return ((await response.json()) as { active: boolean }).active;
}

/** Follows a gateway URL through the authorization server and back, without any form: where it ends, and every hop. */
async function followWithoutForms(
  browser: TestBrowser,
  start: string,
): Promise<{ url: URL; status: number }> {
  const { response, url } = await browser.follow(start);
  const body = await response.text();
  expect(body).not.toContain('name="password"');
  return { url, status: response.status };
}

describe('the single-page-app contract (real authorization server, two gateways)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ gateways: 2, gatewayEnv: { STORE_PEPPER: PEPPER } });
  });

  afterAll(async () => stack?.stop());

  describe('GET /auth/user', () => {
    it('answers the user, the session expiries, the logout contract and each route token expiry, never a token', async () => {
      const { browser } = await stack.login('alice', 'wonderland');
      const refused = await browser.fetch(`${stack.gatewayUrl}/auth/user`);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ error: 'csrf_check_failed', reason: 'missing_header' });

      const response = await browser.fetch(`${stack.gatewayUrl}/auth/user`, { headers: XCSRF });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const expiresIn = Number(response.headers.get('x-session-expires-in'));
      expect(expiresIn).toBeGreaterThan(IDLE_SECONDS - 10);
      expect(expiresIn).toBeLessThanOrEqual(IDLE_SECONDS);
      const text = await response.text();
      const body = JSON.parse(text);
      expect(body.user).toMatchObject({ sub: 'alice', name: expect.any(String), email: expect.any(String) });
      for (const claim of ['nonce', 'at_hash', 'aud', 'iss', 'sid', 'exp'])
        expect(body.user).not.toHaveProperty(claim);
      expect(body.session.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Date.parse(body.session.absoluteExpiresAt)).toBeGreaterThan(
        Date.parse(body.session.idleExpiresAt) - 1000,
      );
      expect(body.session.expiresInSeconds).toBeGreaterThan(IDLE_SECONDS - 10);
      expect(body.logout).toEqual({ url: '/auth/logout', method: 'POST', headers: { 'X-CSRF': '1' } });
      expect(body.routes).toEqual([{ prefix: '/api', accessTokenExpiresAt: expect.any(String) }]);
      // No token of any kind: no JWT-shaped value, no opaque refresh token.
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);
      const refreshToken = await refreshTokenOf(stack, browser.get(stack.gatewayUrl, SESSION_COOKIE)!);
      expect(refreshToken).toBeDefined();
      expect(text).not.toContain(refreshToken!);
    });

    it('answers 401 with whether the session never existed or has ended', async () => {
      const none = await fetch(`${stack.gatewayUrl}/auth/user`, { headers: XCSRF });
      expect(none.status).toBe(401);
      expect(await none.json()).toEqual({ error: 'unauthenticated', reason: 'no_session' });
      const { browser, ticket } = await stack.login('alice', 'wonderland');
      const logout = await browser.fetch(`${stack.gatewayUrl}/auth/logout`, {
        method: 'POST',
        headers: { ...XCSRF, origin: new URL(stack.gatewayUrl).origin },
      });
      expect(logout.status).toBe(200);
      const ended = await fetch(`${stack.gatewayUrl}/auth/user`, {
        headers: { ...XCSRF, cookie: `${SESSION_COOKIE}=${ticket}` },
      });
      expect(ended.status).toBe(401);
      expect(await ended.json()).toEqual({ error: 'unauthenticated', reason: 'session_expired' });
    });

    it('puts the idle time left on every proxied answer, and a 401 there says why', async () => {
      const { cookie } = await stack.login('alice', 'wonderland');
      const answer = await fetch(`${stack.gatewayUrl}/api/whoami`, { headers: { cookie } });
      expect(answer.status).toBe(200);
      const expiresIn = Number(answer.headers.get('x-session-expires-in'));
      expect(expiresIn).toBeGreaterThan(IDLE_SECONDS - 10);
      expect(expiresIn).toBeLessThanOrEqual(IDLE_SECONDS);
      const expired = await fetch(`${stack.gatewayUrl}/api/whoami`, {
        headers: { cookie: `${SESSION_COOKIE}=${'B'.repeat(43)}` },
      });
      expect(expired.status).toBe(401);
      expect(await expired.json()).toEqual({ error: 'unauthenticated', reason: 'session_expired' });
      expect(expired.headers.get('x-session-expires-in')).toBeNull();
    });
  });

  describe("the user's sessions", () => {
    it('lists them with device, times and this one marked; ends one or all others on every instance, revoking their refresh tokens', async () => {
      const origin = new URL(stack.gatewayUrl).origin;
      const a = await stack.login('power-user', 'many-groups');
      const b = await stack.login('power-user', 'many-groups');
      const c = await stack.login('power-user', 'many-groups');
      const [refreshA, refreshB, refreshC] = await Promise.all(
        [a, b, c].map((s) => refreshTokenOf(stack, s.ticket)),
      );
      expect(new Set([refreshA, refreshB, refreshC]).size).toBe(3);
      for (const token of [refreshA, refreshB, refreshC]) expect(await isActive(stack, token!)).toBe(true);

      const listing = await a.browser.fetch(`${stack.gatewayUrl}/auth/sessions`, { headers: XCSRF });
      expect(listing.status).toBe(200);
      const { sessions } = (await listing.json()) as {
        sessions: Array<{
          id: string;
          device: string;
          createdAt: string;
          lastUsedAt: string;
          current: boolean;
        }>;
      };
      expect(sessions).toHaveLength(3);
      expect(sessions.filter((s) => s.current)).toHaveLength(1);
      for (const s of sessions) {
        expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'device', 'id', 'lastUsedAt']);
        expect(Date.parse(s.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(s.createdAt));
      }
      // Reading the list needs X-CSRF too.
      expect((await a.browser.fetch(`${stack.gatewayUrl}/auth/sessions`)).status).toBe(403);

      // B and C are in use on the second gateway instance (cached there).
      const second = stack.gateways[1];
      for (const s of [b, c]) {
        expect((await fetch(`${second}/api/whoami`, { headers: { cookie: s.cookie } })).status).toBe(200);
      }
      const idOf = async (browser: TestBrowser) => {
        const answer = await browser.fetch(`${stack.gatewayUrl}/auth/sessions`, { headers: XCSRF });
        return ((await answer.json()) as { sessions: typeof sessions }).sessions.find((s) => s.current)!.id;
      };
      const idB = await idOf(b.browser);
      const idA = await idOf(a.browser);

      // Ending needs X-CSRF and an allowed Origin, like logout.
      expect(
        (await a.browser.fetch(`${stack.gatewayUrl}/auth/sessions/${idB}`, { method: 'DELETE' })).status,
      ).toBe(403);
      expect(
        (
          await a.browser.fetch(`${stack.gatewayUrl}/auth/sessions/${idB}`, {
            method: 'DELETE',
            headers: { ...XCSRF, origin: 'https://evil.example' },
          })
        ).status,
      ).toBe(403);
      const unknown = await a.browser.fetch(`${stack.gatewayUrl}/auth/sessions/nope`, {
        method: 'DELETE',
        headers: { ...XCSRF, origin },
      });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: 'session_not_found' });
      const itself = await a.browser.fetch(`${stack.gatewayUrl}/auth/sessions/${idA}`, {
        method: 'DELETE',
        headers: { ...XCSRF, origin },
      });
      expect(itself.status).toBe(400);
      expect(await itself.json()).toEqual({
        error: 'invalid_request',
        reason: 'this_session_ends_with_logout',
      });

      // End B alone: refused on the other instance within the invalidation bound, its refresh token revoked.
      const endB = await a.browser.fetch(`${stack.gatewayUrl}/auth/sessions/${idB}`, {
        method: 'DELETE',
        headers: { ...XCSRF, origin },
      });
      expect(endB.status).toBe(200);
      expect(await endB.json()).toEqual({ ended: 1, revoked: 1 });
      const refusedWithin = async (cookie: string) => {
        const started = performance.now();
        for (;;) {
          const status = (await fetch(`${second}/api/whoami`, { headers: { cookie } })).status;
          if (status === 401) return performance.now() - started;
          if (performance.now() - started > 1000) return Infinity;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      expect(await refusedWithin(b.cookie)).toBeLessThanOrEqual(100);
      expect(await isActive(stack, refreshB!)).toBe(false);
      expect((await fetch(`${second}/api/whoami`, { headers: { cookie: c.cookie } })).status).toBe(200);
      // B's browser gets no session back without the person: its grant went with its refresh token.
      const silent = await b.browser.follow(`${stack.gatewayUrl}/auth/silent-login?returnTo=%2F`);
      expect(silent.url.href).toBe(`${stack.gatewayUrl}/#silent-login=consent_required`);
      expect((await b.browser.fetch(`${stack.gatewayUrl}/auth/user`, { headers: XCSRF })).status).toBe(401);

      // "Sign out everywhere else": C ends too, A stays, on both instances.
      const others = await a.browser.fetch(`${stack.gatewayUrl}/auth/sessions/sign-out-others`, {
        method: 'POST',
        headers: { ...XCSRF, origin },
      });
      expect(others.status).toBe(200);
      expect(await others.json()).toEqual({ ended: 1, revoked: 1 });
      expect(await refusedWithin(c.cookie)).toBeLessThanOrEqual(100);
      expect(await isActive(stack, refreshC!)).toBe(false);
      expect(await isActive(stack, refreshA!)).toBe(true);
      for (const gateway of stack.gateways) {
        expect((await fetch(`${gateway}/api/whoami`, { headers: { cookie: a.cookie } })).status).toBe(200);
      }
      const after = await a.browser.fetch(`${stack.gatewayUrl}/auth/sessions`, { headers: XCSRF });
      expect(((await after.json()) as { sessions: unknown[] }).sessions).toEqual([
        expect.objectContaining({ id: idA, current: true }),
      ]);
    });
  });

  describe('silent login', () => {
    it('renews a session from the authorization server’s own session, with no page, by redirect or in an iframe', async () => {
      const { browser } = await stack.login('alice', 'wonderland');
      // The gateway session is gone (its cookie dropped); the authorization server's is not.
      browser.set(stack.gatewayUrl, SESSION_COOKIE, undefined);
      const redirected = await followWithoutForms(
        browser,
        `${stack.gatewayUrl}/auth/silent-login?returnTo=${encodeURIComponent('/app/page?x=1')}`,
      );
      expect(redirected.url.href).toBe(`${stack.gatewayUrl}/app/page?x=1#silent-login=ok`);
      const renewed = browser.get(stack.gatewayUrl, SESSION_COOKIE);
      expect(renewed).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await browser.fetch(`${stack.gatewayUrl}/auth/user`, { headers: XCSRF })).status).toBe(200);

      browser.set(stack.gatewayUrl, SESSION_COOKIE, undefined);
      const framed = await browser.follow(`${stack.gatewayUrl}/auth/silent-login?mode=iframe`);
      expect(framed.url.pathname).toBe('/auth/callback');
      expect(framed.response.status).toBe(200);
      expect(framed.response.headers.get('content-security-policy')).toMatch(/frame-ancestors 'self'/);
      const page = await framed.response.text();
      expect(page).toContain(`"source":"cloakroom-silent-login","loggedIn":true`);
      expect(page).toContain(JSON.stringify(new URL(stack.gatewayUrl).origin));
      expect(browser.get(stack.gatewayUrl, SESSION_COOKIE)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('answers login_required without any page when the authorization server has no session', async () => {
      const browser = new TestBrowser();
      const redirected = await followWithoutForms(
        browser,
        `${stack.gatewayUrl}/auth/silent-login?returnTo=%2F`,
      );
      expect(redirected.url.href).toBe(`${stack.gatewayUrl}/#silent-login=login_required`);
      expect(browser.get(stack.gatewayUrl, SESSION_COOKIE)).toBeUndefined();
      const framed = await browser.follow(`${stack.gatewayUrl}/auth/silent-login?mode=iframe`);
      expect(framed.response.status).toBe(200);
      expect(await framed.response.text()).toContain(
        `"source":"cloakroom-silent-login","loggedIn":false,"error":"login_required"`,
      );
      // The login cookies of both attempts are gone: nothing is left in progress.
      expect(browser.names(stack.gatewayUrl)).toEqual([]);
    });

    it('never restarts a silent login whose state was lost: the app hears login_failed', async () => {
      const browser = new TestBrowser();
      const framed = await browser.follow(`${stack.gatewayUrl}/auth/callback?state=si.lost&code=x`);
      expect(framed.response.status).toBe(200);
      expect(await framed.response.text()).toContain(`"loggedIn":false,"error":"login_failed"`);
      const redirected = await browser.follow(`${stack.gatewayUrl}/auth/callback?state=sr.lost&code=x`);
      expect(redirected.url.href).toBe(`${stack.gatewayUrl}/#silent-login=login_failed`);
    });
  });

  it('keeps a refresh token for a first-party client without prompt=consent, and the session refreshes', async () => {
    const { browser, cookie } = await stack.login('alice', 'wonderland');
    expect(await refreshTokenOf(stack, browser.get(stack.gatewayUrl, SESSION_COOKIE)!)).toBeDefined();
    const login = await new TestBrowser().fetch(`${stack.gatewayUrl}/auth/login?returnTo=%2F`);
    expect(new URL(login.headers.get('location')!).searchParams.has('prompt')).toBe(false);
    expect((await fetch(`${stack.gatewayUrl}/api/whoami`, { headers: { cookie } })).status).toBe(200);
  });
});

describe('a third-party gateway client: the consent is remembered as a grant', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ gatewayFirstParty: false });
  });

  afterAll(async () => stack?.stop());

  it('shows the consent page at the first login only, not at the next one in the same browser', async () => {
    const browser = new TestBrowser();
    const isCallback = (url: URL) => url.href.startsWith(`${stack.gatewayUrl}/auth/callback`);
    const consentPages: string[] = [];
    // The first login: sign-in form, then the consent page (submitted by signIn as a person would).
    const first = await browser.follow(`${stack.gatewayUrl}/auth/login?returnTo=%2F`, isCallback);
    let { response, url } = first;
    for (let step = 0; step < 4 && !isCallback(url); step++) {
      const html = await response.text();
      if (html.includes('name="password"') === false) consentPages.push(url.pathname);
      const action = /<form[^>]*action="([^"]+)"/.exec(html)![1].replaceAll('&amp;', '&');
      const csrf = /name="csrf"[^>]*value="([^"]*)"/.exec(html)![1];
      const fields: Record<string, string> = html.includes('name="password"')
        ? { csrf, username: 'alice', password: 'wonderland' }
        : { csrf };
      const target = new URL(action, url);
      const posted = await browser.submit(target, fields);
      ({ response, url } = await browser.follow(
        new URL(posted.headers.get('location')!, target),
        isCallback,
      ));
    }
    expect(consentPages).toHaveLength(1);
    await (await browser.fetch(url)).arrayBuffer();
    expect(browser.get(stack.gatewayUrl, SESSION_COOKIE)).toBeDefined();

    // The second login in the same browser comes straight back: no sign-in form, no consent page.
    const second = await browser.follow(`${stack.gatewayUrl}/auth/login?returnTo=%2F`, isCallback);
    expect(isCallback(second.url)).toBe(true);
  });
});
