import { describe, expect, it } from '@jest/globals';
import { ConfigInvalid, loadConfig } from '@cloakroom/config';
import { AccountsConfig } from './accounts.config.js';
import { LOGIN_THROTTLE_DEFAULTS } from './login.throttle.js';

describe(AccountsConfig.name, () => {
  it('has the documented defaults', () => {
    expect(loadConfig(AccountsConfig, {}).throttle).toEqual(LOGIN_THROTTLE_DEFAULTS);
  });

  it('reads numbers from the environment and lists every bad one', () => {
    const config = loadConfig(AccountsConfig, {
      LOGIN_MAX_FAILURES_PER_USER_ADDRESS: '3',
      LOGIN_ADDRESS_WINDOW_SECONDS: '60',
    });
    expect(config.throttle).toMatchObject({ maxFailuresPerUserAddress: 3, addressWindowSeconds: 60 });
    let error: unknown;
    try {
      loadConfig(AccountsConfig, {
        LOGIN_MAX_FAILURES_PER_USER_ADDRESS: '0',
        LOGIN_USER_WINDOW_SECONDS: 'soon',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigInvalid);
    const problems = (error as ConfigInvalid).problems.join('\n');
    expect(problems).toContain(
      'LOGIN_MAX_FAILURES_PER_USER_ADDRESS: LOGIN_MAX_FAILURES_PER_USER_ADDRESS must not be less than 1',
    );
    expect(problems).toContain(
      'LOGIN_USER_WINDOW_SECONDS: LOGIN_USER_WINDOW_SECONDS must be an integer number',
    );
  });
});
