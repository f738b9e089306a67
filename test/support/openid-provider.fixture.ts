import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey } from 'jose';

export const FIXTURE_CLIENT_SECRET = 'fixture-gateway-secret';
export const FIXTURE_RESOURCE = 'http://api.test';
export const FIXTURE_SCOPES = 'openid profile email offline_access api:read';

export interface FixtureProviderOptions {
  /** The gateway's public URL: redirect, post-logout and back-channel logout URIs derive from it. */
  gatewayUrl: string;
  accessTokenTtlSeconds: number;
  /** Groups of the logged-in account, to make tokens as big as a power user's. */
  groups?: number;
  /** Issuer identifier when it is not the address the provider listens on (a provider behind a proxy). */
  issuer?: string;
}

export interface FixtureProvider {
  issuer: string;
  /** Where it listens (the issuer unless one was given). */
  listenUrl: string;
  /** Refresh token grants the token endpoint received (successful or not). */
  refreshCalls(): number;
  /** Token revocation requests received. */
  revocations(): number;
  /** sid of the most recent login. */
  lastSid(): string | undefined;
  /** Makes the provider send a back-channel logout for a session, as ending it at the provider would. */
  backchannelLogout(sub: string, sid: string): Promise<void>;
  /** Signs an arbitrary logout token with the provider's key, to test how the gateway verifies. */
  signLogoutToken(
    claims: Record<string, unknown>,
    options?: {
      audience?: string;
      issuer?: string;
      /** The `typ` header; null leaves it out. Default `logout+jwt`. */
      typ?: string | null;
      /** False leaves `exp` out. */
      expires?: boolean;
    },
  ): Promise<string>;
  close(): Promise<void>;
}

/**
 * An OpenID Provider for the gateway tests: oidc-provider with its memory adapter, on 127.0.0.1, logging in
 * a fixed account without a form, JWT access tokens for one resource with a short lifetime.
 */
export async function startFixtureProvider(options: FixtureProviderOptions): Promise<FixtureProvider> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'fixture-key', alg: 'RS256', use: 'sig' };
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const listenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = options.issuer ?? listenUrl;
  const groups = Array.from({ length: options.groups ?? 3 }, (_, i) => `group-${i}-${(i * 7919) % 10007}`);
  let refreshCalls = 0;
  let revocations = 0;
  let lastSid: string | undefined;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'gateway',
        client_secret: FIXTURE_CLIENT_SECRET,
        redirect_uris: [`${options.gatewayUrl}/auth/callback`],
        post_logout_redirect_uris: [`${options.gatewayUrl}/`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        backchannel_logout_uri: `${options.gatewayUrl}/auth/backchannel-logout`,
        backchannel_logout_session_required: true,
      },
    ],
    jwks: { keys: [jwk] },
    // oidc-provider's own dispatcher refuses loopback addresses (SSRF protection); the fixture talks to
    // a gateway on 127.0.0.1, so its outgoing requests (back-channel logout) use the plain global fetch.
    fetch: (url: string | URL | Request, init?: RequestInit) => {
      const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
    cookies: { keys: ['fixture-cookie-key-0123456789'] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => FIXTURE_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'api:read',
          audience: FIXTURE_RESOURCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: options.accessTokenTtlSeconds,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    claims: { openid: ['sub', 'sid'], profile: ['name', 'groups'], email: ['email'] },
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, name: `Fixture ${sub}`, email: `${sub}@example.test`, groups }),
    }),
    issueRefreshToken: () => true,
    rotateRefreshToken: true,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      Session: 3600,
      Grant: 3600,
      RefreshToken: 3600,
      Interaction: 600,
      AuthorizationCode: 60,
      IdToken: 3600,
    },
  });
  provider.on('authorization_code.saved', (code: { sid?: string }) => {
    lastSid = code.sid;
  });
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.path === '/token/revocation' && ctx.method === 'POST') revocations++;
    if (ctx.path === '/token' && ctx.method === 'POST') {
      await next();
      if (ctx.oidc?.params?.grant_type === 'refresh_token') refreshCalls++;
      return;
    }
    await next();
  });

  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: 'alice' } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      const accountId = details.session!.accountId;
      const grant = details.grantId
        ? (await provider.Grant.find(details.grantId))!
        : new provider.Grant({ accountId, clientId: 'gateway' });
      grant.addOIDCScope('openid profile email offline_access');
      grant.addOIDCClaims(['sub', 'sid', 'name', 'email', 'groups']);
      grant.addResourceScope(FIXTURE_RESOURCE, 'api:read');
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    })().catch(() => {
      res.statusCode = 500;
      res.end('interaction failed');
    });
  });

  return {
    issuer,
    listenUrl,
    refreshCalls: () => refreshCalls,
    revocations: () => revocations,
    lastSid: () => lastSid,
    async backchannelLogout(sub, sid) {
      const client = await provider.Client.find('gateway');
      await (
        client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }
      ).backchannelLogout(sub, sid);
    },
    async signLogoutToken(claims, signOptions = {}) {
      const typ = signOptions.typ === undefined ? 'logout+jwt' : signOptions.typ;
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'fixture-key', ...(typ === null ? {} : { typ }) })
        .setIssuer(signOptions.issuer ?? issuer)
        .setAudience(signOptions.audience ?? 'gateway')
        .setIssuedAt();
      if (signOptions.expires !== false) jwt.setExpirationTime('2 minutes');
      return jwt.sign(privateKey as CryptoKey);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      void publicKey;
    },
  };
}
