import type { SealedStore } from '@cloakroom/sealed-store';
import {
  FailureThrottle,
  Throttled,
  addressBucket,
  countIn,
  retryAfter,
} from '../throttle/failure.throttle.js';
import { LoginThrottled } from './accounts.errors.js';

export { addressBucket } from '../throttle/failure.throttle.js';

export interface LoginThrottleSettings {
  /** Failed sign-ins of one username from one address before that address is refused for it. */
  maxFailuresPerUserAddress: number;
  userAddressWindowSeconds: number;
  /** Failed sign-ins of one username, from anywhere, after which each attempt is slowed down. */
  delayAfterUserFailures: number;
  userDelayBaseMs: number;
  userDelayMaxMs: number;
  userWindowSeconds: number;
  /** Sign-in attempts from one address, whatever the username, successes included. */
  maxAttemptsPerAddress: number;
  addressWindowSeconds: number;
}

export const LOGIN_THROTTLE_DEFAULTS: LoginThrottleSettings = {
  maxFailuresPerUserAddress: 5,
  userAddressWindowSeconds: 900,
  delayAfterUserFailures: 5,
  userDelayBaseMs: 250,
  userDelayMaxMs: 8000,
  userWindowSeconds: 900,
  maxAttemptsPerAddress: 50,
  addressWindowSeconds: 900,
};

// Counters live under slots, keyed hashes of the username or address. Only with STORE_PEPPER (required in
// production) does a store dump name neither: without it, hashing a list of usernames and every IPv4
// address finds who failed to sign in, and from where.
const ADDRESS = 'login-address';

/**
 * Sign-in throttling. A username is locked out per address (five wrong passwords from one address refuse
 * that address for that username), and slowed down, never refused, for everyone else: the right password
 * from another address still signs in, so no one can keep an account locked. An address trying many
 * usernames is refused as a whole; its count keeps its successes, or one known account would reset it.
 */
export class LoginThrottle {
  private readonly settings: LoginThrottleSettings;
  private readonly failures: FailureThrottle;

  constructor(
    private readonly store: SealedStore,
    settings: Partial<LoginThrottleSettings> = {},
    wait?: (ms: number) => Promise<void>,
  ) {
    this.settings = { ...LOGIN_THROTTLE_DEFAULTS, ...settings };
    const s = this.settings;
    this.failures = new FailureThrottle(
      store,
      'login-user',
      {
        maxFailuresPerAddress: s.maxFailuresPerUserAddress,
        addressWindowSeconds: s.userAddressWindowSeconds,
        delayAfterFailures: s.delayAfterUserFailures,
        delayBaseMs: s.userDelayBaseMs,
        delayMaxMs: s.userDelayMaxMs,
        windowSeconds: s.userWindowSeconds,
      },
      wait,
    );
  }

  /** Counts one attempt; throws LoginThrottled when the address is over a limit, waits when the user is. */
  async admit(username: string, address: string): Promise<void> {
    const { maxAttemptsPerAddress, addressWindowSeconds } = this.settings;
    const bucket = addressBucket(address);
    const attempts = await countIn(this.store, ADDRESS, bucket, addressWindowSeconds);
    if (attempts > maxAttemptsPerAddress) {
      throw new LoginThrottled(await retryAfter(this.store, ADDRESS, bucket, addressWindowSeconds));
    }
    try {
      await this.failures.admit(username, address);
    } catch (error) {
      if (error instanceof Throttled) throw new LoginThrottled(error.retryAfterSeconds);
      throw error;
    }
  }

  /** A correct password: the username's failures are forgiven. */
  async succeeded(username: string, address: string): Promise<void> {
    await this.failures.succeeded(username, address);
  }
}
