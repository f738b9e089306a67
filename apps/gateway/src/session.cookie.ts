import { stringifySetCookie } from 'cookie';
import type { SetCookie } from 'cookie';

/** Names and attributes of the gateway's cookies; `__Host-` pins them to this host, Path=/ and Secure. */
export class SessionCookies {
  readonly session: string;
  readonly login: string;
  /** Names no upstream may set, in either cookie mode. */
  static readonly RESERVED = ['__Host-cloakroom', '__Host-cloakroom-login', 'cloakroom', 'cloakroom-login'];
  private readonly base: Omit<SetCookie, 'name' | 'value'>;

  constructor(secure: boolean) {
    this.session = secure ? '__Host-cloakroom' : 'cloakroom';
    this.login = secure ? '__Host-cloakroom-login' : 'cloakroom-login';
    this.base = { httpOnly: true, secure, sameSite: 'lax', path: '/' };
  }

  /** The session cookie: no Max-Age, the browser drops it at exit; the store's TTL ends it server-side. */
  setSession(dek: string): string {
    return stringifySetCookie({ ...this.base, name: this.session, value: dek });
  }

  setLogin(secret: string, maxAgeSeconds: number): string {
    return stringifySetCookie({ ...this.base, name: this.login, value: secret, maxAge: maxAgeSeconds });
  }

  clearSession(): string {
    return stringifySetCookie({ ...this.base, name: this.session, value: '', maxAge: 0 });
  }

  clearLogin(): string {
    return stringifySetCookie({ ...this.base, name: this.login, value: '', maxAge: 0 });
  }

  /** The value of a cookie in a Cookie header, without parsing the others (the proxy's hot path). */
  static find(header: string | undefined, name: string): string | undefined {
    if (!header) return undefined;
    let from = 0;
    for (;;) {
      const at: number = header.indexOf(name, from);
      if (at < 0) return undefined;
      const before = at === 0 ? ';' : header[at - 1];
      const equals = at + name.length;
      if ((before === ';' || before === ' ') && header[equals] === '=') {
        const end = header.indexOf(';', equals);
        return header.slice(equals + 1, end < 0 ? undefined : end).trim();
      }
      from = at + 1;
    }
  }
}
