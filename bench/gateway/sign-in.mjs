// Real sign-ins at the authorization server, through its login form: once through the gateway (its session
// cookie), once as a plain relying party (the token strings the other scenarios hold). The browser is the tests'
// own, loaded from its TypeScript source (Node strips the types).
import { createHash, randomBytes } from 'node:crypto';
import { TestBrowser } from '../../test/support/browser.ts';

/** Logs in through the gateway; returns its session cookie value. */
export async function gatewaySession(gatewayUrl, cookieName, username, password) {
  const browser = new TestBrowser();
  const atGateway = (url) => url.origin === gatewayUrl && !url.pathname.startsWith('/auth/');
  await browser.signIn(`${gatewayUrl}/auth/login?returnTo=/`, username, password, atGateway);
  const ticket = browser.get(gatewayUrl, cookieName);
  if (!ticket) throw new Error(`no gateway cookie for ${username}`);
  return ticket;
}

/** Authorization code + PKCE as a confidential client; returns the token endpoint's answer. */
export async function tokenSet(issuer, client, username, password) {
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(discovery.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: client.id,
    response_type: 'code',
    redirect_uri: client.redirectUri,
    scope: client.scope,
    resource: client.resource,
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    // oidc-provider grants offline_access (a refresh token) only with prompt=consent.
    ...(client.scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
  }).toString();
  const back = await new TestBrowser().signIn(authorize, username, password, (url) =>
    url.href.startsWith(client.redirectUri),
  );
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back.searchParams.get('error')}`);
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      code_verifier: verifier,
      resource: client.resource,
    }).toString(),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`token endpoint: ${response.status} ${body.error}`);
  return { access_token: body.access_token, refresh_token: body.refresh_token, id_token: body.id_token };
}
