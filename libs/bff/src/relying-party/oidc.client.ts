import * as oidc from 'openid-client';
import { createRemoteJWKSet } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { isSilent, newState } from '../auth/login-kind.js';
import type { LoginKind } from '../auth/login-kind.js';
import type { BffConfig } from '../bff.config.js';
import type { BffTracing } from '../bff.tracing.js';
import {
  IssuerUnavailable,
  LoginFailed,
  RefreshRejected,
  RefreshUnavailable,
  ResourceRefused,
} from '../errors.js';
import { TokenRefresher } from '../session/bff-sessions.js';
import type { RefreshedTokens } from '../session/bff-sessions.js';
import { verifyLogoutToken } from './logout-token.js';
import { describe, isUnreachable, safeDecode, tokensOf } from './token-response.js';
import type { LogoutClaims } from './logout-token.js';

/** What the browser's login needs to carry (sealed in the store) from /auth/login to /auth/callback. */
export interface PendingLogin {
  codeVerifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

/** Tokens of a completed login. Times are epoch seconds. */
export interface LoginTokens extends RefreshedTokens {
  idToken?: string;
  sid?: string;
  user: { sub: string; name?: string; email?: string; groupsCount?: number };
}

/**
 * The relying party, on openid-client: discovery (lazy and retried, so the gateway can start before the
 * authorization server), authorization code with PKCE, state and nonce, refresh, revocation, end-session
 * URL, and verification of back-channel logout tokens against the issuer's JWKS.
 */
export class OidcClient extends TokenRefresher {
  private discovered?: Promise<oidc.Configuration>;
  private jwks?: JWTVerifyGetKey;
  private readonly resource?: string;

  constructor(
    private readonly config: BffConfig,
    /** With it, a refresh is a span, and every request to the issuer carries the current span's `traceparent`. */
    private readonly tracing?: Pick<BffTracing, 'span' | 'headers'>,
  ) {
    super();
    this.resource = config.loginResource;
  }

  /** Resolves the issuer's metadata once; a failure is forgotten so the next call tries again. */
  configuration(): Promise<oidc.Configuration> {
    this.discovered ??= this.discover().catch((error: unknown) => {
      this.discovered = undefined;
      throw new IssuerUnavailable('discovery failed', { cause: error });
    });
    return this.discovered;
  }

  /**
   * The authorization request of a login. A silent one asks for `prompt=none`: the authorization server answers at
   * once, with a code when its own session and the grant suffice, else with an error such as `login_required`.
   */
  async startLogin(returnTo: string, kind: LoginKind): Promise<{ url: string; pending: PendingLogin }> {
    const configuration = await this.configuration();
    const pending: PendingLogin = {
      codeVerifier: oidc.randomPKCECodeVerifier(),
      state: newState(kind),
      nonce: oidc.randomNonce(),
      returnTo,
    };
    const parameters = new URLSearchParams({
      redirect_uri: this.config.callbackUrl,
      scope: this.config.GATEWAY_SCOPES,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    // Every route's resource is granted at login; the code redeems the login's, refreshes obtain the others.
    for (const resource of this.config.resources) parameters.append('resource', resource);
    const prompt = isSilent(kind) ? 'none' : this.config.GATEWAY_LOGIN_PROMPT;
    if (prompt) parameters.set('prompt', prompt);
    return { url: this.external(oidc.buildAuthorizationUrl(configuration, parameters)).href, pending };
  }

  async finishLogin(callbackUrl: URL, pending: PendingLogin): Promise<LoginTokens> {
    const configuration = await this.configuration();
    let response: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      response = await oidc.authorizationCodeGrant(
        configuration,
        callbackUrl,
        {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        },
        this.resource ? { resource: this.resource } : undefined,
      );
    } catch (error) {
      if (isUnreachable(error)) throw new IssuerUnavailable('token endpoint failed', { cause: error });
      throw new LoginFailed(describe(error), { cause: error });
    }
    const claims = response.claims();
    if (!claims) throw new LoginFailed('no id token');
    const tokens = tokensOf(response);
    const accessClaims = safeDecode(tokens.accessToken);
    const groups = Array.isArray(claims.groups) ? claims.groups : accessClaims?.groups;
    return {
      ...tokens,
      sid: typeof claims.sid === 'string' ? claims.sid : undefined,
      user: {
        sub: claims.sub,
        name: typeof claims.name === 'string' ? claims.name : undefined,
        email: typeof claims.email === 'string' ? claims.email : undefined,
        // Unknown when the groups left the token (distributed claims): only the API resolves them.
        ...(Array.isArray(groups) ? { groupsCount: groups.length } : {}),
      },
    };
  }

  refresh(refreshToken: string, resource = this.resource): Promise<RefreshedTokens> {
    if (this.tracing === undefined) return this.redeem(refreshToken, resource);
    return this.tracing.span('token refresh', { kind: 'client' }, () => this.redeem(refreshToken, resource));
  }

  /** The refresh grant at the token endpoint. */
  private async redeem(refreshToken: string, resource: string | undefined): Promise<RefreshedTokens> {
    const configuration = await this.configuration().catch((error: unknown) => {
      throw new RefreshUnavailable('discovery failed', { cause: error });
    });
    try {
      const response = await oidc.refreshTokenGrant(
        configuration,
        refreshToken,
        resource ? { resource } : undefined,
      );
      return tokensOf(response);
    } catch (error) {
      if (isUnreachable(error)) throw new RefreshUnavailable('token endpoint failed', { cause: error });
      if (resource && describe(error) === 'invalid_target')
        throw new ResourceRefused(resource, { cause: error });
      throw new RefreshRejected(describe(error), { cause: error });
    }
  }

  /** Best effort: the session is gone either way; the refresh token also dies with its grant. */
  async revoke(refreshToken: string): Promise<boolean> {
    try {
      const configuration = await this.configuration();
      if (!configuration.serverMetadata().revocation_endpoint) return false;
      await oidc.tokenRevocation(configuration, refreshToken, { token_type_hint: 'refresh_token' });
      return true;
    } catch {
      return false;
    }
  }

  async endSessionUrl(idTokenHint: string | undefined): Promise<string | undefined> {
    const configuration = await this.configuration().catch(() => undefined);
    if (!configuration?.serverMetadata().end_session_endpoint) return undefined;
    const parameters: Record<string, string> = {
      post_logout_redirect_uri: this.config.postLogoutRedirectUrl,
      client_id: this.config.GATEWAY_CLIENT_ID,
    };
    if (idTokenHint) parameters.id_token_hint = idTokenHint;
    return this.external(oidc.buildEndSessionUrl(configuration, parameters)).href;
  }

  /** Verifies an OpenID Connect Back-Channel Logout token against the issuer's keys. */
  async verifyLogoutToken(token: string): Promise<LogoutClaims> {
    const configuration = await this.configuration();
    const metadata = configuration.serverMetadata();
    if (!metadata.jwks_uri) throw new IssuerUnavailable('issuer has no jwks_uri');
    this.jwks ??= createRemoteJWKSet(this.internal(new URL(metadata.jwks_uri)));
    return verifyLogoutToken(token, this.jwks, {
      issuer: metadata.issuer,
      audience: this.config.GATEWAY_CLIENT_ID,
      algorithms: metadata.id_token_signing_alg_values_supported?.filter((alg) => alg !== 'none') ?? [
        'RS256',
      ],
    });
  }

  private async discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.config.ISSUER_URL);
    const timeout = this.config.GATEWAY_ISSUER_TIMEOUT_SECONDS;
    const configuration = await oidc.discovery(
      issuer,
      this.config.GATEWAY_CLIENT_ID,
      { client_secret: this.config.GATEWAY_CLIENT_SECRET },
      oidc.ClientSecretBasic(this.config.GATEWAY_CLIENT_SECRET),
      {
        timeout,
        execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
        [oidc.customFetch]: this.fetchInternal,
      },
    );
    configuration.timeout = timeout;
    configuration[oidc.customFetch] = this.fetchInternal;
    return configuration;
  }

  /** Server-to-server requests go to ISSUER_INTERNAL_URL when set; the issuer identifier stays ISSUER_URL. */
  private readonly fetchInternal = (url: string, options: RequestInit): Promise<Response> =>
    fetch(this.internal(new URL(url)), this.tracing ? this.traced(options) : options);

  /** The request with the current span's trace context (the refresh span, or the request's server span). */
  private traced(options: RequestInit): RequestInit {
    const headers = new Headers(options.headers);
    for (const [name, value] of Object.entries(this.tracing!.headers())) headers.set(name, value);
    return { ...options, headers };
  }

  /**
   * Browser-facing URLs at the issuer's public address. A provider that derives its endpoints from the
   * request (oidc-provider does) advertises the internal address to a gateway that discovered it there.
   */
  private external(url: URL): URL {
    const internal = this.config.ISSUER_INTERNAL_URL;
    if (!internal || url.origin !== new URL(internal).origin) return url;
    const target = new URL(this.config.ISSUER_URL);
    url.protocol = target.protocol;
    url.host = target.host;
    return url;
  }

  private internal(url: URL): URL {
    const internal = this.config.ISSUER_INTERNAL_URL;
    if (!internal || url.origin !== new URL(this.config.ISSUER_URL).origin) return url;
    const target = new URL(internal);
    url.protocol = target.protocol;
    url.host = target.host;
    return url;
  }
}
