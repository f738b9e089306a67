import { IsInt, Max, Min } from 'class-validator';
import { Setting } from '@cloakroom/config';
import type { LoginThrottleSettings } from './login.throttle.js';

/** Sign-in throttling settings of the authorization server. */
export class AccountsConfig {
  @Setting(
    'Failed sign-ins of one username from one client address (IPv6: per /64) before that address gets 429 for that username, within LOGIN_USER_ADDRESS_WINDOW_SECONDS; other addresses are not affected; a success clears them.',
    5,
  )
  @IsInt()
  @Min(1)
  @Max(1000)
  LOGIN_MAX_FAILURES_PER_USER_ADDRESS = 5;

  @Setting('Window of the per-(username, address) failure count, in seconds, from the first failure.', 900)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  LOGIN_USER_ADDRESS_WINDOW_SECONDS = 900;

  @Setting(
    'Failed sign-ins of one username from anywhere, within LOGIN_USER_WINDOW_SECONDS, after which every attempt for it waits LOGIN_USER_DELAY_BASE_MS, doubling each time up to LOGIN_USER_DELAY_MAX_MS (slowed down, never refused).',
    5,
  )
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  LOGIN_USER_DELAY_AFTER_FAILURES = 5;

  @Setting('First wait of a slowed-down username, in milliseconds.', 250)
  @IsInt()
  @Min(0)
  @Max(60_000)
  LOGIN_USER_DELAY_BASE_MS = 250;

  @Setting('Longest wait of a slowed-down username, in milliseconds.', 8000)
  @IsInt()
  @Min(0)
  @Max(60_000)
  LOGIN_USER_DELAY_MAX_MS = 8000;

  @Setting('Window of the per-username failure count, in seconds, from the first failure.', 900)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  LOGIN_USER_WINDOW_SECONDS = 900;

  @Setting(
    'Sign-in attempts allowed per client address (IPv6: per /64) within LOGIN_ADDRESS_WINDOW_SECONDS, whatever the username, successes included.',
    50,
  )
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS = 50;

  @Setting('Window of the per-address attempt count, in seconds, from the first attempt.', 900)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  LOGIN_ADDRESS_WINDOW_SECONDS = 900;

  get throttle(): LoginThrottleSettings {
    return {
      maxFailuresPerUserAddress: this.LOGIN_MAX_FAILURES_PER_USER_ADDRESS,
      userAddressWindowSeconds: this.LOGIN_USER_ADDRESS_WINDOW_SECONDS,
      delayAfterUserFailures: this.LOGIN_USER_DELAY_AFTER_FAILURES,
      userDelayBaseMs: this.LOGIN_USER_DELAY_BASE_MS,
      userDelayMaxMs: this.LOGIN_USER_DELAY_MAX_MS,
      userWindowSeconds: this.LOGIN_USER_WINDOW_SECONDS,
      maxAttemptsPerAddress: this.LOGIN_MAX_ATTEMPTS_PER_ADDRESS,
      addressWindowSeconds: this.LOGIN_ADDRESS_WINDOW_SECONDS,
    };
  }
}
