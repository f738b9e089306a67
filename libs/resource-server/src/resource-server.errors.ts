/** No usable bearer token, or one that does not verify: 401 with `WWW-Authenticate: Bearer`. */
export class InvalidToken extends Error {
  override readonly name = 'InvalidToken';
  constructor(
    readonly reason: string,
    /** No token at all: the challenge carries no error code (RFC 6750 §3.1). */
    readonly missing = false,
  ) {
    super(reason);
  }
}

/** The token is fine but lacks a scope or group the route needs: 403 `insufficient_scope`. */
export class InsufficientScope extends Error {
  override readonly name = 'InsufficientScope';
  constructor(
    readonly required: { scopes: string[]; groups: string[] },
    reason: string,
  ) {
    super(reason);
  }
}

/** The authorization server (discovery, JWKS or introspection) did not answer: 503, not 401. */
export class AuthorizationServerUnavailable extends Error {
  override readonly name = 'AuthorizationServerUnavailable';
}

/** A `DPoP` proof that is missing, malformed, or not for this request or this token: 401 `invalid_dpop_proof`. */
export class InvalidDpopProof extends Error {
  override readonly name = 'InvalidDpopProof';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Every remembered DPoP proof is still in its window: refusing beats forgetting one (a replay). 503. */
export class DpopReplayCacheFull extends Error {
  override readonly name = 'DpopReplayCacheFull';
}
