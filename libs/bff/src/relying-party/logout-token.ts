import { errors, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { LogoutTokenInvalid } from '../errors.js';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What a verified logout token says: whose sessions end, and its id and expiry for the replay check. */
export interface LogoutClaims {
  sid?: string;
  sub?: string;
  jti: string;
  exp: number;
}

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.4 and §2.6: signed by the issuer for this client, `iat`, `exp`
 * and `jti` present, the back-channel event a JSON object, `typ` `logout+jwt` when present, no `nonce`,
 * a `sid` or a `sub`. A refusal carries a short reason code, never the token.
 */
export async function verifyLogoutToken(
  token: string,
  keys: JWTVerifyGetKey,
  expected: { issuer: string; audience: string; algorithms: string[] },
): Promise<LogoutClaims> {
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(token, keys, {
      ...expected,
      maxTokenAge: '5 minutes',
      clockTolerance: 30,
      requiredClaims: ['iat', 'jti', 'exp'],
    });
  } catch (error) {
    throw new LogoutTokenInvalid(refusalOf(error), { cause: error });
  }
  const { payload, protectedHeader } = verified;
  // Optional, but when present it must name the token's kind, so no other JWT of the issuer passes.
  const typ = protectedHeader.typ?.toLowerCase().replace(/^application\//, '');
  if (typ !== undefined && typ !== 'logout+jwt') throw new LogoutTokenInvalid('typ_invalid');
  const events = payload.events;
  if (!isObject(events) || !isObject(events[BACKCHANNEL_EVENT]))
    throw new LogoutTokenInvalid('events_invalid');
  if ('nonce' in payload) throw new LogoutTokenInvalid('nonce_present');
  const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  if (!sid && !sub) throw new LogoutTokenInvalid('sid_and_sub_missing');
  if (typeof payload.jti !== 'string') throw new LogoutTokenInvalid('jti_invalid');
  return { sid, sub, jti: payload.jti, exp: payload.exp! };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Which check jose refused, as `<claim>_<reason>` or a kind of failure. */
function refusalOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `${error.claim}_${error.reason}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return 'signature_invalid';
  }
  return 'malformed';
}
