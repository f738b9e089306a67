import type { SealedStore } from '@cloakroom/sealed-store';
import { LogoutTokenInvalid } from '../errors.js';
import type { OidcClient } from '../relying-party/oidc.client.js';
import { BffSessions } from '../session/bff-sessions.js';
import { SessionCookies } from '../session/session.cookie.js';
import { sessionView } from '../session/session-view.js';
import type { SessionView } from '../session/session-view.js';
import type { PendingLogins } from './pending-login.js';
import { returnToPath } from './return-to.js';

const LOGOUT_JTI_NAMESPACE = 'gateway.logout-jti';

/** What an endpoint answers: a redirect (`location`) or a JSON body, with cookies to set. */
export interface AuthOutcome {
  status: number;
  location?: string;
  body?: unknown;
  cookies: string[];
}

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
  async login(returnTo: unknown, cookieHeader: string | undefined, restarted = false): Promise<AuthOutcome> {
    const { url, pending } = await this.oidc.startLogin(returnToPath(returnTo), restarted);
    return { status: 302, location: url, cookies: await this.logins.start(pending, cookieHeader) };
  }

  async callback(requestUrl: string, cookieHeader: string | undefined): Promise<AuthOutcome> {
    const url = new URL(requestUrl, this.publicUrl);
    const { pending, cookies } = await this.logins.take(url, cookieHeader);
    const tokens = await this.oidc.finishLogin(url, pending);
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
    });
    return {
      status: 302,
      location: returnToPath(pending.returnTo),
      cookies: [this.cookies.setSession(ticket), ...cookies],
    };
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
}
