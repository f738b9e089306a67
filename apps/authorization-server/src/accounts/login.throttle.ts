import { isIPv4, isIPv6 } from 'node:net';
import type { SealedStore } from '@cloakroom/sealed-store';
import { LoginThrottled } from './accounts.errors.js';

export interface LoginThrottleSettings {
  maxFailuresPerUser: number;
  userWindowSeconds: number;
  maxAttemptsPerAddress: number;
  addressWindowSeconds: number;
}

export const LOGIN_THROTTLE_DEFAULTS: LoginThrottleSettings = {
  maxFailuresPerUser: 5,
  userWindowSeconds: 900,
  maxAttemptsPerAddress: 50,
  addressWindowSeconds: 900,
};

// Counters live under slots, keyed hashes of the username or address. Only with STORE_PEPPER (required in
// production) does a store dump name neither: without it, hashing a list of usernames and every IPv4
// address finds who failed to sign in, and from where.
const USER = 'login-user';
const ADDRESS = 'login-address';
// Holds nothing but a TTL that ends with the counting window, to answer Retry-After.
const USER_WINDOW = 'login-user-window';
const ADDRESS_WINDOW = 'login-address-window';

/**
 * Counts sign-in attempts per username and per client address in fixed windows of the sealed store.
 *
 * An attempt is counted before the password is checked, atomically: concurrent guesses cannot all slip
 * under the limit, and once over it no hash is computed at all. A success clears the username's count;
 * the address count keeps its successes, or one known account would reset the limit for a whole botnet.
 */
export class LoginThrottle {
  private readonly settings: LoginThrottleSettings;

  constructor(
    private readonly store: SealedStore,
    settings: Partial<LoginThrottleSettings> = {},
  ) {
    this.settings = { ...LOGIN_THROTTLE_DEFAULTS, ...settings };
  }

  /** Counts one attempt; throws LoginThrottled when the username or the address is over its limit. */
  async admit(username: string, address: string): Promise<void> {
    const { maxFailuresPerUser, userWindowSeconds, maxAttemptsPerAddress, addressWindowSeconds } =
      this.settings;
    const bucket = addressBucket(address);
    const [userCount, addressCount] = await Promise.all([
      this.count(USER, USER_WINDOW, username, userWindowSeconds),
      this.count(ADDRESS, ADDRESS_WINDOW, bucket, addressWindowSeconds),
    ]);
    const waits: Promise<number>[] = [];
    if (userCount > maxFailuresPerUser) waits.push(this.retryAfter(USER_WINDOW, username, userWindowSeconds));
    if (addressCount > maxAttemptsPerAddress) {
      waits.push(this.retryAfter(ADDRESS_WINDOW, bucket, addressWindowSeconds));
    }
    if (waits.length > 0) throw new LoginThrottled(Math.max(...(await Promise.all(waits))));
  }

  /** A correct password: the username's failures are forgiven. */
  async succeeded(username: string): Promise<void> {
    await this.store.resetCount(USER, username);
  }

  private async count(namespace: string, windowNamespace: string, secret: string, windowSeconds: number) {
    const count = await this.store.increment(namespace, secret, windowSeconds);
    // The first attempt opens the window; its twin entry expires with it.
    if (count === 1) await this.store.put(windowNamespace, secret, 0, windowSeconds);
    return count;
  }

  private async retryAfter(windowNamespace: string, secret: string, windowSeconds: number): Promise<number> {
    const left = await this.store.ttl(windowNamespace, secret);
    return Math.max(1, Math.min(left ?? windowSeconds, windowSeconds));
  }
}

/**
 * The address an attempt is counted against: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its /64,
 * since one subscriber usually holds a whole /64.
 */
export function addressBucket(address: string): string {
  const ip = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(ip)) return ip;
  if (isIPv6(ip)) return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
  return ip.length > 0 && ip.length <= 256 ? `other:${ip}` : 'unknown';
}

function expandIPv6(ip: string): string[] {
  let text = ip.split('%')[0];
  // A trailing dotted quad stands for the last two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((group) => parseInt(group, 16).toString(16));
}
