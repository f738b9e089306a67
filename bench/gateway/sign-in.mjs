// Real sign-ins at the authorization server, through its login form: once through the gateway (its session
// cookie), once as a plain relying party (the token strings the other scenarios hold).
import { createHash, randomBytes } from 'node:crypto';

/** Cookies per host:port and manual redirects: just enough browser for a login form. */
export class Browser {
  jar = new Map();

  async fetch(url, init = {}) {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = this.jar.get(target.host);
    if (cookies?.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const jar = this.jar.get(target.host) ?? new Map();
      if (value === '' || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) jar.delete(name);
      else jar.set(name, value);
      this.jar.set(target.host, jar);
    }
    return response;
  }

  get(origin, name) {
    return this.jar.get(new URL(origin).host)?.get(name);
  }

  /** Follows redirects until an answer that is not one, or until `stop(url)` says the next hop is the end. */
  async follow(url, stop) {
    let current = new URL(url);
    let response = await this.fetch(current);
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops++) {
      await response.arrayBuffer();
      current = new URL(response.headers.get('location'), current);
      if (stop(current)) return { response, url: current };
      response = await this.fetch(current);
    }
    return { response, url: current };
  }

  /** Starts at `start`, fills the login (and any confirmation) form, stops where `done(url)` says. */
  async signIn(start, done, username, password) {
    let { response, url } = await this.follow(start, done);
    for (let step = 0; step < 4 && !done(url); step++) {
      const html = await response.text();
      const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
      if (!action || !csrf) throw new Error(`no login form at ${url.href} (${response.status})`);
      const fields = html.includes('name="password"') ? { csrf, username, password } : { csrf };
      const target = new URL(action.replaceAll('&amp;', '&'), url);
      const posted = await this.fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: target.origin },
        body: new URLSearchParams(fields).toString(),
      });
      if (posted.status < 300 || posted.status >= 400)
        throw new Error(`login form answered ${posted.status}`);
      ({ response, url } = await this.follow(new URL(posted.headers.get('location'), target), done));
    }
    if (!done(url)) throw new Error(`sign-in of ${username} did not finish (${url.href})`);
    return url;
  }
}

/** Logs in through the gateway; returns its session cookie value. */
export async function gatewaySession(gatewayUrl, cookieName, username, password) {
  const browser = new Browser();
  const atGateway = (url) => url.origin === gatewayUrl && !url.pathname.startsWith('/auth/');
  await browser.signIn(`${gatewayUrl}/auth/login?returnTo=/`, atGateway, username, password);
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
  const browser = new Browser();
  const back = await browser.signIn(
    authorize,
    (url) => url.href.startsWith(client.redirectUri),
    username,
    password,
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
