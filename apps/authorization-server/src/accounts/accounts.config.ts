import { IsInt, Max, Min } from 'class-validator';
import { Setting } from '@cloakroom/config';
import type { LoginThrottleSettings } from './login.throttle.js';

/** Sign-in throttling settings of the authorization server. */
export class AccountsConfig {
  @Setting('Failed sign-ins allowed per username within LOGIN_USER_WINDOW_SECONDS; a success clears them.', 5)
  @IsInt()
  @Min(1)
  @Max(1000)
  LOGIN_MAX_FAILURES_PER_USER = 5;

  @Setting('Window of the per-username failure count, in seconds, from the first failure.', 900)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  LOGIN_USER_WINDOW_SECONDS = 900;

  @Setting(
    'Sign-in attempts allowed per client address (IPv6: per /64) within LOGIN_ADDRESS_WINDOW_SECONDS, successes included.',
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
      maxFailuresPerUser: this.LOGIN_MAX_FAILURES_PER_USER,
      userWindowSeconds: this.LOGIN_USER_WINDOW_SECONDS,
      maxAttemptsPerAddress: this.LOGIN_MAX_ATTEMPTS_PER_ADDRESS,
      addressWindowSeconds: this.LOGIN_ADDRESS_WINDOW_SECONDS,
    };
  }
}
