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
