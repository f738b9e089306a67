import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { OPAQUE_RESOURCE, RP, isRpCallback } from '../support/authorization-server.js';
import { TestBrowser } from '../support/browser.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const TOKEN_TTL_SECONDS = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `cloakroom_authorization_server_tokens_issued_total{type}` counter as the management port's /metrics shows it. */
async function tokensIssued(stack: Stack, type: string): Promise<number> {
  const text = await (await fetch(`${stack.asManagementUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`cloakroom_authorization_server_tokens_issued_total{type="${type}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('races', () => {
  let stack: Stack;

  beforeAll(async () => {
    // Short-lived access tokens and no refresh skew: a token is used until it has really expired.
    stack = await startStack({
      gateways: 2,
      accessTokenTtlSeconds: TOKEN_TTL_SECONDS,
      gatewayEnv: { GATEWAY_REFRESH_SKEW_SECONDS: '0' },
    });
  });
  afterAll(async () => stack?.stop());

  it('50 parallel requests on an expired access token across two gateways: one refresh, fifty 200s', async () => {
    const { cookie } = await stack.login('alice', 'wonderland');
    // Both instances have the session in their caches before the token expires.
    for (const gateway of stack.gateways) {
      expect((await fetch(`${gateway}/api/whoami`, { headers: { cookie } })).status).toBe(200);
    }
    const expired = stack.upstream.authorizations.at(-1)!;
    const exp = decodeJwt(expired.replace(/^Bearer /, '')).exp!;
    await sleep(Math.max(0, exp * 1000 - Date.now()) + 1100);
    expect(Date.now() / 1000).toBeGreaterThan(exp + 1);

    const grantsBefore = stack.refreshGrants();
    const metricBefore = await tokensIssued(stack, 'refresh_token');
    const seenBefore = stack.upstream.authorizations.length;
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${stack.gateways[i % 2]}/api/whoami`, { headers: { cookie } }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    await Promise.all(responses.map((r) => r.arrayBuffer()));

    expect(statuses).toEqual(Array(50).fill(200));
    expect(stack.refreshGrants() - grantsBefore).toBe(1);
    // Refresh tokens rotate: one refresh grant saves exactly one new refresh token.
    expect((await tokensIssued(stack, 'refresh_token')) - metricBefore).toBe(1);
    const forwarded = new Set(stack.upstream.authorizations.slice(seenBefore));
    expect(forwarded.size).toBe(1);
    expect(forwarded.has(expired)).toBe(false);
    const fresh = decodeJwt([...forwarded][0].replace(/^Bearer /, ''));
    expect(fresh.exp!).toBeGreaterThan(Date.now() / 1000);
  }, 40_000);

  it('20 parallel redemptions of one code: exactly one success, and a replay revokes the whole grant', async () => {
    const rp = await oidc.discovery(new URL(stack.issuer), RP.client_id, RP.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const authorizationUrl = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: RP.redirect_uris[0],
      scope: 'openid profile offline_access orders:read',
      resource: OPAQUE_RESOURCE,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      prompt: 'consent',
    });
    const callback = await new TestBrowser().signIn(authorizationUrl, 'alice', 'wonderland', isRpCallback);
    const code = callback.searchParams.get('code')!;
    const basic = `Basic ${Buffer.from(`${RP.client_id}:${RP.client_secret}`).toString('base64')}`;
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: RP.redirect_uris[0],
      code_verifier: verifier,
      resource: OPAQUE_RESOURCE,
    }).toString();

    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${stack.asUrl}/token`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        }),
      ),
    );
    const answers = await Promise.all(
      responses.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> })),
    );
    const winners = answers.filter((a) => a.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of answers.filter((a) => a.status !== 200)) {
      expect(loser).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    }

    const { access_token, refresh_token } = winners[0].body;
    expect(access_token).toBeTruthy();
    expect(refresh_token).toBeTruthy();
    // Losers that found the code still fresh only fail; revoking is oidc-provider's decision, made when it
    // finds the code consumed. Presented once more, the replayed code revokes what it issued: the winner's
    // tokens are dead, whatever order things ran in.
    const replay = await fetch(`${stack.asUrl}/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect({ status: replay.status, body: await replay.json() }).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(await oidc.tokenIntrospection(rp, access_token)).toMatchObject({ active: false });
    expect(await oidc.tokenIntrospection(rp, refresh_token)).toMatchObject({ active: false });
    await expect(oidc.refreshTokenGrant(rp, refresh_token)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
