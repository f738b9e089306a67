import { timingSafeEqual } from 'node:crypto';
import { newSecret } from '@cloakroom/envelope';
import { BffSessions } from '../session/bff-sessions.js';
import type { SealedStore } from '@cloakroom/sealed-store';
import { PendingLoginUnknown } from '../errors.js';
import { kindOf } from './login-kind.js';
import type { LoginCookies } from './login.cookie.js';
import type { PendingLogin } from '../relying-party/oidc.client.js';

const LOGIN_NAMESPACE = 'gateway.login';
const MAX_STATE_LENGTH = 512;

/**
 * Logins between /auth/login and /auth/callback. Each is sealed in the store under a fresh secret that only
 * its own cookie holds, and the cookie is named after the login's `state`, so a callback finds its login by
 * the `state` it brings. A login is taken (deleted) only once that `state` matched: a forged callback with
 * another or an unknown `state` leaves every real login in progress alone.
 */
export class PendingLogins {
  constructor(
    private readonly store: SealedStore,
    private readonly cookies: LoginCookies,
    private readonly ttlSeconds: number,
    private readonly maxInProgress: number,
  ) {}

  /** Stores a new login; the Set-Cookie lines for it, and to drop the oldest beyond the limit. */
  async start(pending: PendingLogin, cookieHeader: string | undefined): Promise<string[]> {
    const secret = newSecret();
    await this.store.put(LOGIN_NAMESPACE, secret, pending, this.ttlSeconds);
    const name = this.cookies.nameOf(pending.state);
    const others = this.cookies.list(cookieHeader).filter((cookie) => cookie.name !== name);
    // Their store entries expire with their TTL: without the cookie nobody can open them.
    const dropped = others.slice(0, Math.max(0, others.length - this.maxInProgress + 1));
    return [
      ...dropped.map((cookie) => this.cookies.clear(cookie.name)),
      this.cookies.set(name, secret, this.ttlSeconds),
    ];
  }

  /** The login this callback belongs to, deleted so that it serves once, and the line clearing its cookie. */
  async take(
    callbackUrl: URL,
    cookieHeader: string | undefined,
  ): Promise<{ pending: PendingLogin; cookies: string[] }> {
    const state = callbackUrl.searchParams.get('state') ?? '';
    const unknown = (reason: string) => new PendingLoginUnknown(reason, kindOf(state));
    if (!state || state.length > MAX_STATE_LENGTH) throw unknown('no state');
    const name = this.cookies.nameOf(state);
    const secret = this.cookies.list(cookieHeader).find((cookie) => cookie.name === name)?.value;
    if (!BffSessions.isTicket(secret)) throw unknown('no login cookie for this state');
    const pending = await this.store.get<PendingLogin>(LOGIN_NAMESPACE, secret);
    if (!pending || typeof pending.state !== 'string' || typeof pending.returnTo !== 'string') {
      throw unknown('login expired or unknown');
    }
    if (!sameString(pending.state, state)) throw unknown('state does not match');
    // Two callbacks with the same state (a replay, a double click): the one that deletes it goes on.
    if (!(await this.store.destroy(LOGIN_NAMESPACE, secret))) {
      throw unknown('login already completed');
    }
    return { pending, cookies: [this.cookies.clear(name)] };
  }
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
