import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import type { RefreshedTokens } from '../session/bff-sessions.js';

// Reading token endpoint answers and their failures, for login and refresh alike.

/** The token set of an answer; times in epoch seconds (no `expires_in`: the JWT's exp, else 5 minutes). */
export function tokensOf(
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
): RefreshedTokens {
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

export function safeDecode(token: string): Record<string, unknown> | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

/** Transport failures and server errors: the authorization server could not answer, the grant is not judged. */
export function isUnreachable(error: unknown): boolean {
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

export function describe(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError) return error.error;
  if (error instanceof oidc.AuthorizationResponseError) return error.error;
  return error instanceof Error ? error.message : 'unknown error';
}
