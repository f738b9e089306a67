import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, exportJWK, jwtVerify } from 'jose';
import { TestBrowser, formAction, inputValue } from './support/browser.js';
import {
  JWT_RESOURCE,
  OPAQUE_RESOURCE,
  RP,
  RS,
  isRpCallback,
  startTestAuthorizationServer,
} from './support/authorization-server.js';
import type { TestAuthorizationServer } from './support/authorization-server.js';
import { dumpPrefix } from './support/redis.js';

/** A client that is not first-party: its users see the consent page. */
const THIRD_PARTY = {
  ...RP,
  client_id: 'third-party',
  client_name: 'Third Party Reports',
  client_secret: 'third-party-secret-0123456789abcdef',
  first_party: false,
};

/** Every field of the discovery document: a field that appears (a feature turned on by default) fails here. */
const DISCOVERY_KEYS = [
  'authorization_endpoint',
  'authorization_response_iss_parameter_supported',
  'backchannel_logout_session_supported',
  'backchannel_logout_supported',
  'claim_types_supported',
  'claims_parameter_supported',
  'claims_supported',
  'code_challenge_methods_supported',
  'dpop_signing_alg_values_supported',
  'end_session_endpoint',
  'grant_types_supported',
  'id_token_signing_alg_values_supported',
  'introspection_endpoint',
  'issuer',
  'jwks_uri',
  'pushed_authorization_request_endpoint',
  'request_uri_parameter_supported',
  'response_modes_supported',
  'response_types_supported',
  'revocation_endpoint',
  'scopes_supported',
  'subject_types_supported',
  'token_endpoint',
  'token_endpoint_auth_methods_supported',
  'userinfo_endpoint',
];

describe('authorization server end to end (openid-client as the relying party, real Redis)', () => {
  let server: TestAuthorizationServer;
  let rp: oidc.Configuration;
  let rs: oidc.Configuration;
  /** Every credential issued in this suite, for the dump audit at the end. */
  const issued: string[] = [];

  const discover = (client: { client_id: string; client_secret: string }) =>
    oidc.discovery(new URL(server.issuer), client.client_id, client.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });

  /** Runs the authorization-code + PKCE flow through the login form; returns the token response. */
  async function authorize(
    options: { resource?: string; username?: string; password?: string; browser?: TestBrowser } = {},
  ) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const parameters: Record<string, string> = {
      redirect_uri: RP.redirect_uris[0],
      scope: 'openid profile email groups offline_access' + (options.resource ? ' orders:read' : ''),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      prompt: 'consent',
      ...(options.resource ? { resource: options.resource } : {}),
    };
    const browser = options.browser ?? new TestBrowser();
    const callback = await browser.signIn(
      oidc.buildAuthorizationUrl(rp, parameters),
      options.username ?? 'alice',
      options.password ?? 'wonderland',
      isRpCallback,
    );
    return { callback, verifier, state, nonce, browser };
  }

  async function redeem(flow: Awaited<ReturnType<typeof authorize>>, resource?: string) {
    const tokens = await oidc.authorizationCodeGrant(
      rp,
      flow.callback,
      { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce },
      resource ? { resource } : undefined,
    );
    issued.push(
      ...[tokens.access_token, tokens.refresh_token, tokens.id_token].filter((t): t is string => !!t),
    );
    issued.push(flow.callback.searchParams.get('code')!);
    const session = flow.browser.get(server.issuer, '_session');
    if (session) issued.push(session);
    return tokens;
  }

  /** Collects the grant ids of oidc-provider's `grant.revoked` events until stopped. */
  function grantRevocations() {
    const seen: string[] = [];
    const listener = (_ctx: unknown, grantId: string) => seen.push(grantId);
    server.as.provider.on('grant.revoked', listener);
    return {
      stop: () => {
        server.as.provider.off('grant.revoked', listener);
        return seen;
      },
    };
  }

  /** The relying party's back-channel logout endpoint: collects the logout tokens it receives. */
  const logoutTokens: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += String(chunk)));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token');
      if (token) logoutTokens.push(token);
      res.writeHead(200).end();
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const backchannel = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/backchannel-logout`;
    server = await startTestAuthorizationServer({
      clients: [{ ...RP, backchannel_logout_uri: backchannel }, THIRD_PARTY],
    });
    rp = await discover(RP);
    rs = await discover(RS);
  });
  afterAll(async () => {
    await server?.stop();
    receiver.close();
  });

  it('publishes discovery metadata for the configured issuer', async () => {
    const metadata = rp.serverMetadata();
    expect(metadata.issuer).toBe(server.issuer);
    expect(metadata.introspection_endpoint).toBe(`${server.issuer}/token/introspection`);
    expect(metadata.revocation_endpoint).toBeDefined();
    expect(metadata.end_session_endpoint).toBeDefined();
    expect(metadata.backchannel_logout_supported).toBe(true);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('advertises exactly the features it was configured with: DPoP and PAR on, nothing by default', async () => {
    const metadata = rp.serverMetadata() as Record<string, unknown>;
    expect(Object.keys(metadata).sort()).toEqual(DISCOVERY_KEYS);
    expect(metadata).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'Ed25519'],
      pushed_authorization_request_endpoint: `${server.issuer}/request`,
      claims_parameter_supported: false,
      request_uri_parameter_supported: false,
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types_supported: ['code'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    });
  });

  it('names its endpoints after ISSUER whatever Host or X-Forwarded-* the request carries', async () => {
    const discovery = (headers: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const { hostname, port } = new URL(server.as.listenUrl);
        request({ hostname, port, path: '/.well-known/openid-configuration', headers }, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += String(chunk)));
          res.on('end', () => resolve(body));
        })
          .on('error', reject)
          .end();
      });
    const forged = {
      host: 'evil.example',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
    };
    const provider = server.as.provider;
    const trusted = provider.proxy;
    try {
      for (const proxy of [false, true]) {
        provider.proxy = proxy; // behind a trusted proxy too: the issuer, not the forwarded host
        const body = await discovery(forged);
        expect(body).not.toContain('evil.example');
        const metadata = JSON.parse(body) as Record<string, string>;
        expect(metadata.token_endpoint).toBe(`${server.issuer}/token`);
        expect(metadata.authorization_endpoint).toBe(`${server.issuer}/auth`);
      }
    } finally {
      provider.proxy = trusted;
    }
  });

  it('accepts a pushed authorization request (RFC 9126) and signs in through its request_uri', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = await oidc.buildAuthorizationUrlWithPAR(rp, {
      redirect_uri: RP.redirect_uris[0],
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const callback = await new TestBrowser().signIn(url, 'alice', 'wonderland', isRpCallback);
    const tokens = await oidc.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier });
    expect(tokens.claims()?.sub).toBe('alice');
  });

  it('binds tokens to the DPoP key of a client that sends a proof (cnf.jkt), in JWTs and in introspection', async () => {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(rp, keys);
    const jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
    const bound = async (resource: string) => {
      const flow = await authorize({ resource });
      const tokens = await oidc.authorizationCodeGrant(
        rp,
        flow.callback,
        { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce },
        { resource },
        { DPoP },
      );
      issued.push(tokens.access_token, tokens.refresh_token!);
      expect(tokens.token_type).toBe('dpop');
      return tokens.access_token;
    };
    expect(decodeJwt(await bound(JWT_RESOURCE)).cnf).toEqual({ jkt });
    expect(await oidc.tokenIntrospection(rs, await bound(OPAQUE_RESOURCE))).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt },
    });
  });

  it('runs the code flow with PKCE: id token, userinfo, introspection, revocation', async () => {
    const tokens = await redeem(await authorize());
    const claims = tokens.claims()!;
    expect(claims.sub).toBe('alice');
    expect(claims.email).toBe('alice@example.com');
    expect(claims.groups).toBeUndefined(); // groups stay out of the id token
    const userinfo = await oidc.fetchUserInfo(rp, tokens.access_token, 'alice');
    expect(userinfo.email).toBe('alice@example.com');
    expect(userinfo.groups).toHaveLength(3);

    expect(await oidc.tokenIntrospection(rp, tokens.access_token)).toMatchObject({
      active: true,
      sub: 'alice',
    });
    await oidc.tokenRevocation(rp, tokens.access_token);
    expect(await oidc.tokenIntrospection(rp, tokens.access_token)).toMatchObject({ active: false });
  });

  it('rotates refresh tokens: the old one then fails', async () => {
    const tokens = await redeem(await authorize());
    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    issued.push(refreshed.access_token, refreshed.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('issues a JWT access token for a resource, verifiable with the published JWKS, with the groups', async () => {
    const tokens = await redeem(await authorize({ resource: JWT_RESOURCE }), JWT_RESOURCE);
    const jwks = createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      audience: JWT_RESOURCE,
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload.sub).toBe('alice');
    expect(payload.groups).toHaveLength(3);
    expect(String(payload.scope).split(' ')).toContain('orders:read');
  });

  it('lets a resource server introspect opaque tokens meant for it, and no others', async () => {
    const tokens = await redeem(await authorize({ resource: OPAQUE_RESOURCE }), OPAQUE_RESOURCE);
    expect(tokens.access_token.split('.')).toHaveLength(1);
    expect(await oidc.tokenIntrospection(rs, tokens.access_token)).toMatchObject({
      active: true,
      aud: OPAQUE_RESOURCE,
      sub: 'alice',
    });
    const own = await redeem(await authorize());
    expect(await oidc.tokenIntrospection(rs, own.access_token)).toMatchObject({ active: false });
  });

  it('tells another client nothing about a token, even one allowed to request tokens for that resource', async () => {
    const tokens = await redeem(await authorize({ resource: OPAQUE_RESOURCE }), OPAQUE_RESOURCE);
    const third = await discover(THIRD_PARTY);
    expect(await oidc.tokenIntrospection(third, tokens.access_token)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(rp, tokens.access_token)).toMatchObject({ active: true });
    expect(await oidc.tokenIntrospection(rs, tokens.access_token)).toMatchObject({ active: true });
    // Nor about the resource server's own client-credentials token.
    const granted = await oidc.clientCredentialsGrant(rs, {
      resource: OPAQUE_RESOURCE,
      scope: 'orders:read',
    });
    expect(await oidc.tokenIntrospection(third, granted.access_token)).toEqual({ active: false });
  });

  it('issues client-credentials tokens only with the scopes the client policy allows', async () => {
    const granted = await oidc.clientCredentialsGrant(rs, {
      resource: OPAQUE_RESOURCE,
      scope: 'orders:read',
    });
    expect(granted.scope).toBe('orders:read');
    const outcome = await oidc
      .clientCredentialsGrant(rs, { resource: OPAQUE_RESOURCE, scope: 'orders:write' })
      .then(
        (t) => t.scope ?? '',
        (e: { error?: string }) => e.error,
      );
    expect(outcome === 'invalid_scope' || !String(outcome).includes('orders:write')).toBe(true);
    const foreign = await oidc.clientCredentialsGrant(rs, { resource: 'http://elsewhere.test/' }).then(
      () => 'issued',
      (e: { error?: string }) => e.error,
    );
    expect(foreign).toBe('invalid_target');
  });

  it('refuses a replayed code and revokes what was issued from it', async () => {
    const flow = await authorize();
    const tokens = await redeem(flow);
    await expect(redeem(flow)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await oidc.tokenIntrospection(rp, tokens.access_token)).toMatchObject({ active: false });
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('lets exactly one of 20 concurrent redemptions of a code succeed; a replay then revokes the grant', async () => {
    const flow = await authorize();
    const revoked = grantRevocations();
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => redeem(flow)));
    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const loser of outcomes.filter((o) => o.status === 'rejected')) {
      expect((loser as PromiseRejectedResult).reason).toMatchObject({ error: 'invalid_grant' });
    }
    await expect(redeem(flow)).rejects.toMatchObject({ error: 'invalid_grant' });
    // oidc-provider revoked it itself, through its policy: its event fired, the winner's tokens are dead.
    expect(revoked.stop().length).toBeGreaterThan(0);
    const { access_token, refresh_token } = (winners[0] as PromiseFulfilledResult<oidc.TokenEndpointResponse>)
      .value;
    expect(await oidc.tokenIntrospection(rp, access_token)).toMatchObject({ active: false });
    await expect(oidc.refreshTokenGrant(rp, refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('leaves the loser of a redemption race to oidc-provider: the grant survives it, a replay revokes it', async () => {
    const flow = await authorize();
    // Hold the store's consume until both redemptions are there: both have passed oidc-provider's check.
    const raw = server.as.store as unknown as { rawConsume?: (key: string) => Promise<unknown> };
    const consume = Object.getPrototypeOf(raw).rawConsume as (key: string) => Promise<unknown>;
    let release!: () => void;
    const bothArrived = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    raw.rawConsume = async function (this: unknown, key: string) {
      if (++arrived === 2) release();
      await bothArrived;
      return consume.call(this, key);
    };
    const revoked = grantRevocations();
    const outcomes = await Promise.allSettled([redeem(flow), redeem(flow)]).finally(
      () => delete raw.rawConsume,
    );
    const winner = outcomes.find(
      (o) => o.status === 'fulfilled',
    ) as PromiseFulfilledResult<oidc.TokenEndpointResponse>;
    expect(outcomes.filter((o) => o.status === 'rejected')).toMatchObject([
      { reason: { error: 'invalid_grant' } },
    ]);
    expect(revoked.stop()).toEqual([]);
    expect(await oidc.tokenIntrospection(rp, winner.value.access_token)).toMatchObject({ active: true });

    const replay = grantRevocations();
    await expect(redeem(flow)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(replay.stop()).toHaveLength(1);
    expect(await oidc.tokenIntrospection(rp, winner.value.access_token)).toMatchObject({ active: false });
  });

  it("fires oidc-provider's grant.revoked event when a code is replayed", async () => {
    const flow = await authorize();
    await redeem(flow);
    const revoked = grantRevocations();
    await expect(redeem(flow)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(revoked.stop()).toHaveLength(1);
  });

  it('keeps the grant through an access-token revocation: the next code flow of the same user and client succeeds', async () => {
    const browser = new TestBrowser();
    const first = await redeem(await authorize({ browser }));
    const revoked = grantRevocations();
    await oidc.tokenRevocation(rp, first.access_token);
    expect(await oidc.tokenIntrospection(rp, first.access_token)).toMatchObject({ active: false });
    // Revoking an access token keeps the Grant (oidc-provider's default revokeGrantPolicy)...
    expect(revoked.stop()).toEqual([]);
    // ...and the same browser session signs in again under that grant: its code must still be redeemable.
    const second = await redeem(await authorize({ browser }));
    expect(second.access_token).toBeTruthy();
    expect(await oidc.tokenIntrospection(rp, second.access_token)).toMatchObject({
      active: true,
      sub: 'alice',
    });
  });

  it('lets exactly one of 20 concurrent refreshes with one refresh token succeed', async () => {
    const tokens = await redeem(await authorize());
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => oidc.refreshTokenGrant(rp, tokens.refresh_token!)),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });

  it('ends the session through RP-initiated logout with its own confirmation page', async () => {
    const flow = await authorize();
    const tokens = await redeem(flow);
    const endSession = oidc.buildEndSessionUrl(rp, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: RP.post_logout_redirect_uris[0],
    });
    const page = await flow.browser.fetch(endSession);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Sign out');
    const action = formAction(html)!;
    const xsrf = inputValue(html, 'xsrf')!;
    const done = await flow.browser.submit(new URL(action, endSession), { xsrf, logout: 'yes' });
    expect(done.status).toBe(303);
    // The provider confirms at its own success endpoint, which returns to the client.
    let location = new URL(done.headers.get('location')!, endSession);
    if (!location.href.startsWith(RP.post_logout_redirect_uris[0])) {
      const success = await flow.browser.fetch(location);
      location = new URL(success.headers.get('location')!, location);
    }
    expect(location.href.startsWith(RP.post_logout_redirect_uris[0])).toBe(true);
    // The relying party was told over the back channel, with a logout token signed by the server.
    for (let i = 0; i < 50 && logoutTokens.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const jwks = createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(logoutTokens.at(-1)!, jwks, {
      issuer: server.issuer,
      audience: RP.client_id,
    });
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload.sid).toBe(tokens.claims()!.sid);
    expect(payload.nonce).toBeUndefined();
    // The session is gone: a new authorization request asks for the password again.
    const again = await flow.browser.follow(
      oidc.buildAuthorizationUrl(rp, {
        redirect_uri: RP.redirect_uris[0],
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    );
    expect(await again.response.text()).toContain('name="password"');
  });

  it('asks for consent for a client that is not first-party, naming it, and issues a code after Allow', async () => {
    const third = await discover(THIRD_PARTY);
    const verifier = oidc.randomPKCECodeVerifier();
    const browser = new TestBrowser();
    const url = oidc.buildAuthorizationUrl(third, {
      redirect_uri: RP.redirect_uris[0],
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const login = await browser.follow(url);
    const loginHtml = await login.response.text();
    expect(loginHtml).toContain('Sign in to Third Party Reports');
    const posted = await browser.submit(new URL(formAction(loginHtml)!, login.url), {
      csrf: inputValue(loginHtml, 'csrf')!,
      username: 'alice',
      password: 'wonderland',
    });
    const consent = await browser.follow(new URL(posted.headers.get('location')!, login.url));
    const consentHtml = await consent.response.text();
    expect(consentHtml).toContain('Third Party Reports asks for access');
    expect(consentHtml).toContain('email');
    const allowed = await browser.submit(new URL(formAction(consentHtml)!, consent.url), {
      csrf: inputValue(consentHtml, 'csrf')!,
    });
    const { url: callback } = await browser.follow(
      new URL(allowed.headers.get('location')!, consent.url),
      (u) => u.href.startsWith(RP.redirect_uris[0]),
    );
    const tokens = await oidc.authorizationCodeGrant(third, callback, { pkceCodeVerifier: verifier });
    expect(tokens.claims()?.email).toBe('alice@example.com');
  });

  it('refuses wrong credentials and unknown users with the same words, and forms without CSRF token', async () => {
    const browser = new TestBrowser();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: RP.redirect_uris[0],
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const { response, url: page } = await browser.follow(url);
    const html = await response.text();
    const action = new URL(formAction(html)!, page);
    const csrf = inputValue(html, 'csrf')!;
    const wrong = await browser.submit(action, { csrf, username: 'alice', password: 'not-it' });
    const unknown = await browser.submit(action, { csrf, username: 'nobody', password: 'not-it' });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    const [wrongText, unknownText] = [await wrong.text(), await unknown.text()];
    expect(wrongText).toContain('Wrong username or password.');
    expect(unknownText).toContain('Wrong username or password.');
    const forged = await browser.submit(action, {
      csrf: 'x'.repeat(43),
      username: 'alice',
      password: 'wonderland',
    });
    expect(forged.status).toBe(403);
    // Same number of characters, more bytes: still a plain refusal.
    const multibyte = await browser.submit(action, {
      csrf: 'é'.repeat(43),
      username: 'alice',
      password: 'wonderland',
    });
    expect(multibyte.status).toBe(403);
    const crossSite = await browser.fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.test' },
      body: new URLSearchParams({ csrf, username: 'alice', password: 'wonderland' }).toString(),
    });
    expect(crossSite.status).toBe(403);
    const oversized = await browser.submit(action, { csrf, username: 'alice', password: 'p'.repeat(40_000) });
    expect(oversized.status).toBe(413);
  });

  it('answers bad input with 4xx and an OAuth error, never 500', async () => {
    const base = server.issuer;
    const requests: Array<[string, RequestInit?]> = [
      [`${base}/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=http://evil.test/`],
      [
        `${base}/auth?client_id=${RP.client_id}&response_type=code&scope=openid&redirect_uri=http://evil.test/cb`,
      ],
      [`${base}/auth?client_id=${RP.client_id}&response_type=code&scope=openid&state=${'x'.repeat(20_000)}`],
      [`${base}/token`, { method: 'POST', body: 'grant_type=authorization_code&code=%%%' }],
      [`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant' }],
      [`${base}/token/introspection`, { method: 'POST', body: 'token=abc' }],
      [`${base}/interaction/unknown`, {}],
      [`${base}/interaction/unknown/login`, { method: 'POST', body: 'username=a&password=b' }],
    ];
    const answers: Array<[string, number]> = [];
    for (const [url, init] of requests) {
      const response = await fetch(url, {
        redirect: 'manual',
        ...init,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(init?.headers ?? {}) },
      });
      answers.push([url.slice(0, 100), response.status]);
    }
    expect(answers.filter(([, status]) => status < 400 || status >= 500)).toEqual([]);
  });

  it('leaves no token, id or claim in plaintext in Redis, and every key has a TTL', async () => {
    const dumped = await dumpPrefix(server.redis, server.prefix);
    expect(dumped.length).toBeGreaterThan(20);
    const haystack = Buffer.concat(dumped.flatMap((e) => [Buffer.from(e.key), e.value])).toString('latin1');
    for (const secret of issued) expect(haystack.includes(secret)).toBe(false);
    const found = ['alice@example.com', 'Alice Liddell', 'wonderland', 'eyJhbGci'].filter((n) =>
      haystack.includes(n),
    );
    expect(found).toEqual([]);
    expect(haystack).not.toMatch(/[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(dumped.filter((e) => e.ttlMs < 0)).toEqual([]);
  });
});
