import { createHash, randomBytes } from 'node:crypto';
import { CommandFailed } from './cli.io.js';

export interface IssueTokenOptions {
  /** Authorization server issuer URL. */
  issuer: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** RFC 8707 resource indicator the access token is for. */
  resource: string | undefined;
  /** A redirect URI registered for the client; the code is read from the redirect, which is not followed. */
  redirectUri?: string;
  user: string;
  password: string;
}

const DEMO = {
  clientId: 'gateway',
  clientSecret: 'gateway-dev-secret',
  redirectUri: 'http://localhost:8080/auth/callback',
  resource: 'http://localhost:4000',
};

/**
 * Obtains an access token for a user as the configured client would: an authorization-code request with
 * PKCE, the sign-in form filled in with the user's password (no password grant exists, on purpose), the code
 * taken from the redirect to the client and redeemed at the token endpoint. Defaults are the demo's.
 */
export async function issueTokenForUser(options: IssueTokenOptions): Promise<string> {
  const clientId = options.clientId ?? DEMO.clientId;
  const clientSecret = options.clientSecret ?? (clientId === DEMO.clientId ? DEMO.clientSecret : undefined);
  const redirectUri = options.redirectUri ?? DEMO.redirectUri;
  const resource = options.resource ?? DEMO.resource;
  const metadata = (await json(`${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)) as {
    authorization_endpoint: string;
    token_endpoint: string;
  };
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(metadata.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile email groups',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(16).toString('base64url'),
    ...(resource ? { resource } : {}),
  }).toString();

  const browser = new FormBrowser();
  let page = await browser.until(authorize, redirectUri);
  for (let step = 0; step < 4 && !page.url.href.startsWith(redirectUri); step++) {
    const form = /<form[^>]*action="([^"]+)"/.exec(page.html)?.[1]?.replaceAll('&amp;', '&');
    const csrf = /name="csrf" value="([^"]*)"/.exec(page.html)?.[1];
    if (!form || !csrf)
      throw new CommandFailed(`the sign-in page at ${page.url.origin} has no form (status ${page.status})`);
    const fields: Record<string, string> = page.html.includes('name="password"')
      ? { csrf, username: options.user, password: options.password }
      : { csrf };
    page = await browser.until(new URL(form, page.url), redirectUri, fields);
    if (page.status === 401 || page.status === 429) {
      throw new CommandFailed(
        page.status === 401 ? 'wrong username or password' : 'too many sign-in attempts',
      );
    }
  }
  const code = page.url.searchParams.get('code');
  if (!code)
    throw new CommandFailed(
      `the authorization server answered ${page.url.searchParams.get('error') ?? 'no code'}`,
    );

  const tokenResponse = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(clientSecret
        ? {
            authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
          }
        : {}),
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      ...(clientSecret ? {} : { client_id: clientId }),
      ...(resource ? { resource } : {}),
    }),
  });
  const tokens = (await tokenResponse.json()) as { access_token?: string; error?: string };
  if (!tokens.access_token)
    throw new CommandFailed(`the token endpoint answered ${tokens.error ?? tokenResponse.status}`);
  return tokens.access_token;
}

async function json(url: string): Promise<unknown> {
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`status ${response.status}`);
    return await response.json();
  } catch (error) {
    throw new CommandFailed(`cannot read ${url}: ${(error as Error).message}`);
  }
}

/** Just enough of a browser for a sign-in form: cookies per host, manual redirects. */
class FormBrowser {
  private readonly cookies = new Map<string, Map<string, string>>();

  /** Requests `url` (posting `fields` if given) and follows redirects until one leads to `stopAt`. */
  async until(
    url: URL,
    stopAt: string,
    fields?: Record<string, string>,
  ): Promise<{ url: URL; status: number; html: string }> {
    let current = url;
    let init: RequestInit = fields
      ? {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url.origin },
          body: new URLSearchParams(fields).toString(),
        }
      : {};
    for (let hops = 0; hops < 10; hops++) {
      const jar = this.cookies.get(current.host) ?? new Map<string, string>();
      const headers = new Headers(init.headers);
      if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
      const response = await fetch(current, { ...init, headers, redirect: 'manual' });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair.indexOf('=');
        jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
      }
      this.cookies.set(current.host, jar);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        return { url: current, status: response.status, html: await response.text() };
      }
      await response.arrayBuffer();
      current = new URL(location, current);
      init = {};
      if (current.href.startsWith(stopAt)) return { url: current, status: response.status, html: '' };
    }
    throw new CommandFailed('too many redirects while signing in');
  }
}
