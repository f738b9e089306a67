import { createHash } from 'node:crypto';
import { stringifySetCookie } from 'cookie';
import type { SetCookie } from 'cookie';

/** A login cookie found in a request. */
export interface LoginCookie {
  name: string;
  value: string;
}

/**
 * One cookie per login in progress, named after the login's `state`: two tabs that log in at once each
 * keep their own, and a callback finds its own by the `state` it carries. Same attributes as the session
 * cookie (`__Host-`, HttpOnly, Secure, SameSite=Lax: the callback is a top-level GET from the issuer).
 */
export class LoginCookies {
  /** Every login cookie's name starts with this: `__Host-cloakroom-login.` (`cloakroom-login.` in dev). */
  readonly prefix: string;
  private readonly base: Omit<SetCookie, 'name' | 'value'>;

  constructor(secure: boolean) {
    this.prefix = secure ? '__Host-cloakroom-login.' : 'cloakroom-login.';
    this.base = { httpOnly: true, secure, sameSite: 'lax', path: '/' };
  }

  /** The cookie name of the login whose `state` this is: 12 characters of its hash (72 bits). */
  nameOf(state: string): string {
    return this.prefix + createHash('sha256').update(state).digest('base64url').slice(0, 12);
  }

  set(name: string, secret: string, maxAgeSeconds: number): string {
    return stringifySetCookie({ ...this.base, name, value: secret, maxAge: maxAgeSeconds });
  }

  clear(name: string): string {
    return stringifySetCookie({ ...this.base, name, value: '', maxAge: 0 });
  }

  /**
   * The login cookies of a request in header order, which is their creation order: browsers list cookies of
   * the same path oldest first (RFC 6265 §5.4).
   */
  list(header: string | undefined): LoginCookie[] {
    const found: LoginCookie[] = [];
    for (const pair of header?.split(';') ?? []) {
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      if (at > 0 && name.startsWith(this.prefix)) found.push({ name, value: pair.slice(at + 1).trim() });
    }
    return found;
  }
}
