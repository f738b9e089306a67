import { decodeJwt } from 'jose';
import type { ProxyRoute } from '../proxy/api.proxy.js';
import type { SessionRecord } from './session.codec.js';

/** What `/auth/user` answers: the user and the session as a single-page app may see them, never a token. */
export interface UserView {
  /** `sub` and the ID token's profile claims (`name`, `email`, …), without its protocol claims. */
  user: Record<string, unknown>;
  session: {
    id: string | null;
    /** When the session ends if it is not used meanwhile (each use pushes it back, up to the absolute limit). */
    idleExpiresAt: string;
    /** When it ends whatever happens. */
    absoluteExpiresAt: string;
    /** Seconds until `idleExpiresAt`: also sent on every answer as `X-Session-Expires-In`. */
    expiresInSeconds: number;
  };
  /** How to sign out: a POST with the header below (a cross-site page cannot send it). */
  logout: { url: string; method: 'POST'; headers: Record<string, string> };
  /** Each proxied route and when the access token it forwards expires (null: none obtained yet). */
  routes: Array<{ prefix: string; accessTokenExpiresAt: string | null }>;
}

/** ID token claims that are about the token, not the user: an app has no use for them. */
const PROTOCOL_CLAIMS = new Set([
  'iss',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'azp',
  'auth_time',
  'sid',
  'acr',
  'amr',
  'cnf',
]);

export function userView(
  record: SessionRecord,
  expiresAt: number,
  nowSeconds: number,
  routes: ProxyRoute[],
): UserView {
  const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();
  return {
    user: { ...profileOf(record.idToken), ...record.user, sub: record.user.sub },
    session: {
      id: record.id ?? null,
      idleExpiresAt: iso(expiresAt),
      absoluteExpiresAt: iso(record.absoluteExpiresAt),
      expiresInSeconds: Math.max(0, Math.floor(expiresAt - nowSeconds)),
    },
    logout: { url: '/auth/logout', method: 'POST', headers: { 'X-CSRF': '1' } },
    routes: routes.map((route) => {
      const expiry = route.resource
        ? record.resourceTokens?.[route.resource]?.accessExpiresAt
        : record.accessExpiresAt;
      return { prefix: route.prefix, accessTokenExpiresAt: expiry === undefined ? null : iso(expiry) };
    }),
  };
}

function profileOf(idToken: string | undefined): Record<string, unknown> {
  if (!idToken) return {};
  try {
    const claims = decodeJwt(idToken);
    return Object.fromEntries(Object.entries(claims).filter(([name]) => !PROTOCOL_CLAIMS.has(name)));
  } catch {
    return {};
  }
}
