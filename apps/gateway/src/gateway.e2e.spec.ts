import { get } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { freePort } from '../../../test/support/ports.js';
import {
  deletePrefix,
  dumpPrefix,
  requireRedis,
  testRedisUrl,
  uniquePrefix,
} from '../../../test/support/redis.js';
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
import { startTcpProxy } from '../../../test/support/tcp-proxy.fixture.js';

/** A request exactly as given (fetch would set Sec-Fetch-Mode itself). */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  const target = new URL(url);
  // The path as written: URL parsing would resolve dot segments before they are sent.
  const path = url.slice(target.origin.length);
  return new Promise((resolve, reject) => {
    get({ host: target.hostname, port: target.port, path, headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    }).on('error', reject);
  });
}

const COOKIE = 'cloakroom'; // GATEWAY_COOKIE_INSECURE_DEV drops the __Host- prefix for plain http
const ACCESS_TTL = 3;

describe('gateway end to end (fixture OpenID Provider, real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let op: FixtureProvider;
  let upstream: Awaited<ReturnType<typeof startFixtureUpstream>>;
  let a: StartedGateway;
  let b: StartedGateway;
  let publicUrl: string;
  let baseEnv: Record<string, string>;

  beforeAll(async () => {
    redis = await requireRedis();
    prefix = uniquePrefix('gateway');
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    op = await startFixtureProvider({ gatewayUrl: publicUrl, accessTokenTtlSeconds: ACCESS_TTL, groups: 40 });
    upstream = await startFixtureUpstream();
    const closedPort = await freePort();
    baseEnv = {
      NODE_ENV: 'test',
      MANAGEMENT_PORT: '0',
      HOST: '127.0.0.1',
      ISSUER_URL: op.issuer,
      GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
      GATEWAY_PUBLIC_URL: publicUrl,
      GATEWAY_ROUTES: `/api=${upstream.url},/down=http://127.0.0.1:${closedPort}`,
      GATEWAY_API_RESOURCE: FIXTURE_RESOURCE,
      GATEWAY_SCOPES: FIXTURE_SCOPES,
      GATEWAY_COOKIE_INSECURE_DEV: 'true',
      GATEWAY_REFRESH_SKEW_SECONDS: '0',
      GATEWAY_UPSTREAM_TIMEOUT_MS: '500',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: prefix,
      STORE_PEPPER: 'gateway-e2e-pepper-0123456789abcdef',
      LOG_LEVEL: 'silent',
    };
    a = await startGateway({ ...baseEnv, PORT: String(port) });
    b = await startGateway({ ...baseEnv, PORT: '0' });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await op?.close();
    await upstream?.close();
    if (redis) {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  });

  /** Logs in through the fixture provider; returns the jar holding the session cookie. */
  async function login(returnTo = '/after'): Promise<CookieJar> {
    const jar = new CookieJar();
    const { url } = await jar.follow(
      `${a.url}/auth/login?returnTo=${encodeURIComponent(returnTo)}`,
      (next) => next.origin === a.url && !next.pathname.startsWith('/auth/'),
    );
    expect(url.pathname + url.search).toBe(returnTo);
    return jar;
  }

  async function storeReads(gateway: StartedGateway): Promise<number> {
    const text = await (await fetch(`${gateway.managementUrl}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('cloakroom_store_operation_seconds_count{operation="get"}'));
    return Number(line?.split(' ')[1] ?? 0);
  }

  function api(jar: CookieJar, gateway: StartedGateway, path = '/api/whoami', init: RequestInit = {}) {
    if (gateway !== a) jar.copy(a.url, gateway.url);
    return jar.fetch(`${gateway.url}${path}`, init);
  }

  it('logs in: a 43-character cookie, the token set stays in Redis, sealed', async () => {
    const jar = await login();
    const ticket = jar.get(a.url, COOKIE)!;
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(jar.names(a.url)).toEqual([COOKIE]);
    const session = (await (await jar.fetch(`${a.url}/auth/session`)).json()) as {
      sizes: { cookie: number };
    };
    expect(session).toMatchObject({
      authenticated: true,
      user: { sub: 'alice', name: 'Fixture alice', email: 'alice@example.test', groupsCount: 40 },
    });
    expect(session.sizes.cookie).toBe(COOKIE.length + 1 + 43);
    expect(JSON.stringify(session)).not.toContain('eyJ');

    const response = await api(jar, a);
    expect(response.status).toBe(200);
    const seen = upstream.seen.at(-1)!;
    const token = seen.headers.authorization!.replace(/^Bearer /, '');
    expect(token.split('.')).toHaveLength(3);
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(publicUrl).host);
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    // The upstream may set cookies of its own, never the gateway's.
    expect(response.headers.getSetCookie()).toEqual(['upstream-pref=1; Path=/']);
    expect(response.headers.get('keep-alive')).not.toBe('timeout=99');

    // Nothing readable in Redis: no token piece, no DEK, no claim.
    const dump = await dumpPrefix(redis, prefix);
    expect(dump.length).toBeGreaterThan(0);
    const needles = [token.slice(0, 40), token.split('.')[1].slice(20, 60), ticket, 'alice', 'Fixture'];
    for (const entry of dump) {
      expect(entry.ttlMs).toBeGreaterThan(0);
      for (const needle of needles) {
        expect(entry.key).not.toContain(needle);
        expect(entry.value.toString('latin1')).not.toContain(needle);
      }
    }
  });

  it('refuses API paths with dot segments or backslashes before they reach an upstream', async () => {
    const jar = await login();
    const before = upstream.seen.length;
    for (const path of [
      '/api/../admin',
      '/api/%2e%2e/admin',
      '/api/./x',
      '/api/.%2E/x',
      '/api/a%5c..%5cb',
      '/api/x/..',
    ]) {
      const response = await rawGet(`${a.url}${path}`, { cookie: `${COOKIE}=${jar.get(a.url, COOKIE)}` });
      expect([path, response.status]).toEqual([path, 400]);
    }
    expect(upstream.seen.length).toBe(before);
    expect((await api(jar, a, '/api/file.v2.json?q=..')).status).toBe(200);
  });

  it('sends a login whose returnTo would leave the site back to / on the gateway', async () => {
    // Query strings as sent: dot segments, encoded separators, backslashes, tabs, other origins.
    for (const query of [
      'returnTo=/.//evil.example',
      'returnTo=/..//evil.example',
      'returnTo=/%2e//evil.example',
      'returnTo=/%252e//evil.example',
      'returnTo=%2F%2Fevil.example',
      'returnTo=/%5Cevil.example',
      'returnTo=/%09/evil.example',
      'returnTo=https://evil.example/',
      'returnTo=/a&returnTo=//evil.example',
    ]) {
      const jar = new CookieJar();
      const { response, url } = await jar.follow(
        `${a.url}/auth/login?${query}`,
        (next) => next.origin !== op.issuer && !next.pathname.startsWith('/auth/'),
      );
      expect([query, response.status, url.href]).toEqual([query, 302, `${a.url}/`]);
    }
  });

  it('answers 401 to missing, random, altered, truncated, oversized and malformed cookies, never 500', async () => {
    const jar = await login();
    const ticket = jar.get(a.url, COOKIE)!;
    const altered = (ticket[0] === 'A' ? 'B' : 'A') + ticket.slice(1);
    // A cookie of the right shape names a session that has ended (or never was); anything else names none.
    const values: Array<[string | undefined, string]> = [
      [undefined, 'no_session'],
      ['x'.repeat(43), 'session_expired'],
      [altered, 'session_expired'],
      [ticket.slice(0, 42), 'no_session'],
      [ticket + 'A', 'no_session'],
      ['A'.repeat(5000), 'no_session'],
      ['!!!$$$', 'no_session'],
      ['%00', 'no_session'],
    ];
    for (const [value, reason] of values) {
      const headers: Record<string, string> = value === undefined ? {} : { cookie: `${COOKIE}=${value}` };
      const response = await fetch(`${a.url}/api/whoami`, { headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'unauthenticated', reason });
    }
    // A top-level navigation is sent to login instead.
    const navigation = await rawGet(`${a.url}/api/whoami?x=1`, {
      'sec-fetch-mode': 'navigate',
      accept: 'text/html',
    });
    expect(navigation.status).toBe(302);
    expect(navigation.headers.location).toBe('/auth/login?returnTo=%2Fapi%2Fwhoami%3Fx%3D1');
  });

  it('refuses unsafe API calls without X-CSRF or from a foreign origin; the upstream never sees them', async () => {
    const jar = await login();
    const before = upstream.seen.length;
    const post = (headers: Record<string, string>) =>
      api(jar, a, '/api/echo', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', ...headers },
        body: 'hi',
      });
    expect((await post({ origin: publicUrl })).status).toBe(403);
    expect((await post({ 'x-csrf': '1', origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ 'x-csrf': '1' })).status).toBe(403);
    expect(upstream.seen.length).toBe(before);
    const logout = await jar.fetch(`${a.url}/auth/logout`, {
      method: 'POST',
      headers: { origin: 'http://evil.example' },
    });
    expect(logout.status).toBe(403);

    const ok = await post({ 'x-csrf': '1', origin: publicUrl });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hi');
  });

  it('streams a large request body to the upstream and back', async () => {
    const jar = await login();
    const body = 'x'.repeat(3 * 1024 * 1024);
    const response = await api(jar, b, '/api/echo', {
      method: 'PUT',
      headers: { 'x-csrf': '1', origin: publicUrl, 'content-type': 'text/plain' },
      body,
    });
    expect(response.status).toBe(200);
    expect((await response.text()).length).toBe(body.length);
  });

  it('answers 502 when the upstream is down and 504 when it is slow', async () => {
    const jar = await login();
    const down = await api(jar, a, '/down/anything');
    expect(down.status).toBe(502);
    expect(await down.json()).toEqual({ error: 'upstream_unavailable', reason: 'connect_failed' });
    const slow = await api(jar, a, '/api/slow');
    expect(slow.status).toBe(504);
    expect(await slow.json()).toEqual({ error: 'upstream_timeout', reason: 'response_head_timeout' });
  });

  it('refreshes an expired access token once for 50 parallel calls across two instances', async () => {
    const jar = await login();
    const first = await api(jar, a);
    const before = ((await first.json()) as { tokenBytes: number }).tokenBytes;
    const tokenBefore = upstream.seen.at(-1)!.headers.authorization;
    await new Promise((resolve) => setTimeout(resolve, ACCESS_TTL * 1000 + 1100));
    const calls = op.refreshCalls();
    const seenFrom = upstream.seen.length;
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => api(jar, i % 2 === 0 ? a : b)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(op.refreshCalls() - calls).toBe(1);
    const forwarded = new Set(upstream.seen.slice(seenFrom).map((s) => s.headers.authorization));
    expect(forwarded.size).toBe(1);
    expect([...forwarded][0]).not.toBe(tokenBefore);
    expect(before).toBeGreaterThan(0);
    // The cookie does not change on refresh.
    expect(responses.every((r) => r.headers.getSetCookie().every((c) => !c.startsWith(`${COOKIE}=`)))).toBe(
      true,
    );
  });

  it('logs out: entry gone, cookie cleared, the other instance refuses within 100 ms', async () => {
    const jar = await login();
    const ticket = jar.get(a.url, COOKIE)!;
    // Both instances have the session cached: B's second call does not read the store.
    expect((await api(jar, a)).status).toBe(200);
    expect((await api(jar, b)).status).toBe(200);
    const reads = await storeReads(b);
    expect((await api(jar, b)).status).toBe(200);
    expect(await storeReads(b)).toBe(reads);
    const revocations = op.revocations();
    const response = await jar.fetch(`${a.url}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf': '1', origin: publicUrl },
    });
    const loggedOutAt = performance.now();
    expect(response.status).toBe(200);
    const body = (await response.json()) as { endSessionUrl: string };
    expect(body.endSessionUrl).toContain(`${op.issuer}/session/end`);
    expect(body.endSessionUrl).toContain('id_token_hint=');
    expect(op.revocations() - revocations).toBe(1);
    expect(jar.get(a.url, COOKIE)).toBeUndefined();
    let refusedAfter = Infinity;
    for (;;) {
      const status = (await fetch(`${b.url}/api/whoami`, { headers: { cookie: `${COOKIE}=${ticket}` } }))
        .status;
      if (status === 401) {
        refusedAfter = performance.now() - loggedOutAt;
        break;
      }
      if (performance.now() - loggedOutAt > 1000) break;
    }
    expect(refusedAfter).toBeLessThanOrEqual(100);
    const old = await fetch(`${a.url}/api/whoami`, { headers: { cookie: `${COOKIE}=${ticket}` } });
    expect(old.status).toBe(401);
  });

  it('ends every session of a sid on back-channel logout from the provider, on both instances', async () => {
    const jar = await login();
    const sid = op.lastSid()!;
    expect((await api(jar, a)).status).toBe(200);
    expect((await api(jar, b)).status).toBe(200);
    await op.backchannelLogout('alice', sid);
    expect((await api(jar, a)).status).toBe(401);
    expect((await api(jar, b)).status).toBe(401);
  });

  it('verifies logout tokens: audience, events, nonce, sid/sub, replay', async () => {
    const events = { 'http://schemas.openid.net/event/backchannel-logout': {} };
    const post = (token: string) =>
      fetch(`${a.url}/auth/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
      });
    const bad = [
      await op.signLogoutToken({ events, sid: 's', jti: 'j1' }, { audience: 'someone-else' }),
      await op.signLogoutToken({ events, sid: 's', jti: 'j2' }, { issuer: 'http://evil.example' }),
      await op.signLogoutToken({ sid: 's', jti: 'j3' }),
      await op.signLogoutToken({ events, sid: 's', jti: 'j4', nonce: 'n' }),
      await op.signLogoutToken({ events, jti: 'j5' }),
      'not.a.token',
    ];
    for (const token of bad) expect((await post(token)).status).toBe(400);
    // OpenID Connect Back-Channel Logout 1.0 §2.4: exp required, the event an object, typ logout+jwt.
    const event = 'http://schemas.openid.net/event/backchannel-logout';
    const refused: Array<[string, string]> = [
      ['exp_missing', await op.signLogoutToken({ events, sid: 's', jti: 'j6' }, { expires: false })],
      ['events_invalid', await op.signLogoutToken({ events: { [event]: null }, sid: 's', jti: 'j7' })],
      ['typ_invalid', await op.signLogoutToken({ events, sid: 's', jti: 'j8' }, { typ: 'JWT' })],
    ];
    for (const [reason, token] of refused) {
      const response = await post(token);
      expect([reason, response.status, await response.json()]).toEqual([
        reason,
        400,
        { error: 'invalid_request', reason },
      ]);
    }
    const good = await op.signLogoutToken({ events, sub: 'nobody', jti: `fresh-${Date.now()}` });
    expect((await post(good)).status).toBe(200);
    expect((await post(good)).status).toBe(400);
    const missing = await fetch(`${a.url}/auth/backchannel-logout`, { method: 'POST' });
    expect(missing.status).toBe(400);
  });

  it('replaces the session when a logged-in browser logs in again', async () => {
    const jar = await login();
    const first = jar.get(a.url, COOKIE)!;
    const { url } = await jar.follow(
      `${a.url}/auth/login?returnTo=/again`,
      (next) => next.origin === a.url && next.pathname === '/again',
    );
    expect(url.pathname).toBe('/again');
    const second = jar.get(a.url, COOKIE)!;
    expect(second).not.toBe(first);
    expect((await fetch(`${a.url}/api/whoami`, { headers: { cookie: `${COOKIE}=${first}` } })).status).toBe(
      401,
    );
    expect((await fetch(`${a.url}/api/whoami`, { headers: { cookie: `${COOKIE}=${second}` } })).status).toBe(
      200,
    );
  });

  it('serves health, readiness, metrics and the demo page', async () => {
    expect(await (await fetch(`${a.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    // Metrics on the management port only: the public port has none.
    expect((await fetch(`${a.url}/metrics`)).status).toBe(404);
    expect(await (await fetch(`${a.managementUrl}/readyz`)).json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`${a.managementUrl}/metrics`)).text();
    for (const name of [
      'cloakroom_gateway_sessions_created_total',
      'cloakroom_gateway_sessions_destroyed_total',
      'cloakroom_gateway_refreshes_total',
      'cloakroom_gateway_refresh_lock_wait_seconds',
      'cloakroom_store_operation_seconds',
      'cloakroom_gateway_upstream_latency_seconds',
      'cloakroom_gateway_forwarded_authorization_header_bytes',
      'cloakroom_gateway_session_cache_entries',
      'cloakroom_http_requests_total',
    ]) {
      expect(metrics).toContain(name);
    }
    const page = await fetch(`${a.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('/api/whoami');
    expect(html).toContain('/auth/logout');
  });

  it('answers 503 while Redis is away and serves again once it is back, without a restart', async () => {
    const relay = await startTcpProxy('127.0.0.1', Number(new URL(testRedisUrl()).port || 6379));
    const c = await startGateway({ ...baseEnv, PORT: '0', REDIS_URL: `redis://127.0.0.1:${relay.port}` });
    try {
      const jar = await login();
      expect((await api(jar, c)).status).toBe(200);
      expect((await api(jar, c)).status).toBe(200); // now cached
      await relay.cut();
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The cache is not trusted while invalidations cannot arrive: the store is asked, and is away.
      const during = await api(jar, c);
      expect(during.status).toBe(503);
      expect(await during.json()).toEqual({ error: 'session_store_unavailable' });
      await relay.restore();
      const deadline = Date.now() + 5000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = (await api(jar, c)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status).toBe(200);
    } finally {
      await c.close();
      await relay.close();
    }
  });

  it('measures forwarded Authorization headers and warns once when one exceeds the budget', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const d = await startGateway({ ...baseEnv, PORT: '0', GATEWAY_HEADER_BUDGET_BYTES: '256' });
    try {
      const jar = await login();
      for (let i = 0; i < 3; i++) expect((await api(jar, d)).status).toBe(200);
      const budgetWarnings = warn.mock.calls.filter((call) =>
        String(call[0]).includes('over the 256-byte budget'),
      );
      expect(budgetWarnings).toHaveLength(1);
      expect(String(budgetWarnings[0][0])).not.toContain('eyJ');
      const metrics = await (await fetch(`${d.managementUrl}/metrics`)).text();
      expect(metrics).toMatch(/cloakroom_gateway_forwarded_authorization_header_bytes_count 3\b/);
    } finally {
      warn.mockRestore();
      await d.close();
    }
  });

  it('stops trusting its cache within the heartbeat when Redis goes silent without a disconnect', async () => {
    const relay = await startTcpProxy('127.0.0.1', Number(new URL(testRedisUrl()).port || 6379));
    const c = await startGateway({
      ...baseEnv,
      PORT: '0',
      REDIS_URL: `redis://127.0.0.1:${relay.port}`,
      REDIS_COMMAND_TIMEOUT_MS: '300',
    });
    try {
      const jar = await login();
      expect((await api(jar, c)).status).toBe(200);
      expect((await api(jar, c)).status).toBe(200);
      relay.freeze();
      // Still served from the cache right away (the bound is the heartbeat, not zero)...
      expect((await api(jar, c)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      // ...but not after it: the store is asked, and does not answer.
      const response = await api(jar, c);
      expect(response.status).toBe(503);
    } finally {
      await c.close();
      await relay.close();
    }
  });

  it('answers 503 when the session store is unreachable, never 500', async () => {
    const closed = await freePort();
    const down = await startGateway({
      ...baseEnv,
      PORT: '0',
      REDIS_URL: `redis://127.0.0.1:${closed}`,
    });
    try {
      const response = await fetch(`${down.url}/api/whoami`, {
        headers: { cookie: `${COOKIE}=${'A'.repeat(43)}` },
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ error: 'session_store_unavailable' });
      const session = await fetch(`${down.url}/auth/session`, {
        headers: { cookie: `${COOKIE}=${'A'.repeat(43)}` },
      });
      expect(session.status).toBe(503);
      const loginResponse = await fetch(`${down.url}/auth/login`, { redirect: 'manual' });
      expect(loginResponse.status).toBe(503);
      expect((await fetch(`${down.url}/readyz`)).status).toBe(503);
    } finally {
      await down.close();
    }
  });
});
