import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { startAuthorizationServer } from '../../apps/authorization-server/src/bootstrap.js';
import type { RunningAuthorizationServer } from '../../apps/authorization-server/src/bootstrap.js';
import { writeUsersWithGroups } from '../support/users-file.js';
import { startDemoApi } from '../../apps/demo-api/src/bootstrap.js';
import { startGateway } from '../../apps/gateway/src/bootstrap.js';
import { TestBrowser } from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { deletePrefix, requireRedis, testRedisUrl, uniquePrefix } from '../support/redis.js';
import { startNginx } from '../support/nginx.fixture.js';
import type { RunningNginx } from '../support/nginx.fixture.js';

// Every hop small, whatever the group count: users with 3 to 10,000 groups sign in through the gateway and call
// two APIs, each behind nginx at its default 8 KiB header buffers. The orders API may see only app-orders-*
// groups; the directory API may see all of them.
const ORDERS = 'http://orders.internal';
const DIRECTORY = 'http://directory.internal';
const PASSWORD = 'hops-test-password';
const SIZES = [3, 272, 2000, 10000];
const CLIENT = { id: 'hops-gateway', secret: 'hops-gateway-secret-0123456789abcdef' };
const NGINX_LINE_LIMIT = 8192;

function groupsOf(n: number): string[] {
  const groups = Array.from({ length: n - 1 }, (_, i) => (i % 7 === 0 ? `app-orders-${i}` : `team-${i}`));
  // The last group exists only past any overage point: an API sees it only if nothing was cut.
  return [...groups, `app-orders-last-${n}`];
}

interface Whoami {
  sub: string;
  tokenBytes: number;
  groupsCount: number;
  memberOf?: Record<string, boolean>;
}

describe('every hop under 8 KiB, whatever the group count (gateway, two APIs behind nginx)', () => {
  const stops: Array<() => Promise<unknown>> = [];
  let gatewayUrl: string;
  let as: RunningAuthorizationServer;
  let refreshGrants = 0;
  let redis: Awaited<ReturnType<typeof requireRedis>>;
  let prefix: string;
  const figures: Record<string, number> = {};
  const cookies = new Map<number, string>();

  beforeAll(async () => {
    redis = await requireRedis();
    prefix = uniquePrefix('hops');
    stops.push(async () => {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    });
    const dir = mkdtempSync(join(tmpdir(), 'cloakroom-hops-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const [asPort, gatewayPort, ordersNginx, directoryNginx] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const issuer = `http://127.0.0.1:${asPort}`;
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await writeUsersWithGroups(dir, SIZES, groupsOf, PASSWORD);
    writeFileSync(
      join(dir, 'clients.yaml'),
      stringify({
        clients: [
          {
            client_id: CLIENT.id,
            client_secret: CLIENT.secret,
            redirect_uris: [`${gatewayUrl}/auth/callback`],
            grant_types: ['authorization_code', 'refresh_token'],
            first_party: true,
            resources: [ORDERS, DIRECTORY],
            scopes: ['openid', 'profile', 'groups', 'offline_access', 'orders:read'],
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'resources.yaml'),
      stringify({
        resources: [
          { indicator: ORDERS, scopes: ['orders:read'], groupsClaim: true, groups: ['app-orders-*'] },
          { indicator: DIRECTORY, scopes: ['orders:read'], groupsClaim: true },
        ],
      }),
    );
    as = await startAuthorizationServer({
      PORT: String(asPort),
      HOST: '127.0.0.1',
      ISSUER: issuer,
      LOG_LEVEL: 'silent',
      LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '1000000',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: `${prefix}as:`,
      USERS_FILE: join(dir, 'users.yaml'),
      CLIENTS_FILE: join(dir, 'clients.yaml'),
      RESOURCES_FILE: join(dir, 'resources.yaml'),
      ACCESS_TOKEN_TTL_SECONDS: '20',
      MANAGEMENT_PORT: '0',
    });
    stops.push(() => as.close());
    as.provider.on('grant.success', (ctx: { oidc?: { params?: { grant_type?: unknown } } }) => {
      if (ctx.oidc?.params?.grant_type === 'refresh_token') refreshGrants++;
    });
    const apis: Record<string, string> = {};
    for (const audience of [ORDERS, DIRECTORY]) {
      const api = await startDemoApi({
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        ISSUER_URL: issuer,
        RESOURCE_AUDIENCE: audience,
        TOKEN_VALIDATION: 'jwt',
        BASE_PATH: audience === ORDERS ? '/orders' : '/directory',
      });
      stops.push(() => api.close());
      apis[audience] = api.url;
    }
    const nginx: RunningNginx = await startNginx([
      { port: ordersNginx, upstream: apis[ORDERS]! },
      { port: directoryNginx, upstream: apis[DIRECTORY]! },
    ]);
    stops.push(() => nginx.stop());
    const gateway = await startGateway({
      PORT: String(gatewayPort),
      MANAGEMENT_PORT: '0',
      HOST: '127.0.0.1',
      ISSUER_URL: issuer,
      GATEWAY_CLIENT_ID: CLIENT.id,
      GATEWAY_CLIENT_SECRET: CLIENT.secret,
      GATEWAY_PUBLIC_URL: gatewayUrl,
      GATEWAY_SCOPES: 'openid profile groups offline_access orders:read',
      GATEWAY_API_RESOURCE: ORDERS,
      GATEWAY_ROUTES: `/orders=http://127.0.0.1:${ordersNginx},/directory=http://127.0.0.1:${directoryNginx};resource=${DIRECTORY}`,
      GATEWAY_COOKIE_INSECURE_DEV: 'true',
      GATEWAY_REFRESH_SKEW_SECONDS: '5',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: `${prefix}gw:`,
      LOG_LEVEL: 'silent',
    });
    stops.push(() => gateway.close());
    for (const n of SIZES) {
      const browser = new TestBrowser();
      const callback = await browser.signIn(
        new URL('/auth/login?returnTo=/', gatewayUrl),
        `user-${n}`,
        PASSWORD,
        (url) => url.href.startsWith(`${gatewayUrl}/auth/callback`),
      );
      const response = await browser.fetch(callback);
      await response.arrayBuffer();
      expect(response.status).toBe(302);
      cookies.set(n, `cloakroom=${browser.get(gatewayUrl, 'cloakroom')}`);
    }
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    console.log(`hop figures: ${JSON.stringify(figures)}`);
  });

  async function call(n: number, route: '/orders' | '/directory', groups: string[] = []): Promise<Whoami> {
    const query = groups.map((g) => `group=${encodeURIComponent(g)}`).join('&');
    const response = await fetch(`${gatewayUrl}${route}/api/whoami${query ? `?${query}` : ''}`, {
      headers: { cookie: cookies.get(n)! },
    });
    const body = await response.text();
    expect({ status: response.status, body: response.status === 200 ? '' : body }).toEqual({
      status: 200,
      body: '',
    });
    return JSON.parse(body) as Whoami;
  }

  it.each(SIZES)('%i groups: both routes answer 200 and every header line stays under 8 KiB', async (n) => {
    const cookieLine = `Cookie: ${cookies.get(n)}\r\n`.length;
    expect(cookieLine).toBeLessThan(100);
    for (const route of ['/orders', '/directory'] as const) {
      const whoami = await call(n, route);
      const authorizationLine = 'Authorization: Bearer \r\n'.length + whoami.tokenBytes;
      expect(authorizationLine).toBeLessThanOrEqual(4096);
      expect(authorizationLine).toBeLessThan(NGINX_LINE_LIMIT);
      figures[`${n}${route}.authorizationLine`] = authorizationLine;
    }
    figures[`${n}.cookieLine`] = cookieLine;
  });

  it.each(SIZES)('%i groups: each API sees exactly the groups it may see', async (n) => {
    const all = groupsOf(n);
    const last = `app-orders-last-${n}`;
    const orders = await call(n, '/orders', [last, 'team-1']);
    expect(orders.groupsCount).toBe(all.filter((g) => g.startsWith('app-orders-')).length);
    expect(orders.memberOf).toEqual({ [last]: true, 'team-1': false });
    const directory = await call(n, '/directory', [last, 'team-1']);
    expect(directory.groupsCount).toBe(n);
    expect(directory.memberOf).toEqual({ [last]: true, 'team-1': all.includes('team-1') });
  });

  it('keeps a 272-group session with a token for each of the two APIs under 4 KB of Redis memory', async () => {
    await call(272, '/orders');
    await call(272, '/directory');
    const keys = await redis.keys(`${prefix}gw:gateway.session:*`);
    const sizes = await Promise.all(
      keys.map(async (key) => Number(await redis.call('MEMORY', 'USAGE', key))),
    );
    expect(sizes).toHaveLength(SIZES.length);
    figures.sessionRedisBytesMax = Math.max(...sizes);
    for (const bytes of sizes) expect(bytes).toBeLessThanOrEqual(4096);
  });

  it("refreshes each route's token once under 50 parallel calls", async () => {
    const n = 272;
    await call(n, '/orders');
    await call(n, '/directory');
    // Past the skew: both tokens (20 s) are due for a refresh.
    await new Promise((resolve) => setTimeout(resolve, 16_000));
    const before = refreshGrants;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(n, i % 2 === 0 ? '/orders' : '/directory')),
    );
    expect(results.every((r) => r.sub === results[0]!.sub)).toBe(true);
    expect(refreshGrants - before).toBe(2);
  }, 60_000);
});
