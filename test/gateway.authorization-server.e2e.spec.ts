import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { startAuthorizationServer } from '../apps/authorization-server/src/bootstrap.js';
import { startGateway } from '../apps/gateway/src/bootstrap.js';
import type { StartedGateway } from '../apps/gateway/src/bootstrap.js';
import { TestBrowser, formAction, inputValue } from './support/browser.js';
import { freePort } from './support/ports.js';
import { deletePrefix, dumpPrefix, requireRedis, testRedisUrl, uniquePrefix } from './support/redis.js';
import { startFixtureUpstream } from './support/recording-upstream.fixture.js';

const RESOURCE = 'http://localhost:4000';
const SECRET = 'gateway-e2e-secret-0123456789';

describe('gateway with the real authorization server', () => {
  let redis: Redis;
  let prefix: string;
  let dir: string;
  let as: { url: string; close(): Promise<void> };
  let gateway: StartedGateway;
  let upstream: Awaited<ReturnType<typeof startFixtureUpstream>>;
  let gatewayEnv: Record<string, string>;

  beforeAll(async () => {
    redis = await requireRedis();
    prefix = uniquePrefix('gw-as');
    dir = mkdtempSync(join(tmpdir(), 'cloakroom-gw-'));
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'clients.yaml'),
      stringify({
        clients: [
          {
            client_id: 'gateway',
            client_secret: SECRET,
            redirect_uris: [`${publicUrl}/auth/callback`],
            post_logout_redirect_uris: [`${publicUrl}/`],
            backchannel_logout_uri: `${publicUrl}/auth/backchannel-logout`,
            grant_types: ['authorization_code', 'refresh_token'],
            first_party: true,
            resources: [RESOURCE],
            scopes: ['openid', 'profile', 'email', 'groups', 'offline_access', 'orders:read', 'orders:write'],
          },
        ],
      }),
    );
    const asPort = await freePort();
    as = await startAuthorizationServer({
      PORT: String(asPort),
      MANAGEMENT_PORT: '0',
      ISSUER: `http://127.0.0.1:${asPort}`,
      LOG_LEVEL: 'silent',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: `${prefix}as:`,
      CLIENTS_FILE: join(dir, 'clients.yaml'),
      ACCESS_TOKEN_TTL_SECONDS: '10',
    });
    upstream = await startFixtureUpstream();
    gatewayEnv = {
      PORT: String(port),
      MANAGEMENT_PORT: '0',
      ISSUER_URL: as.url,
      GATEWAY_CLIENT_SECRET: SECRET,
      GATEWAY_PUBLIC_URL: publicUrl,
      GATEWAY_ROUTES: `/api=${upstream.url}`,
      GATEWAY_API_RESOURCE: RESOURCE,
      GATEWAY_COOKIE_INSECURE_DEV: 'true',
      GATEWAY_REFRESH_SKEW_SECONDS: '0',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: `${prefix}gw:`,
      LOG_LEVEL: 'silent',
    };
    gateway = await startGateway(gatewayEnv);
  });

  afterAll(async () => {
    await gateway?.close();
    await as?.close();
    await upstream?.close();
    if (redis) {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Signs in through the real login form, back to a page of the gateway (it fails otherwise). */
  async function signIn(username: string, password: string): Promise<TestBrowser> {
    const jar = new TestBrowser();
    const atGateway = (url: URL) => url.origin === gateway.url && !url.pathname.startsWith('/auth/');
    await jar.signIn(`${gateway.url}/auth/login?returnTo=/`, username, password, atGateway);
    return jar;
  }

  it('logs power-user in with a 43-character cookie and forwards a token under the 4 KiB budget', async () => {
    const jar = await signIn('power-user', 'many-groups');
    const ticket = jar.get(gateway.url, 'cloakroom')!;
    expect(ticket).toHaveLength(43);
    const cookieHeader = `cloakroom=${ticket}`;
    expect(cookieHeader.length).toBeLessThan(100);
    const response = await jar.fetch(`${gateway.url}/api/whoami`);
    expect(response.status).toBe(200);
    const { tokenBytes } = (await response.json()) as { tokenBytes: number };
    // 272 groups would make a 9.5 KB token; the demo's orders API may see only its 4 app-orders-* groups.
    expect(tokenBytes).toBeLessThanOrEqual(4096 - 'Authorization: Bearer \r\n'.length);
    const session = (await (await jar.fetch(`${gateway.url}/auth/session`)).json()) as {
      user: { sub: string; groupsCount?: number };
      sizes: { accessToken: number };
      budget: {
        totalBytes: number;
        claims: Array<{ name: string; bytes: number }>;
        limits: Array<{ subject: string; fits: boolean }>;
      };
    };
    expect(session.user.groupsCount).toBe(4);
    expect(session.sizes.accessToken).toBe(tokenBytes);
    // The demo page's token budget: the token as forwarded fits every limit.
    expect(session.budget.totalBytes).toBe(tokenBytes);
    expect(session.budget.limits.filter((l) => !l.fits)).toEqual([]);
    expect(JSON.stringify(session)).not.toMatch(/eyJ|team-|app-/);
    // Redis memory of the session stays under 4 KB.
    const entries = (await dumpPrefix(redis, `${prefix}gw:gateway.session:`)).map((e) => e.key);
    expect(entries).toHaveLength(1);
    const bytes = Number(await redis.call('MEMORY', 'USAGE', entries[0]));
    expect(bytes).toBeLessThanOrEqual(4096);
  });

  it('refreshes at the real token endpoint once for parallel calls, the cookie unchanged', async () => {
    const jar = await signIn('alice', 'wonderland');
    expect((await jar.fetch(`${gateway.url}/api/whoami`)).status).toBe(200);
    const before = upstream.seen.at(-1)!.headers.authorization;
    // A second instance refreshing 8 s before expiry: 2 s into a 10 s token it refreshes, and the new
    // token is fresh for it, so every request of the burst shares one refresh.
    const eager = await startGateway({ ...gatewayEnv, PORT: '0', GATEWAY_REFRESH_SKEW_SECONDS: '8' });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    try {
      jar.copy(gateway.url, eager.url);
      const from = upstream.seen.length;
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => jar.fetch(`${eager.url}/api/whoami`)),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      const forwarded = new Set(upstream.seen.slice(from).map((s) => s.headers.authorization));
      expect(forwarded.size).toBe(1);
      expect([...forwarded][0]).not.toBe(before);
      const setCookies = responses.flatMap((r) => r.headers.getSetCookie());
      expect(setCookies.some((line) => line.startsWith('cloakroom='))).toBe(false);
    } finally {
      await eager.close();
    }
  });

  it('logs out: end-session URL at the authorization server, the old cookie refused', async () => {
    const jar = await signIn('alice', 'wonderland');
    expect((await jar.fetch(`${gateway.url}/api/whoami`)).status).toBe(200);
    const ticket = jar.get(gateway.url, 'cloakroom')!;
    const logout = await jar.fetch(`${gateway.url}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf': '1', origin: gateway.url },
    });
    const body = (await logout.json()) as { endSessionUrl: string };
    expect(body.endSessionUrl).toContain(`${as.url}/`);
    expect(body.endSessionUrl).toContain('id_token_hint=');
    expect(
      (await fetch(`${gateway.url}/api/whoami`, { headers: { cookie: `cloakroom=${ticket}` } })).status,
    ).toBe(401);
  });
  it('ends the gateway session when the user signs out at the authorization server (back-channel logout)', async () => {
    const jar = await signIn('alice', 'wonderland');
    expect((await jar.fetch(`${gateway.url}/api/whoami`)).status).toBe(200);
    // Sign out at the authorization server itself, as from another application.
    const endSession = new URL(`${as.url}/session/end?client_id=gateway`);
    const page = await jar.fetch(endSession);
    const html = await page.text();
    const action = formAction(html);
    const xsrf = inputValue(html, 'xsrf');
    expect(action && xsrf).toBeTruthy();
    const confirmed = await jar.submit(new URL(action!, endSession), { xsrf: xsrf!, logout: 'yes' });
    expect(confirmed.status).toBe(303);
    // The authorization server told the gateway over the back channel: the cookie no longer works.
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await jar.fetch(`${gateway.url}/api/whoami`)).status;
    }
    expect(status).toBe(401);
  });
});
