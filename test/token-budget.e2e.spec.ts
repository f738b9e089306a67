import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { loadConfig } from '@cloakroom/config';
import { InvalidToken, ResourceServerConfig, TokenVerifier } from '@cloakroom/resource-server';
import { BEARER_LINE_OVERHEAD_BYTES } from '@cloakroom/token-budget';
import { writeUsersWithGroups } from './support/users-file.js';
import { TestBrowser } from './support/browser.js';
import { RP, isRpCallback, startTestAuthorizationServer } from './support/authorization-server.js';
import type { TestAuthorizationServer } from './support/authorization-server.js';

const ORDERS = 'http://orders.test';
const DIRECTORY = 'http://directory.test';
const PASSWORD = 'budget-test-password';
const SIZES = [3, 272, 2000, 10000];

/** n groups: mostly other applications', one in ten the orders API's, and the very last one orders' too. */
function groupsOf(n: number): string[] {
  const groups = Array.from({ length: n - 1 }, (_, i) =>
    i % 10 === 0 ? `app-orders-role-${i}` : `app-team-${i}-members`,
  );
  return [...groups, `app-orders-last-of-${n}`];
}

describe('access tokens under a byte budget, whatever the group count (real authorization server)', () => {
  let server: TestAuthorizationServer;
  let rp: oidc.Configuration;
  let dir: string;
  const verifiers = new Map<string, TokenVerifier>();
  /** Per user: one access token per API, from one sign-in and a refresh grant per resource. */
  const tokens = new Map<number, Record<string, string>>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloakroom-budget-'));
    await writeUsersWithGroups(dir, SIZES, groupsOf, PASSWORD);
    server = await startTestAuthorizationServer({
      env: { USERS_FILE: join(dir, 'users.yaml') },
      clients: [{ ...RP, resources: [ORDERS, DIRECTORY] }],
      resources: [
        { indicator: ORDERS, scopes: ['orders:read'], groupsClaim: true, groups: ['app-orders-*'] },
        { indicator: DIRECTORY, scopes: ['orders:read'], groupsClaim: true },
      ],
    });
    rp = await oidc.discovery(new URL(server.issuer), RP.client_id, RP.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    for (const audience of [ORDERS, DIRECTORY]) {
      const config = loadConfig(ResourceServerConfig, {
        ISSUER_URL: server.issuer,
        RESOURCE_AUDIENCE: audience,
        TOKEN_VALIDATION: 'jwt',
      });
      verifiers.set(audience, new TokenVerifier(config));
    }
    for (const n of SIZES) tokens.set(n, await signInFor(`user-${n}`));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signInFor(username: string): Promise<Record<string, string>> {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const parameters = new URLSearchParams({
      redirect_uri: RP.redirect_uris[0]!,
      scope: 'openid groups offline_access orders:read',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      prompt: 'consent',
    });
    parameters.append('resource', ORDERS);
    parameters.append('resource', DIRECTORY);
    const url = oidc.buildAuthorizationUrl(rp, parameters);
    const callback = await new TestBrowser().signIn(url, username, PASSWORD, isRpCallback);
    const first = await oidc.authorizationCodeGrant(
      rp,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state },
      { resource: ORDERS },
    );
    const second = await oidc.refreshTokenGrant(rp, first.refresh_token!, { resource: DIRECTORY });
    return { [ORDERS]: first.access_token, [DIRECTORY]: second.access_token };
  }

  it.each(SIZES)('%i groups: every Authorization line is at most 4 KiB', (n) => {
    for (const token of Object.values(tokens.get(n)!)) {
      expect(BEARER_LINE_OVERHEAD_BYTES + token.length).toBeLessThanOrEqual(4096);
    }
  });

  it.each(SIZES)('%i groups: each API sees exactly the groups its patterns admit', async (n) => {
    const all = groupsOf(n);
    const orders = await verifiers.get(ORDERS)!.verify(tokens.get(n)![ORDERS]!);
    expect(orders.groups).toEqual(all.filter((g) => g.startsWith('app-orders-')));
    expect(orders.groups).toContain(`app-orders-last-of-${n}`);
    const directory = await verifiers.get(DIRECTORY)!.verify(tokens.get(n)![DIRECTORY]!);
    expect(directory.groups).toEqual(all);
    expect(directory.claims._claim_names).toBeUndefined();
  });

  it('keeps small tokens whole and moves the groups of big ones out', () => {
    const payload = (jwt: string) =>
      JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload(tokens.get(3)![DIRECTORY]!).groups).toHaveLength(3);
    const big = payload(tokens.get(10000)![DIRECTORY]!);
    expect(big.groups).toBeUndefined();
    expect(big._claim_names).toEqual({ groups: 'src1' });
    expect(big._claim_sources).toEqual({ src1: { endpoint: `${server.issuer}/claims` } });
  });

  it("refuses one API's token at the other", async () => {
    for (const [from, to] of [
      [ORDERS, DIRECTORY],
      [DIRECTORY, ORDERS],
    ] as const) {
      await expect(verifiers.get(to)!.verify(tokens.get(2000)![from]!)).rejects.toBeInstanceOf(InvalidToken);
    }
  });

  it('fetches the distributed claims once for many parallel requests with one token', async () => {
    const config = loadConfig(ResourceServerConfig, {
      ISSUER_URL: server.issuer,
      RESOURCE_AUDIENCE: DIRECTORY,
      TOKEN_VALIDATION: 'jwt',
    });
    const fresh = new TokenVerifier(config);
    const principals = await Promise.all(
      Array.from({ length: 50 }, () => fresh.verify(tokens.get(10000)![DIRECTORY]!)),
    );
    expect(new Set(principals.map((p) => p.groups.length))).toEqual(new Set([10000]));
    expect(fresh.distributed.fetches).toBe(1);
  });

  it('answers the claims endpoint only to an access token of this server', async () => {
    const endpoint = `${server.issuer}/claims`;
    const none = await fetch(endpoint);
    expect(none.status).toBe(401);
    const forged = await fetch(endpoint, { headers: { authorization: 'Bearer e30.e30.AAAA' } });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: string }).error).toBe('invalid_token');
    const good = await fetch(endpoint, { headers: { authorization: `Bearer ${tokens.get(272)![ORDERS]}` } });
    expect(good.status).toBe(200);
    expect(good.headers.get('content-type')).toMatch(/^application\/jwt/);
  });
});
