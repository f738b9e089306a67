import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { RefreshRejected, RefreshUnavailable, ResourceRefused, TokenRefresher } from '@cloakroom/bff-session';
import type { RefreshedTokens } from '@cloakroom/bff-session';
import type { GatewayConfig } from './gateway.config.js';
import { IssuerUnavailable, LoginFailed, LogoutTokenInvalid } from './errors.js';

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

/** Marks the `state` of a login started again after a callback found none, so it is restarted only once. */
export const RESTARTED_STATE_PREFIX = 'r.';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * The relying party, on openid-client: discovery (lazy and retried, so the gateway can start before the
 * authorization server), authorization code with PKCE, state and nonce, refresh, revocation, end-session
 * URL, and verification of back-channel logout tokens against the issuer's JWKS.
 */
export class OidcClient extends TokenRefresher {
  private discovered?: Promise<oidc.Configuration>;
  private jwks?: JWTVerifyGetKey;
  private readonly resource?: string;

  constructor(private readonly config: GatewayConfig) {
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

  async startLogin(returnTo: string, restarted = false): Promise<{ url: string; pending: PendingLogin }> {
    const configuration = await this.configuration();
    const pending: PendingLogin = {
      codeVerifier: oidc.randomPKCECodeVerifier(),
      state: (restarted ? RESTARTED_STATE_PREFIX : '') + oidc.randomState(),
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
    if (this.config.GATEWAY_SCOPES.split(' ').includes('offline_access')) parameters.set('prompt', 'consent');
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

  async refresh(refreshToken: string, resource = this.resource): Promise<RefreshedTokens> {
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

  /** Verifies an OpenID Connect Back-Channel Logout token (§2.4, §2.6); returns its sid and sub. */
  async verifyLogoutToken(token: string): Promise<{ sid?: string; sub?: string; jti: string; exp: number }> {
    const configuration = await this.configuration();
    const metadata = configuration.serverMetadata();
    if (!metadata.jwks_uri) throw new IssuerUnavailable('issuer has no jwks_uri');
    this.jwks ??= createRemoteJWKSet(this.internal(new URL(metadata.jwks_uri)));
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(token, this.jwks, {
        issuer: metadata.issuer,
        audience: this.config.GATEWAY_CLIENT_ID,
        algorithms: metadata.id_token_signing_alg_values_supported?.filter((alg) => alg !== 'none') ?? [
          'RS256',
        ],
        maxTokenAge: '5 minutes',
        clockTolerance: 30,
        requiredClaims: ['iat', 'jti', 'exp'],
      });
    } catch (error) {
      throw new LogoutTokenInvalid(refusalOf(error), { cause: error });
    }
    const { payload, protectedHeader } = verified;
    // `typ` is optional; when present it must say what the token is, so no other JWT of the issuer passes.
    const typ = protectedHeader.typ?.toLowerCase().replace(/^application\//, '');
    if (typ !== undefined && typ !== 'logout+jwt') throw new LogoutTokenInvalid('typ_invalid');
    const events = payload.events;
    if (!isObject(events) || !isObject(events[BACKCHANNEL_EVENT])) {
      throw new LogoutTokenInvalid('events_invalid');
    }
    if ('nonce' in payload) throw new LogoutTokenInvalid('nonce_present');
    const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
    const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
    if (!sid && !sub) throw new LogoutTokenInvalid('sid_and_sub_missing');
    if (typeof payload.jti !== 'string') throw new LogoutTokenInvalid('jti_invalid');
    return { sid, sub, jti: payload.jti, exp: payload.exp! };
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
    fetch(this.internal(new URL(url)), options);

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

function tokensOf(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): RefreshedTokens {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = response.expiresIn();
  const accessClaims = safeDecode(response.access_token);
  const accessExpiresAt =
    expiresIn !== undefined
      ? now + expiresIn
      : typeof accessClaims?.exp === 'number'
        ? accessClaims.exp
        : now + 300;
  const refreshExpiresIn = (response as Record<string, unknown>).refresh_expires_in;
  return {
    accessToken: response.access_token,
    accessExpiresAt,
    refreshToken: response.refresh_token,
    idToken: response.id_token,
    scope: response.scope,
    refreshExpiresAt:
      typeof refreshExpiresIn === 'number' && refreshExpiresIn > 0 ? now + refreshExpiresIn : undefined,
  };
}

function safeDecode(token: string): Record<string, unknown> | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

/** Transport failures and server errors: the authorization server could not answer, the grant is not judged. */
function isUnreachable(error: unknown): boolean {
  if (error instanceof oidc.ResponseBodyError) return error.status >= 500;
  if (error instanceof oidc.ClientError) {
    const code = (error as { code?: string }).code;
    return [
      'OAUTH_TIMEOUT',
      'OAUTH_ABORT',
      'OAUTH_RESPONSE_IS_NOT_CONFORM',
      'OAUTH_RESPONSE_IS_NOT_JSON',
    ].includes(code ?? '');
  }
  return error instanceof TypeError || (error instanceof Error && error.name === 'AbortError');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short code for a logout token jose refused: which claim and why, never the token. */
function refusalOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `${error.claim}_${error.reason}`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    return 'signature_invalid';
  }
  return 'malformed';
}

function describe(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError) return error.error;
  if (error instanceof oidc.AuthorizationResponseError) return error.error;
  return error instanceof Error ? error.message : 'unknown error';
}
