import { createHash, randomBytes } from 'node:crypto';
import { TestBrowser } from './browser.js';
import { RP, isRpCallback } from './authorization-server.js';

export interface AccessTokenRequest {
  username: string;
  password: string;
  /** RFC 8707 resource indicator the access token is for. */
  resource: string;
  scope?: string;
}

/**
 * An access token for a user, issued the way the test relying party gets one: an authorization request with
 * PKCE, the sign-in form, and the code redeemed at the token endpoint with the client's secret.
 */
export async function issueAccessToken(issuer: string, request: AccessTokenRequest): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: RP.client_id,
    response_type: 'code',
    redirect_uri: RP.redirect_uris[0],
    scope: request.scope ?? 'openid profile email groups',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(16).toString('base64url'),
    resource: request.resource,
  }).toString();
  const callback = await new TestBrowser().signIn(
    authorize,
    request.username,
    request.password,
    isRpCallback,
  );
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in the redirect to the client: ${callback.search}`);
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${RP.client_id}:${RP.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: RP.redirect_uris[0],
      code_verifier: verifier,
      resource: request.resource,
    }),
  });
  const tokens = (await response.json()) as { access_token?: string; error?: string };
  if (!tokens.access_token) throw new Error(`the token endpoint answered ${tokens.error ?? response.status}`);
  return tokens.access_token;
}
