import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadGatewayConfig } from './gateway.config.js';
import { OidcClient } from './oidc.client.js';
import { FIXTURE_CLIENT_SECRET, startFixtureProvider } from './testing/fixture-provider.js';
import type { FixtureProvider } from './testing/fixture-provider.js';

describe(OidcClient.name, () => {
  let op: FixtureProvider;

  beforeAll(async () => {
    // The issuer browsers see is not where the gateway can reach it, as with containers.
    op = await startFixtureProvider({
      gatewayUrl: 'http://gateway.test',
      accessTokenTtlSeconds: 60,
      issuer: 'http://issuer.invalid:3000',
    });
  });

  afterAll(async () => {
    await op?.close();
  });

  it('discovers through ISSUER_INTERNAL_URL and still sends browsers to the issuer', async () => {
    const client = new OidcClient(
      loadGatewayConfig({
        ISSUER_URL: op.issuer,
        ISSUER_INTERNAL_URL: op.listenUrl,
        GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
        GATEWAY_PUBLIC_URL: 'http://gateway.test',
      }),
    );
    const { url, pending } = await client.startLogin('/after');
    expect(url).toMatch(/^http:\/\/issuer\.invalid:3000\//);
    const params = new URL(url).searchParams;
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('state')).toBe(pending.state);
    expect(params.get('nonce')).toBe(pending.nonce);
    expect(params.get('redirect_uri')).toBe('http://gateway.test/auth/callback');
    expect(await client.endSessionUrl('id-token')).toMatch(/^http:\/\/issuer\.invalid:3000\/session\/end\?/);
    // The logout token's keys come from the internal address too.
    const token = await op.signLogoutToken({
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      sid: 'sid-1',
      jti: 'jti-1',
    });
    expect(await client.verifyLogoutToken(token)).toMatchObject({ sid: 'sid-1', jti: 'jti-1' });
  });

  it('reports an unreachable issuer as unavailable, and retries discovery on the next call', async () => {
    const client = new OidcClient(
      loadGatewayConfig({ ISSUER_URL: 'http://127.0.0.1:9', GATEWAY_ISSUER_TIMEOUT_SECONDS: '1' }),
    );
    await expect(client.startLogin('/')).rejects.toMatchObject({ name: 'IssuerUnavailable' });
    await expect(client.startLogin('/')).rejects.toMatchObject({ name: 'IssuerUnavailable' });
  });
});
