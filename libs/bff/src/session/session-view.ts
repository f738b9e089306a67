import { analyzeToken, isJwtShaped } from '@cloakroom/token-budget';
import type { SessionInfo } from './bff-sessions.js';
import type { SessionRecord } from './session.codec.js';

/** What `/auth/session` answers: who is logged in and sizes for the demo page, never a token. */
export interface SessionView {
  authenticated: boolean;
  user?: { sub: string; name?: string; email?: string; groupsCount?: number };
  /** When the session ends if it is not used meanwhile (each use pushes it back, up to the absolute limit). */
  idleExpiresAt?: string;
  /** When it ends whatever happens: the absolute limit counted from the login. */
  absoluteExpiresAt?: string;
  sizes?: {
    accessToken: number;
    idToken: number;
    refreshToken: number;
    /** Bytes of `name=value` in the Cookie header of each request: what browsers count against 4096. */
    cookie: number;
    cookieName: string;
  };
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

export function sessionView(
  info: SessionInfo,
  record: SessionRecord,
  cookieName: string,
  ticket: string,
): SessionView {
  const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();
  return {
    authenticated: true,
    user: info.user,
    idleExpiresAt: iso(info.expiresAt),
    absoluteExpiresAt: iso(record.absoluteExpiresAt),
    sizes: {
      accessToken: record.accessToken.length,
      idToken: record.idToken?.length ?? 0,
      refreshToken: record.refreshToken?.length ?? 0,
      cookie: cookieName.length + 1 + ticket.length,
      cookieName,
    },
    budget: budgetOf(record.accessToken),
  };
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
