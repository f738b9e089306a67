import { newSecret } from '@cloakroom/envelope';
import { BffSessions } from '@cloakroom/bff-session';
import type { SealedStore } from '@cloakroom/sealed-store';
import { analyzeToken, isJwtShaped } from '@cloakroom/token-budget';
import { LoginFailed, LogoutTokenInvalid } from './errors.js';
import type { GatewayConfig } from './gateway.config.js';
import type { OidcClient, PendingLogin } from './oidc.client.js';
import { returnToPath } from './return-to.js';
import type { SessionCookies } from './session.cookie.js';

const LOGIN_NAMESPACE = 'gateway.login';
const LOGOUT_JTI_NAMESPACE = 'gateway.logout-jti';

/** What `/auth/session` answers: who is logged in and sizes for the demo page, never a token. */
export interface SessionView {
  authenticated: boolean;
  user?: { sub: string; name?: string; email?: string; groupsCount: number };
  expiresAt?: string;
  sizes?: { accessToken: number; idToken: number; refreshToken: number; cookie: number };
  /** The access token's weight: heaviest claims (names and sizes, never values) and the limits it meets. */
  budget?: TokenBudgetView;
}

export interface TokenBudgetView {
  totalBytes: number;
  claims: Array<{ name: string; bytes: number }>;
  limits: Array<{
    title: string;
    subject: string;
    limitBytes: number;
    measuredBytes: number;
    fits: boolean;
    source: string;
  }>;
}

function budgetOf(accessToken: string): TokenBudgetView | undefined {
  if (!isJwtShaped(accessToken)) return undefined;
  try {
    const analysis = analyzeToken(accessToken);
    return {
      totalBytes: analysis.totalBytes,
      claims: analysis.claims.slice(0, 8).map((c) => ({ name: c.name, bytes: c.encodedBytes })),
      limits: analysis.verdicts.map((v) => ({
        title: v.limit,
        subject: v.subject,
        limitBytes: v.limitBytes,
        measuredBytes: v.measuredBytes,
        fits: v.fits,
        source: v.source,
      })),
    };
  } catch {
    return undefined;
  }
}

/** A response the controller writes as it is: a redirect or JSON, with cookies to set. */
export interface AuthOutcome {
  status: number;
  location?: string;
  body?: unknown;
  cookies: string[];
}

/** Login, callback, session info, logout and back-channel logout: orchestration of the RP and the sessions. */
export class AuthService {
  constructor(
    private readonly config: GatewayConfig,
    private readonly oidc: OidcClient,
    private readonly sessions: BffSessions,
    private readonly store: SealedStore,
    private readonly cookies: SessionCookies,
  ) {}

  async login(returnTo: unknown): Promise<AuthOutcome> {
    const { url, pending } = await this.oidc.startLogin(returnToPath(returnTo));
    // The pending login lives in the store, sealed under a fresh secret that only the login cookie holds.
    const secret = newSecret();
    const ttl = this.config.GATEWAY_LOGIN_TTL_SECONDS;
    await this.store.put(LOGIN_NAMESPACE, secret, pending, ttl);
    return { status: 302, location: url, cookies: [this.cookies.setLogin(secret, ttl)] };
  }

  async callback(
    requestUrl: string,
    loginSecret: string | undefined,
    oldTicket: string | undefined,
  ): Promise<AuthOutcome> {
    if (!BffSessions.isTicket(loginSecret)) throw new LoginFailed('no login in progress');
    const pending = await this.store.get<PendingLogin>(LOGIN_NAMESPACE, loginSecret);
    // One use only: a replayed callback finds nothing.
    await this.store.destroy(LOGIN_NAMESPACE, loginSecret);
    if (!pending || typeof pending.returnTo !== 'string') throw new LoginFailed('login expired or unknown');
    const tokens = await this.oidc.finishLogin(new URL(requestUrl, this.config.GATEWAY_PUBLIC_URL), pending);
    // A session cookie sent to the callback belongs to an earlier login: end it rather than orphan it.
    if (BffSessions.isTicket(oldTicket)) await this.sessions.destroy(oldTicket, 'replaced');
    const ticket = await this.sessions.create({
      accessToken: tokens.accessToken,
      accessExpiresAt: tokens.accessExpiresAt,
      refreshToken: tokens.refreshToken,
      idToken: tokens.idToken,
      refreshExpiresAt: tokens.refreshExpiresAt,
      scope: tokens.scope,
      sid: tokens.sid,
      user: tokens.user,
    });
    return {
      status: 302,
      location: returnToPath(pending.returnTo),
      cookies: [this.cookies.setSession(ticket), this.cookies.clearLogin()],
    };
  }

  async session(ticket: string | undefined): Promise<SessionView> {
    if (!BffSessions.isTicket(ticket)) return { authenticated: false };
    const info = await this.sessions.info(ticket);
    const record = info && (await this.sessions.readFull(ticket));
    if (!info || !record) return { authenticated: false };
    return {
      authenticated: true,
      user: info.user,
      expiresAt: new Date(info.expiresAt * 1000).toISOString(),
      sizes: {
        accessToken: record.accessToken.length,
        idToken: record.idToken?.length ?? 0,
        refreshToken: record.refreshToken?.length ?? 0,
        cookie: this.cookies.session.length + 1 + ticket.length,
      },
      budget: budgetOf(record.accessToken),
    };
  }

  async logout(ticket: string | undefined): Promise<AuthOutcome> {
    const record = BffSessions.isTicket(ticket) ? await this.sessions.destroy(ticket, 'logout') : undefined;
    if (record?.refreshToken) await this.oidc.revoke(record.refreshToken);
    const endSessionUrl = record ? await this.oidc.endSessionUrl(record.idToken) : undefined;
    return {
      status: 200,
      body: { loggedOut: true, endSessionUrl: endSessionUrl ?? null },
      cookies: [this.cookies.clearSession()],
    };
  }

  async backchannelLogout(logoutToken: unknown): Promise<AuthOutcome> {
    if (typeof logoutToken !== 'string' || logoutToken.length === 0 || logoutToken.length > 16_384) {
      throw new LogoutTokenInvalid('logout_token_missing');
    }
    const claims = await this.oidc.verifyLogoutToken(logoutToken);
    // Atomic first-use check: a replayed token counts 2 and is refused.
    const window = Math.max(60, claims.exp - Math.floor(Date.now() / 1000) + 60);
    if ((await this.store.increment(LOGOUT_JTI_NAMESPACE, claims.jti, Math.min(window, 86_400))) > 1) {
      throw new LogoutTokenInvalid('replayed');
    }
    const ended = claims.sid
      ? await this.sessions.endAll('sid', claims.sid)
      : await this.sessions.endAll('sub', claims.sub!);
    return { status: 200, body: { ended }, cookies: [] };
  }
}
