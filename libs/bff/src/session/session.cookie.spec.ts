import { describe, expect, it } from '@jest/globals';
import { SessionCookies } from './session.cookie.js';

describe(SessionCookies.name, () => {
  it.each([
    '=cloakroom=stolen; Path=/',
    ' = cloakroom=stolen',
    '\t=__Host-cloakroom=stolen',
    'cloakroom',
    '=',
    '',
    'cloakroom=stolen',
    ' cloakroom =stolen; Path=/',
    '__Host-cloakroom=stolen; Secure; Path=/',
    '__host-CLOAKROOM=stolen; Secure; Path=/',
    'cloakroom-login=stolen',
    '__Host-cloakroom-login\t=stolen',
  ])('refuses %j from an upstream: nameless, or one of the gateway cookies', (line) => {
    expect(SessionCookies.refusesFromUpstream(line)).toBe(true);
  });

  it.each(['upstream-pref=1; Path=/', 'cloakroomx=1', 'my-cloakroom=1', 'theme==dark', 'a=cloakroom=1'])(
    'lets %j through',
    (line) => {
      expect(SessionCookies.refusesFromUpstream(line)).toBe(false);
    },
  );

  it('reserves both cookie modes, whatever the case', () => {
    for (const name of SessionCookies.RESERVED) {
      expect(SessionCookies.isReserved(name)).toBe(true);
      expect(SessionCookies.isReserved(name.toUpperCase())).toBe(true);
    }
    expect(SessionCookies.isReserved('session')).toBe(false);
  });
});
