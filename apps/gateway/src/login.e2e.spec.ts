import { get } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { freePort } from '../../../test/support/ports.js';
import { deletePrefix, requireRedis, testRedisUrl, uniquePrefix } from '../../../test/support/redis.js';
import { startGateway } from './bootstrap.js';
import type { StartedGateway } from './bootstrap.js';
import { TestBrowser as CookieJar } from '../../../test/support/browser.js';
import {
  FIXTURE_CLIENT_SECRET,
  FIXTURE_RESOURCE,
  FIXTURE_SCOPES,
  startFixtureProvider,
} from '../../../test/support/openid-provider.fixture.js';
import type { FixtureProvider } from '../../../test/support/openid-provider.fixture.js';
import { startFixtureUpstream } from '../../../test/support/recording-upstream.fixture.js';

const COOKIE = 'cloakroom';
const LOGIN_PREFIX = 'cloakroom-login.';
/** What Chromium sends on a top-level navigation. */
const NAVIGATION = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
};

/** One request as given, without redirects: status, headers and body. */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    get(
      { host: target.hostname, port: target.port, path: url.slice(target.origin.length), headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    ).on('error', reject);
  });
}

const loginCookies = (jar: CookieJar, origin: string) =>
  jar.names(origin).filter((name) => name.startsWith(LOGIN_PREFIX));

describe('gateway login flow (fixture OpenID Provider, real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let op: FixtureProvider;
  let upstream: Awaited<ReturnType<typeof startFixtureUpstream>>;
  let gateway: StartedGateway;
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await requireRedis();
    prefix = uniquePrefix('gateway-login');
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    op = await startFixtureProvider({ gatewayUrl: publicUrl, accessTokenTtlSeconds: 60 });
    upstream = await startFixtureUpstream();
    env = {
      MANAGEMENT_PORT: '0',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      ISSUER_URL: op.issuer,
      GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
      GATEWAY_PUBLIC_URL: publicUrl,
      GATEWAY_ROUTES: `/api=${upstream.url}`,
      GATEWAY_API_RESOURCE: FIXTURE_RESOURCE,
      GATEWAY_SCOPES: FIXTURE_SCOPES,
      GATEWAY_COOKIE_INSECURE_DEV: 'true',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: prefix,
      GATEWAY_SESSION_IDLE_TIMEOUT_SECONDS: '600',
      GATEWAY_SESSION_ABSOLUTE_LIMIT_SECONDS: '7200',
      LOG_LEVEL: 'silent',
    };
    gateway = await startGateway({ ...env, PORT: String(port) });
  });

  afterAll(async () => {
    await gateway?.close();
    await op?.close();
    await upstream?.close();
    if (redis) {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  });

  const atCallback = (next: URL) => next.origin === gateway.url && next.pathname === '/auth/callback';

  /**
   * Starts a login in `jar` and follows it through the provider up to (not into) the gateway's callback.
   * The provider's leg runs in a jar of its own: this test jar ignores cookie paths, and the provider's
   * per-interaction cookies (Path=/auth/<uid>) would overwrite each other where a browser keeps them apart.
   */
  async function startLogin(jar: CookieJar, returnTo: string): Promise<URL> {
    const login = await jar.fetch(`${gateway.url}/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
    expect(login.status).toBe(302);
    await login.arrayBuffer();
    const { url } = await new CookieJar().follow(login.headers.get('location')!, atCallback);
    expect(url.pathname).toBe('/auth/callback');
    return url;
  }

  it('completes three logins started in parallel in one browser, each back to its own page', async () => {
    const jar = new CookieJar();
    const returns = ['/one', '/two', '/three'];
    const callbacks = await Promise.all(returns.map((returnTo) => startLogin(jar, returnTo)));
    // Finished in another order than started, as tabs are.
    for (const i of [2, 0, 1]) {
      const response = await jar.fetch(callbacks[i]);
      expect([returns[i], response.status, response.headers.get('location')]).toEqual([
        returns[i],
        302,
        returns[i],
      ]);
      expect(jar.get(gateway.url, COOKIE)).toMatch(/^[\w-]{43}$/);
      expect((await jar.fetch(`${gateway.url}/api/whoami`)).status).toBe(200);
    }
    expect(loginCookies(jar, gateway.url)).toEqual([]);
  });

  it('keeps a real login in progress through forged callbacks with other or unknown states', async () => {
    const victim = new CookieJar();
    const callback = await startLogin(victim, '/mine');
    // The attacker's own login: a real state and code, but no cookie for it in the victim's browser.
    const attacker = new CookieJar();
    const theirs = await startLogin(attacker, '/theirs');
    const forged = [
      theirs.href,
      `${gateway.url}/auth/callback?code=forged&state=forged`,
      `${gateway.url}/auth/callback?code=forged&state=${callback.searchParams.get('state')!.slice(1)}`,
      `${gateway.url}/auth/callback?code=forged`,
    ];
    for (const url of forged) {
      // A script gets JSON; a navigation (the cross-site case) is sent to log in again.
      const fetched = await victim.fetch(url);
      expect([url, fetched.status, await fetched.json()]).toEqual([url, 400, { error: 'login_failed' }]);
      const navigated = await victim.fetch(url, { headers: NAVIGATION });
      expect([url, navigated.status, navigated.headers.get('location')]).toEqual([
        url,
        302,
        '/auth/login?returnTo=%2F&restart=1',
      ]);
      await navigated.arrayBuffer();
    }
    const response = await victim.fetch(callback);
    expect([response.status, response.headers.get('location')]).toEqual([302, '/mine']);
    expect((await victim.fetch(`${gateway.url}/api/whoami`)).status).toBe(200);
    // A replay of the completed callback is a login no longer in progress.
    expect((await victim.fetch(callback)).status).toBe(400);
  });

  it('sends an expired login back to login once, then shows a page rather than loop', async () => {
    const jar = new CookieJar();
    const callback = await startLogin(jar, '/late');
    // The login cookie is gone, as when its Max-Age has passed.
    for (const name of loginCookies(jar, gateway.url)) jar.set(gateway.url, name, undefined);
    const late = await jar.fetch(callback, { headers: NAVIGATION });
    expect([late.status, late.headers.get('location')]).toEqual([302, '/auth/login?returnTo=%2F&restart=1']);
    // The restarted login: if the browser keeps no cookie at all, its callback meets a page.
    const { url: restarted } = await jar.follow(
      new URL(late.headers.get('location')!, gateway.url),
      atCallback,
    );
    expect(restarted.searchParams.get('state')).toMatch(/^r\./);
    for (const name of loginCookies(jar, gateway.url)) jar.set(gateway.url, name, undefined);
    const page = await rawGet(restarted.href, NAVIGATION);
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('this browser no longer holds the sign-in it started');
    expect(page.body).toContain('<a href="/auth/login">Sign in again</a>');
  });

  it('keeps at most five logins in progress per browser, dropping the oldest', async () => {
    const jar = new CookieJar();
    const started: string[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await jar.fetch(`${gateway.url}/auth/login?returnTo=/n${i}`);
      expect(response.status).toBe(302);
      await response.arrayBuffer();
      started.push(loginCookies(jar, gateway.url).at(-1)!);
    }
    expect(loginCookies(jar, gateway.url)).toEqual(started.slice(2));
  });

  it('tells both ends of a session: idle expiry and absolute limit, and what the cookie bytes are', async () => {
    const jar = new CookieJar();
    const loggedInAt = Date.now() / 1000;
    expect((await jar.fetch(await startLogin(jar, '/'))).status).toBe(302);
    const view = (await (await jar.fetch(`${gateway.url}/auth/session`)).json()) as {
      idleExpiresAt: string;
      absoluteExpiresAt: string;
      sizes: { cookie: number; cookieName: string };
    };
    const seconds = (iso: string) => Date.parse(iso) / 1000 - loggedInAt;
    expect(seconds(view.idleExpiresAt)).toBeGreaterThan(595);
    expect(seconds(view.idleExpiresAt)).toBeLessThan(605);
    expect(seconds(view.absoluteExpiresAt)).toBeGreaterThan(7195);
    expect(seconds(view.absoluteExpiresAt)).toBeLessThan(7205);
    // name=value as the Cookie header carries it: 9 + 1 + 43.
    expect(view.sizes).toMatchObject({ cookie: 53, cookieName: COOKIE });
    const page = await (await fetch(`${gateway.url}/`)).text();
    expect(page).toContain('<td>Redis, encrypted</td>');
    expect(page).toContain('session.idleExpiresAt');
    expect(page).toContain('session.absoluteExpiresAt');
  });

  it('answers a person with a page and a link, a script with JSON', async () => {
    const jar = new CookieJar();
    const callback = await startLogin(jar, '/');
    // The authorization server refused (the user cancelled): a real state, no code.
    const refused = new URL(
      `/auth/callback?error=access_denied&state=${callback.searchParams.get('state')}`,
      gateway.url,
    );
    const page = await rawGet(refused.href, {
      ...NAVIGATION,
      cookie: jar
        .names(gateway.url)
        .map((n) => `${n}=${jar.get(gateway.url, n)}`)
        .join('; '),
    });
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('The sign-in could not be completed.');
    expect(page.body).toContain('<a href="/auth/login">Sign in again</a>');

    const other = new CookieJar();
    const second = await startLogin(other, '/');
    const script = await other.fetch(
      `${gateway.url}/auth/callback?error=access_denied&state=${second.searchParams.get('state')}`,
      {
        headers: { accept: 'application/json' },
      },
    );
    expect([script.status, await script.json()]).toEqual([400, { error: 'login_failed' }]);

    const missing = await rawGet(`${gateway.url}/no-such-page`, NAVIGATION);
    expect([missing.status, missing.body.includes('<a href="/">Back to the start page</a>')]).toEqual([
      404,
      true,
    ]);
    const missingJson = await fetch(`${gateway.url}/no-such-page`);
    expect([missingJson.status, await missingJson.json()]).toEqual([404, { error: 'not_found' }]);
  });

  it('says the session store is unavailable, on the demo page and on login, while it is', async () => {
    const down = await startGateway({
      ...env,
      PORT: '0',
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    try {
      const page = await fetch(`${down.url}/`);
      expect(page.status).toBe(503);
      const html = await page.text();
      expect(html).toContain('data-store="unavailable"');
      expect(html).toContain('<div id="who">The session store is unavailable right now');
      const login = await rawGet(`${down.url}/auth/login`, NAVIGATION);
      expect([login.status, login.headers['content-type']]).toEqual([503, 'text/html; charset=utf-8']);
      expect(login.body).toContain('The session store is unavailable right now');
      const script = await fetch(`${down.url}/auth/login`, { redirect: 'manual' });
      expect([script.status, await script.json()]).toEqual([503, { error: 'session_store_unavailable' }]);
    } finally {
      await down.close();
    }
  });
});
