import type { SealedStore } from '@cloakroom/sealed-store';
import { LoginFailed, LogoutTokenInvalid, PendingLoginUnknown } from '../errors.js';
import type { OidcClient } from '../relying-party/oidc.client.js';
import { BffSessions } from '../session/bff-sessions.js';
import { SessionCookies } from '../session/session.cookie.js';
import { deviceOf } from '../session/device.js';
import { sessionView } from '../session/session-view.js';
import type { SessionView } from '../session/session-view.js';
import { isSilent, kindOf } from './login-kind.js';
import type { LoginKind } from './login-kind.js';
import type { PendingLogins } from './pending-login.js';
import { returnToPath } from './return-to.js';
import { silentLoginError, silentLoginPage, silentLoginReturn } from './silent-login.page.js';
import type { SilentLoginResult } from './silent-login.page.js';

const LOGOUT_JTI_NAMESPACE = 'gateway.logout-jti';

/** What an endpoint answers: a redirect (`location`), a JSON body or a page, with cookies to set. */
export interface AuthOutcome {
  status: number;
  location?: string;
  body?: unknown;
  page?: { html: string; csp: string };
  cookies: string[];
}

/** How a single-page app waits for a silent login: in a hidden iframe, or by leaving and coming back. */
export type SilentLoginMode = 'iframe' | 'redirect';

/** Login, callback, session info, logout and back-channel logout: orchestration of the RP and the sessions. */
export class AuthService {
  constructor(
    private readonly publicUrl: string,
    private readonly oidc: OidcClient,
    private readonly sessions: BffSessions,
    private readonly store: SealedStore,
    private readonly cookies: SessionCookies,
    private readonly logins: PendingLogins,
  ) {}

  /** `restarted`: this login follows a callback that found none, so it is not restarted again. */
  login(returnTo: unknown, cookieHeader: string | undefined, restarted = false): Promise<AuthOutcome> {
    return this.start(returnTo, cookieHeader, restarted ? 'restarted' : 'interactive');
  }

  /**
   * A login without any page: the authorization server answers at once from its own session (`prompt=none`). The
   * callback then tells the app the outcome, the way `mode` says, and never shows the sign-in form.
   */
  silentLogin(
    returnTo: unknown,
    mode: SilentLoginMode,
    cookieHeader: string | undefined,
  ): Promise<AuthOutcome> {
    return this.start(returnTo, cookieHeader, mode === 'iframe' ? 'silent-iframe' : 'silent-redirect');
  }

  /** `userAgent` names the device in the user's list of sessions (browser and system only). */
  async callback(
    requestUrl: string,
    cookieHeader: string | undefined,
    userAgent?: string,
  ): Promise<AuthOutcome> {
    const url = new URL(requestUrl, this.publicUrl);
    let taken: Awaited<ReturnType<PendingLogins['take']>>;
    try {
      taken = await this.logins.take(url, cookieHeader);
    } catch (error) {
      // A silent login whose state is lost still answers its caller, with no page and no new login.
      if (error instanceof PendingLoginUnknown && isSilent(error.kind))
        return this.silentAnswer(error.kind, '/', { loggedIn: false, error: 'login_failed' }, []);
      throw error;
    }
    const { pending, cookies } = taken;
    const kind = kindOf(pending.state);
    if (isSilent(kind) && url.searchParams.has('error')) {
      const error = silentLoginError(url.searchParams.get('error'));
      return this.silentAnswer(kind, pending.returnTo, { loggedIn: false, error }, cookies);
    }
    let tokens: Awaited<ReturnType<OidcClient['finishLogin']>>;
    try {
      tokens = await this.oidc.finishLogin(url, pending);
    } catch (error) {
      if (error instanceof LoginFailed && isSilent(kind))
        return this.silentAnswer(kind, pending.returnTo, { loggedIn: false, error: 'login_failed' }, cookies);
      throw error;
    }
    // A session cookie sent to the callback belongs to an earlier login: end it rather than orphan it.
    const oldTicket = SessionCookies.find(cookieHeader, this.cookies.session);
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
      device: deviceOf(userAgent),
    });
    const set = [this.cookies.setSession(ticket), ...cookies];
    if (isSilent(kind)) return this.silentAnswer(kind, pending.returnTo, { loggedIn: true }, set);
    return { status: 302, location: returnToPath(pending.returnTo), cookies: set };
  }

  async session(ticket: string | undefined): Promise<SessionView> {
    if (!BffSessions.isTicket(ticket)) return { authenticated: false };
    const info = await this.sessions.info(ticket);
    const record = info && (await this.sessions.readFull(ticket));
    if (!info || !record) return { authenticated: false };
    return sessionView(info, record, this.cookies.session, ticket);
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

  private async start(
    returnTo: unknown,
    cookieHeader: string | undefined,
    kind: LoginKind,
  ): Promise<AuthOutcome> {
    const { url, pending } = await this.oidc.startLogin(returnToPath(returnTo), kind);
    return { status: 302, location: url, cookies: await this.logins.start(pending, cookieHeader) };
  }

  private silentAnswer(
    kind: 'silent-iframe' | 'silent-redirect',
    returnTo: string,
    result: SilentLoginResult,
    cookies: string[],
  ): AuthOutcome {
    if (kind === 'silent-redirect')
      return { status: 302, location: silentLoginReturn(returnToPath(returnTo), result), cookies };
    return { status: 200, page: silentLoginPage(new URL(this.publicUrl).origin, result), cookies };
  }
}
