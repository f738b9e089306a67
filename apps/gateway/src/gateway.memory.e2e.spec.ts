import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../../../test/support/ports.js';
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

describe('gateway on the memory store (no Redis)', () => {
  let op: FixtureProvider;
  let upstream: Awaited<ReturnType<typeof startFixtureUpstream>>;
  let gateway: StartedGateway;

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    op = await startFixtureProvider({ gatewayUrl: publicUrl, accessTokenTtlSeconds: 1 });
    upstream = await startFixtureUpstream();
    gateway = await startGateway({
      NODE_ENV: 'test',
      PORT: String(port),
      MANAGEMENT_PORT: '0',
      ISSUER_URL: op.issuer,
      GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
      GATEWAY_PUBLIC_URL: publicUrl,
      GATEWAY_ROUTES: `/api=${upstream.url}`,
      GATEWAY_API_RESOURCE: FIXTURE_RESOURCE,
      GATEWAY_SCOPES: FIXTURE_SCOPES,
      GATEWAY_COOKIE_INSECURE_DEV: 'true',
      GATEWAY_REFRESH_SKEW_SECONDS: '0',
      LOG_LEVEL: 'silent',
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await op?.close();
    await upstream?.close();
  });

  it('logs in, proxies, refreshes once for parallel calls, and logs out', async () => {
    const jar = new CookieJar();
    await jar.follow(
      `${gateway.url}/auth/login`,
      (next) => next.origin === gateway.url && next.pathname === '/',
    );
    expect(jar.get(gateway.url, 'cloakroom')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The demo page names the store in use.
    const page = await (await fetch(`${gateway.url}/`)).text();
    expect(page).toContain('<td>the gateway’s memory, encrypted</td>');
    expect(page).not.toContain('Redis');
    expect((await jar.fetch(`${gateway.url}/api/whoami`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const before = op.refreshCalls();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => (await jar.fetch(`${gateway.url}/api/whoami`)).status),
    );
    expect(statuses).toEqual(Array(20).fill(200));
    expect(op.refreshCalls() - before).toBe(1);
    const ticket = jar.get(gateway.url, 'cloakroom');
    const logout = await jar.fetch(`${gateway.url}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf': '1', origin: gateway.url },
    });
    expect(logout.status).toBe(200);
    const after = await fetch(`${gateway.url}/api/whoami`, { headers: { cookie: `cloakroom=${ticket}` } });
    expect(after.status).toBe(401);
  });
});
