/** The authorization server refused the refresh token (invalid_grant and the like): the session is over. */
export class RefreshRejected extends Error {
  override readonly name = 'RefreshRejected';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`refresh rejected: ${reason}`, options);
  }
}

/** The refresh could not be done now (authorization server unreachable, another refresh took too long). */
export class RefreshUnavailable extends Error {
  override readonly name = 'RefreshUnavailable';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`refresh unavailable: ${reason}`, options);
  }
}

/**
 * The authorization server will not issue a token for this resource on this session (RFC 8707 invalid_target):
 * a route names an API the client may not ask for. The session itself stays.
 */
export class ResourceRefused extends Error {
  override readonly name = 'ResourceRefused';
  constructor(
    readonly resource: string,
    options?: { cause?: unknown },
  ) {
    super(`the authorization server issues no token for ${resource} on this session`, options);
  }
}
