import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { TestBrowser } from '../support/browser.js';
import { RP, isRpCallback } from '../support/authorization-server.js';
import { startCluster } from '../support/redis-topology.js';
import type { ClusterTopology } from '../support/redis-topology.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { writeReliabilitySection } from '../support/reliability.report.js';

describe('the whole flow on a Redis Cluster', () => {
  let cluster: ClusterTopology;
  let stack: Stack;
  const steps: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
    const store = { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodes };
    stack = await startStack({
      accessTokenTtlSeconds: 10,
      asEnv: store,
      gatewayEnv: { ...store, GATEWAY_REFRESH_SKEW_SECONDS: '8' },
    });
  }, 90_000);
  afterAll(async () => {
    if (steps.length) {
      writeReliabilitySection(
        '3. Redis Cluster',
        `**What was done.** A real cluster of three masters with one replica each (\`redis-cli --cluster create
… --cluster-replicas 1\`); the authorization server and a gateway on it (\`REDIS_CLUSTER_NODES\`), 10 s access
tokens.

**What was observed.**

${steps.map((step) => `- ${step}`).join('\n')}

**Command.** \`npm run test:faults\` (\`test/faults/redis-cluster.faults.spec.ts\`).`,
      );
    }
    await stack?.stop();
    await cluster?.stop();
  });

  const api = (cookie: string) =>
    fetch(`${stack.gatewayUrl}/api/orders`, { headers: { cookie }, redirect: 'manual' }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });

  it('logs in, calls the API, refreshes, logs out', async () => {
    const session = await stack.login('alice', 'wonderland');
    expect(session.ticket).toHaveLength(43);
    expect(await api(session.cookie)).toBe(200);
    const first = stack.upstream.authorizations.at(-1);
    const refreshesBefore = stack.refreshGrants();
    await new Promise((resolve) => setTimeout(resolve, 2500)); // within 8 s of the 10 s token's expiry
    expect(await api(session.cookie)).toBe(200);
    expect(stack.upstream.authorizations.at(-1)).not.toBe(first);
    expect(stack.refreshGrants()).toBe(refreshesBefore + 1);
    steps.push(
      'login through the form (43-character cookie), API call 200, refresh after 2.5 s: one refresh grant, a new token forwarded',
    );

    const logout = await fetch(`${stack.gatewayUrl}/auth/logout`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'x-csrf': '1', origin: new URL(stack.gatewayUrl).origin },
    });
    expect(logout.status).toBe(200);
    expect(await api(session.cookie)).toBe(401);
    steps.push('logout: 200, the old cookie then 401');
  });

  it('ends the gateway session on back-channel logout from the authorization server', async () => {
    const session = await stack.login('alice', 'wonderland');
    expect(await api(session.cookie)).toBe(200);
    const endSession = new URL(`${stack.issuer}/session/end?client_id=gateway`);
    const page = await session.browser.fetch(endSession);
    const html = await page.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1];
    await session.browser.submit(new URL(action, endSession), { xsrf, logout: 'yes' });
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await api(session.cookie);
    }
    expect(status).toBe(401);
    steps.push(
      'sign-out at the authorization server: the back-channel logout ended the gateway session (401)',
    );
  });

  it('refuses a replayed code and revokes its tokens', async () => {
    const rp = await oidc.discovery(new URL(stack.issuer), RP.client_id, RP.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const callback = await new TestBrowser().signIn(
      oidc.buildAuthorizationUrl(rp, {
        redirect_uri: RP.redirect_uris[0],
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }),
      'alice',
      'wonderland',
      isRpCallback,
    );
    const tokens = await oidc.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier });
    await expect(
      oidc.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier }),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await oidc.tokenIntrospection(rp, tokens.access_token)).toMatchObject({ active: false });
    steps.push('a replayed authorization code: invalid_grant, and the access token issued from it inactive');
  });
});
