import { describe, expect, it } from '@jest/globals';
import { isJwtShaped } from './jwt-shape.js';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const header = b64({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' });
const payload = b64({ sub: 'alice', groups: ['readers'] });

describe(isJwtShaped.name, () => {
  it.each([
    ['a signed JWS', `${header}.${payload}.c2lnbmF0dXJl`],
    ['an unsigned JWS, for the verifier to refuse', `${header}.${payload}.`],
    ['a JWS with an empty payload, for the analysis to call malformed', `${header}..c2ln`],
    ['a header without alg, for the verifier to refuse', `${b64({ typ: 'JWT' })}.${payload}.c2ln`],
  ])('takes %s for a JWT', (_what, value) => {
    expect(isJwtShaped(value)).toBe(true);
  });

  it.each([
    ['an opaque token', 'Mq3Xy-0123456789abcdefghijklmnopqrstuvwxyz_A'],
    ['an encrypted JWT (JWE), five segments', `${header}.a.b.c.d`],
    ['two segments', `${header}.${payload}`],
    ['four segments', `${header}.${payload}.c2ln.x`],
    ['an empty header', `.${payload}.c2ln`],
    ['characters outside base64url', `${header}.${payload}.c2ln=`],
    ['a header that is not JSON', `bm90IGpzb24.${payload}.c2ln`],
    ['a header that is a JSON list', `${b64(['alg'])}.${payload}.c2ln`],
    ['a header that is JSON null', `${b64(null)}.${payload}.c2ln`],
    ['a header that is a JSON string', `${b64('alg')}.${payload}.c2ln`],
    ['a dotted cookie value', 'session.1.2'],
    ['nothing', ''],
  ])('does not take %s for a JWT', (_what, value) => {
    expect(isJwtShaped(value)).toBe(false);
  });
});
