import { stringifySetCookie } from 'cookie';
import type { SetCookie } from 'cookie';

/** Names and attributes of the gateway's cookies; `__Host-` pins them to this host, Path=/ and Secure. */
export class SessionCookies {
  readonly session: string;
  readonly login: string;
  /** Names no upstream may set, in either cookie mode. */
  static readonly RESERVED = ['__Host-cloakroom', '__Host-cloakroom-login', 'cloakroom', 'cloakroom-login'];
  private static readonly RESERVED_LOWER = new Set(SessionCookies.RESERVED.map((name) => name.toLowerCase()));
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

  /** Case does not help an impostor: `__Host-` prefixes are matched without it (RFC 6265bis), and so are ours. */
  static isReserved(name: string): boolean {
    return SessionCookies.RESERVED_LOWER.has(name.toLowerCase());
  }

  /**
   * Whether an upstream's Set-Cookie line is dropped. The name is read as browsers read it (RFC 6265bis §5.6): the
   * pair ends at the first `;`, the name at its first `=`, spaces and tabs around it ignored; a pair with no `=` or an
   * empty name is a nameless cookie, which browsers send back as its bare value, so `=cloakroom=x` would arrive as
   * `cloakroom=x`. Nameless cookies are refused, and so is any of ours.
   */
  static refusesFromUpstream(setCookie: string): boolean {
    const end = setCookie.indexOf(';');
    const pair = end < 0 ? setCookie : setCookie.slice(0, end);
    const equals = pair.indexOf('=');
    if (equals < 0) return true;
    const name = pair.slice(0, equals).replace(/^[\t ]+|[\t ]+$/g, '');
    return name === '' || SessionCookies.isReserved(name);
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
