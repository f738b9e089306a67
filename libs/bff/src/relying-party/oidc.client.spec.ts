import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '@cloakroom/config';
import { BffConfig } from '../bff.config.js';
import { OidcClient } from './oidc.client.js';
import {
  FIXTURE_CLIENT_SECRET,
  startFixtureProvider,
} from '../../../../test/support/openid-provider.fixture.js';
import type { FixtureProvider } from '../../../../test/support/openid-provider.fixture.js';

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
      loadConfig(BffConfig, {
        ISSUER_URL: op.issuer,
        ISSUER_INTERNAL_URL: op.listenUrl,
        GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
        GATEWAY_PUBLIC_URL: 'http://gateway.test',
      }),
    );
    const { url, pending } = await client.startLogin('/after', 'interactive');
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

  it('sends no prompt by default (offline_access never forces the consent page), the configured one, and none for a silent login', async () => {
    const settings = {
      ISSUER_URL: op.issuer,
      ISSUER_INTERNAL_URL: op.listenUrl,
      GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
    };
    const plain = new OidcClient(loadConfig(BffConfig, settings));
    const interactive = new URL((await plain.startLogin('/', 'interactive')).url).searchParams;
    expect(interactive.get('scope')).toContain('offline_access');
    expect(interactive.has('prompt')).toBe(false);
    const silent = await plain.startLogin('/', 'silent-iframe');
    expect(new URL(silent.url).searchParams.get('prompt')).toBe('none');
    expect(silent.pending.state.startsWith('si.')).toBe(true);
    const consenting = new OidcClient(
      loadConfig(BffConfig, { ...settings, GATEWAY_LOGIN_PROMPT: 'consent' }),
    );
    expect(new URL((await consenting.startLogin('/', 'interactive')).url).searchParams.get('prompt')).toBe(
      'consent',
    );
    expect(
      new URL((await consenting.startLogin('/', 'silent-redirect')).url).searchParams.get('prompt'),
    ).toBe('none');
  });

  it('refuses logout tokens the Back-Channel Logout spec refuses, each with its reason', async () => {
    const client = new OidcClient(
      loadConfig(BffConfig, {
        ISSUER_URL: op.issuer,
        ISSUER_INTERNAL_URL: op.listenUrl,
        GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
      }),
    );
    const event = 'http://schemas.openid.net/event/backchannel-logout';
    let jti = 0;
    const sign = (
      claims: Record<string, unknown>,
      options?: Parameters<FixtureProvider['signLogoutToken']>[1],
    ) => op.signLogoutToken({ sid: 'sid-1', jti: `jti-${++jti}`, ...claims }, options);
    const refusals: Array<[string, Promise<string>]> = [
      ['exp_missing', sign({ events: { [event]: {} } }, { expires: false })],
      ['events_invalid', sign({ events: { [event]: null } })],
      ['events_invalid', sign({ events: { [event]: [] } })],
      ['events_invalid', sign({ events: { [event]: 'yes' } })],
      ['events_invalid', sign({ events: { other: {} } })],
      ['events_invalid', sign({ events: null })],
      ['typ_invalid', sign({ events: { [event]: {} } }, { typ: 'JWT' })],
      ['typ_invalid', sign({ events: { [event]: {} } }, { typ: 'at+jwt' })],
      ['nonce_present', sign({ events: { [event]: {} }, nonce: 'n' })],
      ['aud_check_failed', sign({ events: { [event]: {} } }, { audience: 'someone-else' })],
    ];
    for (const [reason, token] of refusals) {
      await expect([reason, await client.verifyLogoutToken(await token).catch((e: unknown) => e)]).toEqual([
        reason,
        expect.objectContaining({ name: 'LogoutTokenInvalid', reason }),
      ]);
    }
    // The valid shapes: typ as oidc-provider sends it, its media-type form, or none at all.
    for (const typ of ['logout+jwt', 'application/logout+jwt', null]) {
      const token = await sign({ events: { [event]: {} } }, { typ });
      expect(await client.verifyLogoutToken(token)).toMatchObject({ sid: 'sid-1' });
    }
  });

  it('reports an unreachable issuer as unavailable, and retries discovery on the next call', async () => {
    const client = new OidcClient(
      loadConfig(BffConfig, { ISSUER_URL: 'http://127.0.0.1:9', GATEWAY_ISSUER_TIMEOUT_SECONDS: '1' }),
    );
    await expect(client.startLogin('/', 'interactive')).rejects.toMatchObject({ name: 'IssuerUnavailable' });
    await expect(client.startLogin('/', 'interactive')).rejects.toMatchObject({ name: 'IssuerUnavailable' });
  });
});
