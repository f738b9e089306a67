import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { Setting } from '@cloakroom/config';
import { StoreConfig, storeConfigProblems } from '@cloakroom/sealed-store';

const HTTP_URL = /^https?:\/\/[^\s/]+(\/\S*)?$/;
const ROUTE = String.raw`\/[^\s=,;]*=https?:\/\/[^\s,;]+(;resource=https?:\/\/[^\s,;]+)?`;
const ROUTES = new RegExp(`^${ROUTE}(,${ROUTE})*$`);
const DEV_CLIENT_SECRET = 'gateway-dev-secret';

const toBoolean = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;

/**
 * Settings of the BFF: the relying party, sessions, cookies, CSRF and the proxied routes. Store settings come from
 * StoreConfig; an app adds where it listens.
 */
export class BffConfig extends StoreConfig {
  @Setting(
    'Issuer URL of the authorization server (discovery at `/.well-known/openid-configuration`).',
    'http://localhost:3000',
  )
  @Matches(HTTP_URL, { message: 'must be an http(s) URL' })
  ISSUER_URL = 'http://localhost:3000';

  @Setting(
    'Where the gateway itself reaches the authorization server when that differs from ISSUER_URL (containers: `http://authorization-server:3000`). Browsers are still sent to ISSUER_URL.',
  )
  @IsOptional()
  @Matches(HTTP_URL, { message: 'must be an http(s) URL' })
  ISSUER_INTERNAL_URL?: string;

  @Setting('Client id of the gateway at the authorization server.', 'gateway')
  @IsString()
  @MinLength(1)
  GATEWAY_CLIENT_ID = 'gateway';

  @Setting(
    `Client secret of the gateway (client_secret_basic). The development default is refused in production.`,
    DEV_CLIENT_SECRET,
  )
  @IsString()
  @MinLength(8)
  GATEWAY_CLIENT_SECRET = DEV_CLIENT_SECRET;

  @Setting(
    'URL the browser uses to reach the gateway; the callback is `<this>/auth/callback`.',
    'http://localhost:8080',
  )
  @Matches(HTTP_URL, { message: 'must be an http(s) URL' })
  GATEWAY_PUBLIC_URL = 'http://localhost:8080';

  @Setting(
    'Proxied routes, `prefix=upstream[;resource=indicator]` comma-separated; the longest prefix wins and the path is forwarded unchanged. Each route forwards a token for its resource (RFC 8707; default `GATEWAY_API_RESOURCE`), obtained from the refresh token on first use: an API never sees a token meant for another.',
    '/api=http://localhost:4000',
  )
  @Matches(ROUTES, {
    message:
      'must be `/prefix=http(s)://host[:port][/path]` or `…;resource=http(s)://indicator`, comma-separated',
  })
  GATEWAY_ROUTES = '/api=http://localhost:4000';

  @Setting(
    'Resource indicator (RFC 8707) of the internal APIs, sent at login and refresh; `none` sends none.',
    'http://localhost:4000',
  )
  @IsOptional()
  @IsString()
  GATEWAY_API_RESOURCE?: string = 'http://localhost:4000';

  @Setting(
    'Scopes requested at login (space-separated). A refresh token needs the authorization server to issue one: Cloakroom issues them to first-party clients allowed the refresh_token grant; an OpenID provider that follows OpenID Connect Core §11 to the letter (oidc-provider) honours `offline_access` only with `prompt=consent` (GATEWAY_LOGIN_PROMPT).',
    'openid profile email groups offline_access orders:read orders:write',
  )
  @Matches(/(^| )openid( |$)/, { message: 'must include openid' })
  GATEWAY_SCOPES = 'openid profile email groups offline_access orders:read orders:write';

  @Setting(
    'The `prompt` of every interactive login: `consent` (the consent page each time; what a third-party client needs for `offline_access`), `login` (sign in again each time) or `select_account`. Unset: none, so a user signed in at the authorization server with a grant already given comes straight back. Silent logins always send `none`.',
  )
  @IsOptional()
  @IsIn(['consent', 'login', 'select_account'])
  GATEWAY_LOGIN_PROMPT?: 'consent' | 'login' | 'select_account';

  @Setting('Where the authorization server sends the browser after logout. Default: `<GATEWAY_PUBLIC_URL>/`.')
  @IsOptional()
  @Matches(HTTP_URL, { message: 'must be an http(s) URL' })
  GATEWAY_POST_LOGOUT_REDIRECT_URL?: string;

  @Setting(
    'Plain-http development only: drops `Secure` and the `__Host-` prefix from cookies (with a warning). Refused in production.',
    false,
  )
  @Transform(toBoolean)
  @IsBoolean()
  GATEWAY_COOKIE_INSECURE_DEV: boolean = false;

  @Setting('A session unused for this many seconds ends.', 1800)
  @IsInt()
  @Min(60)
  @Max(30 * 24 * 3600)
  GATEWAY_SESSION_IDLE_TIMEOUT_SECONDS: number = 1800;

  @Setting('No session outlives this many seconds after login, whatever its activity or refreshes.', 43_200)
  @IsInt()
  @Min(60)
  @Max(400 * 24 * 3600)
  GATEWAY_SESSION_ABSOLUTE_LIMIT_SECONDS: number = 43_200;

  @Setting('Refresh the access token when it expires within this many seconds.', 30)
  @IsInt()
  @Min(0)
  @Max(3600)
  GATEWAY_REFRESH_SKEW_SECONDS: number = 30;

  @Setting('Lease of the per-session refresh lock in Redis, renewed while a refresh runs.', 5000)
  @IsInt()
  @Min(100)
  @Max(60_000)
  GATEWAY_REFRESH_LOCK_LEASE_MS: number = 5000;

  @Setting('How long a request waits for a refresh running elsewhere before answering 503.', 10_000)
  @IsInt()
  @Min(100)
  @Max(120_000)
  GATEWAY_REFRESH_WAIT_MS: number = 10_000;

  @Setting('Lifetime of a pending login (state, nonce, PKCE verifier) and of its cookie.', 600)
  @IsInt()
  @Min(30)
  @Max(3600)
  GATEWAY_LOGIN_TTL_SECONDS: number = 600;

  @Setting(
    'Logins one browser may have in progress at once (tabs logging in at the same time), one cookie each; a new one beyond drops the oldest.',
    5,
  )
  @IsInt()
  @Min(1)
  @Max(20)
  GATEWAY_LOGINS_IN_PROGRESS_MAX: number = 5;

  @Setting(
    'Origins allowed to send unsafe requests (CSRF check), comma-separated. Default: the origin of GATEWAY_PUBLIC_URL.',
  )
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/,]+(,https?:\/\/[^\s/,]+)*$/, {
    message: 'must be origins (scheme://host[:port]), comma-separated',
  })
  GATEWAY_ALLOWED_ORIGINS?: string;

  @Setting(
    'Forwarded `Authorization` headers above this size are logged as a warning (nginx rejects 8 KiB by default).',
    8192,
  )
  @IsInt()
  @Min(256)
  GATEWAY_HEADER_BUDGET_BYTES: number = 8192;

  @Setting(
    'A forwarded `Authorization` line (CRLF included) above this size is not sent at all: the request answers 502 `upstream_token_too_large`, with a log line and a metric, instead of a 431 or a dropped connection at the API (Node.js refuses 16 KiB of headers by default).',
    16384,
  )
  @IsInt()
  @Min(256)
  @Max(1_048_576)
  GATEWAY_AUTHORIZATION_MAX_BYTES: number = 16384;

  @Setting('Opened sessions kept in process memory (0 disables the cache).', 10_000)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  GATEWAY_SESSION_CACHE_MAX_ENTRIES: number = 10_000;

  @Setting(
    'Longest time a cached session is served without reading the store again (invalidations normally arrive within milliseconds).',
    5000,
  )
  @IsInt()
  @Min(0)
  @Max(300_000)
  GATEWAY_SESSION_CACHE_MAX_AGE_MS: number = 5000;

  @Setting(
    "Longest wait for an upstream response head, counted from the request reaching the gateway's transport (waiting for a free connection, sending a request body and a head sent a byte at a time included): 504. Also the longest silence within a response body, event streams aside. A WebSocket handshake has the same deadline.",
    30_000,
  )
  @IsInt()
  @Min(100)
  GATEWAY_UPSTREAM_TIMEOUT_MS: number = 30_000;

  @Setting(
    'Longest silence within an event stream (`text/event-stream` answers) and on a proxied WebSocket, either direction for a WebSocket; then the connection is closed. 0: no limit.',
    3_600_000,
  )
  @IsInt()
  @Min(0)
  GATEWAY_STREAM_IDLE_TIMEOUT_MS: number = 3_600_000;

  @Setting('Connecting to an upstream fails after this long (502).', 5000)
  @IsInt()
  @Min(100)
  GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS: number = 5000;

  @Setting(
    'Keep-alive connections one session may hold to one upstream (connections are never shared across sessions); its further requests wait, within GATEWAY_UPSTREAM_TIMEOUT_MS.',
    32,
  )
  @IsInt()
  @Min(1)
  @Max(1024)
  GATEWAY_UPSTREAM_CONNECTIONS_PER_SESSION: number = 32;

  @Setting(
    'Sessions that keep their upstream connections open between requests; beyond this the least recently active session gives its connections up.',
    1000,
  )
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  GATEWAY_UPSTREAM_SESSION_POOLS: number = 1000;

  @Setting(
    'Requests to the authorization server (discovery, token, revocation) time out after this many seconds.',
    10,
  )
  @IsInt()
  @Min(1)
  @Max(120)
  GATEWAY_ISSUER_TIMEOUT_SECONDS: number = 10;

  /** The cookie settings in force. */
  get cookieSecure(): boolean {
    return !this.GATEWAY_COOKIE_INSECURE_DEV;
  }

  get allowedOrigins(): string[] {
    return (this.GATEWAY_ALLOWED_ORIGINS ?? new URL(this.GATEWAY_PUBLIC_URL).origin)
      .split(',')
      .map((origin) => new URL(origin).origin);
  }

  get postLogoutRedirectUrl(): string {
    return this.GATEWAY_POST_LOGOUT_REDIRECT_URL ?? new URL('/', this.GATEWAY_PUBLIC_URL).href;
  }

  get callbackUrl(): string {
    return new URL('/auth/callback', this.GATEWAY_PUBLIC_URL).href;
  }

  /**
   * Routes, longest prefix first. `resource` is set only for a route whose resource is not the login's: those
   * forward a token obtained for them; the others, the login's own.
   */
  get routes(): Array<{ prefix: string; upstream: URL; resource?: string }> {
    return this.GATEWAY_ROUTES.split(',')
      .map((route) => {
        const [target, parameter] = route.split(';resource=');
        const at = target!.indexOf('=');
        const resource = parameter && parameter !== this.loginResource ? parameter : undefined;
        return {
          prefix: target!.slice(0, at).replace(/\/+$/, '') || '/',
          upstream: new URL(target!.slice(at + 1)),
          ...(resource ? { resource } : {}),
        };
      })
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The resource of the login's access token, if any. */
  get loginResource(): string | undefined {
    const resource = this.GATEWAY_API_RESOURCE;
    return resource && resource !== 'none' ? resource : undefined;
  }

  /** Every resource the session needs tokens for: asked for at login, so each can be obtained by refresh. */
  get resources(): string[] {
    const routeResources = this.routes.map((route) => route.resource).filter((r): r is string => !!r);
    return [...new Set([this.loginResource, ...routeResources].filter((r): r is string => !!r))];
  }
}

/** Rules between BFF settings, and what production refuses. */
export function bffConfigProblems(config: BffConfig, production: boolean): string[] {
  const problems = storeConfigProblems(config, production);
  if (production && config.GATEWAY_COOKIE_INSECURE_DEV) {
    problems.push('GATEWAY_COOKIE_INSECURE_DEV: refused in production (cookies must be Secure and __Host-)');
  }
  if (production && config.GATEWAY_CLIENT_SECRET === DEV_CLIENT_SECRET) {
    problems.push('GATEWAY_CLIENT_SECRET: the development default is refused in production');
  }
  if (production && !config.GATEWAY_PUBLIC_URL.startsWith('https://')) {
    problems.push('GATEWAY_PUBLIC_URL: must be https in production (the session cookie is Secure)');
  }
  if (config.GATEWAY_SESSION_IDLE_TIMEOUT_SECONDS > config.GATEWAY_SESSION_ABSOLUTE_LIMIT_SECONDS) {
    problems.push(
      'GATEWAY_SESSION_IDLE_TIMEOUT_SECONDS: must not exceed GATEWAY_SESSION_ABSOLUTE_LIMIT_SECONDS',
    );
  }
  for (const { prefix } of config.routes) {
    if (prefix === '/auth' || prefix.startsWith('/auth/') || prefix === '/') {
      problems.push(`GATEWAY_ROUTES: prefix ${prefix} would hide the gateway's own endpoints`);
    }
  }
  return problems;
}
