import { ConfigFileInvalid } from '@cloakroom/config';

/** The same answer for an unknown user, a wrong password and a disabled account: nothing to enumerate. */
export class LoginRefused extends Error {
  override readonly name = 'LoginRefused';
  constructor() {
    super('Wrong username or password.');
  }
}

/** Too many attempts for this username or from this address; the caller waits retryAfterSeconds. */
export class LoginThrottled extends Error {
  override readonly name = 'LoginThrottled';
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many sign-in attempts. Try again in ${retryAfterSeconds} seconds.`);
  }
}

/** The users file does not validate; lists every problem with its path and what is expected. */
export class UsersFileInvalid extends ConfigFileInvalid {
  override readonly name = 'UsersFileInvalid';
  constructor(path: string, problems: string[]) {
    super('users', path, problems);
  }
}
