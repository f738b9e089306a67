import { SessionNotFound, Unauthenticated } from '../errors.js';
import type { ProxyRoute } from '../proxy/api.proxy.js';
import type { OidcClient } from '../relying-party/oidc.client.js';
import { BffSessions } from '../session/bff-sessions.js';
import type { SessionListing } from '../session/session.roster.js';
import { userView } from '../session/user-view.js';
import type { UserView } from '../session/user-view.js';

/** A session in the answer of `GET /auth/sessions`. */
export interface SessionListView extends Omit<SessionListing, 'createdAt' | 'lastUsedAt'> {
  createdAt: string;
  lastUsedAt: string;
  current: boolean;
}

/** What ending sessions from this one did. */
export interface SessionsEnded {
  ended: number;
  /** Refresh tokens revoked at the authorization server (RFC 7009). */
  revoked: number;
}

/**
 * The session endpoints a single-page app uses: who is signed in (`/auth/user`), the user's sessions, and ending
 * one of them or all others. Every one needs a live session: without one it is 401, with the reason.
 */
export class SessionControlService {
  constructor(
    private readonly sessions: BffSessions,
    private readonly oidc: OidcClient,
    private readonly routes: ProxyRoute[],
    private readonly now: () => number = Date.now,
  ) {}

  async user(ticket: string | undefined): Promise<UserView> {
    const dek = this.ticketOf(ticket);
    const info = await this.sessions.info(dek);
    const record = info && (await this.sessions.readFull(dek));
    if (!info || !record) throw new Unauthenticated('session_expired');
    return userView(record, info.expiresAt, this.now() / 1000, this.routes);
  }

  async list(ticket: string | undefined): Promise<{ sessions: SessionListView[] }> {
    const listed = await this.sessions.list(this.ticketOf(ticket));
    if (listed === undefined) throw new Unauthenticated('session_expired');
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      sessions: listed.map((s) => ({ ...s, createdAt: iso(s.createdAt), lastUsedAt: iso(s.lastUsedAt) })),
    };
  }

  /** Ends one other session of this user (`id`), or every other one. This session stays. */
  async end(ticket: string | undefined, id?: string): Promise<SessionsEnded> {
    const ended = await this.sessions.endOthers(this.ticketOf(ticket), id);
    if (ended === undefined) throw new Unauthenticated('session_expired');
    if (id !== undefined && ended.ended === 0) throw new SessionNotFound(id === ended.currentId);
    const revoked = await Promise.all(ended.refreshTokens.map((token) => this.oidc.revoke(token)));
    return { ended: ended.ended, revoked: revoked.filter(Boolean).length };
  }

  private ticketOf(ticket: string | undefined): string {
    if (!BffSessions.isTicket(ticket)) throw new Unauthenticated('no_session');
    return ticket;
  }
}
