import { errors } from 'undici';
import type { LoginKind } from './auth/login-kind.js';

// Every failure the BFF can answer, one class each; `http/error-answers.ts` maps them to HTTP in one table.

/** No session for this request: no cookie, or an unknown, expired, altered or ended one. 401. */
export class Unauthenticated extends Error {
  override readonly name = 'Unauthenticated';
  constructor(
    /** `no_session`: the request names none; `session_expired`: the one it names has ended (expired, signed out). */
    readonly reason: 'no_session' | 'session_expired' = 'no_session',
  ) {
    super(`unauthenticated: ${reason}`);
  }
}

/** An unsafe request without `X-CSRF: 1` or from an origin not in the allow-list. 403. */
export class CsrfRejected extends Error {
  override readonly name = 'CsrfRejected';
  constructor(readonly reason: 'missing_header' | 'origin_not_allowed') {
    super(`csrf check failed: ${reason}`);
  }
}

/** The login could not be completed (unknown or expired login state, refused code, invalid id token). 400. */
export class LoginFailed extends Error {
  override readonly name = 'LoginFailed';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`login failed: ${reason}`, options);
  }
}

/**
 * A callback for a login not in progress in this browser: expired, unknown, already completed, or forged.
 * A navigation is sent to log in again, once (`restartable`: not when this login was such a restart, so a browser
 * that keeps no cookies meets a page, not a redirect loop, and never for a silent login); any other request gets 400.
 */
export class PendingLoginUnknown extends Error {
  override readonly name = 'PendingLoginUnknown';
  constructor(
    reason: string,
    /** How the lost login was started, read from its `state`. */
    readonly kind: LoginKind,
  ) {
    super(`login failed: ${reason}`);
  }

  get restartable(): boolean {
    return this.kind === 'interactive';
  }
}

/** The authorization server could not be reached (discovery, token endpoint). 503. */
export class IssuerUnavailable extends Error {
  override readonly name = 'IssuerUnavailable';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`authorization server unavailable: ${reason}`, options);
  }
}

/** A back-channel logout token that does not verify. 400 with the reason, a short code with no token in it. */
export class LogoutTokenInvalid extends Error {
  override readonly name = 'LogoutTokenInvalid';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`logout token invalid: ${reason}`, options);
  }
}

/**
 * An upstream exchange that produced nothing to relay. 504 when the upstream was too slow, 502 when it could not be
 * reached or its answer was not well-formed HTTP/1.1, 400 when the client's request cannot be forwarded as it is.
 * The reason is one of a few fixed words, never bytes from the upstream.
 */
export class UpstreamFailed extends Error {
  override readonly name = 'UpstreamFailed';
  constructor(
    readonly status: 400 | 502 | 504,
    readonly reason: string,
  ) {
    super(`upstream request failed: ${reason}`);
  }

  /** What went wrong, in a few words the client may see; nothing from the upstream's bytes. */
  static from(error: Error): UpstreamFailed {
    if (error instanceof UpstreamFailed) return error;
    const code = (error as { code?: string }).code;
    switch (code) {
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new UpstreamFailed(502, 'connect_timeout');
      case 'UND_ERR_HEADERS_TIMEOUT':
        return new UpstreamFailed(504, 'response_head_timeout');
      case 'UND_ERR_BODY_TIMEOUT':
        return new UpstreamFailed(504, 'response_body_timeout');
      case 'UND_ERR_HEADERS_OVERFLOW':
        return new UpstreamFailed(502, 'response_head_too_large');
      case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      case 'UND_ERR_INFO':
        return new UpstreamFailed(502, 'invalid_response');
      case 'UND_ERR_SOCKET':
      case 'ECONNRESET':
      case 'EPIPE':
        return new UpstreamFailed(502, 'connection_closed');
      case 'ECONNREFUSED':
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new UpstreamFailed(502, 'connect_failed');
      case 'UND_ERR_INVALID_ARG':
      case 'UND_ERR_NOT_SUPPORTED':
        return new UpstreamFailed(400, 'request_not_forwardable');
      case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
        return new UpstreamFailed(400, 'request_body_length_mismatch');
    }
    if (error instanceof errors.HTTPParserError || error.name === 'HTTPParserError')
      return new UpstreamFailed(502, 'invalid_response');
    return new UpstreamFailed(502, 'upstream_error');
  }

  get error(): string {
    if (this.status === 504) return 'upstream_timeout';
    return this.status === 502 ? 'upstream_unavailable' : 'invalid_request';
  }
}

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

/** `DELETE /auth/sessions/:id` for no session of this user (404), or for this very session (400: that is logout). */
export class SessionNotFound extends Error {
  override readonly name = 'SessionNotFound';
  constructor(readonly current = false) {
    super(current ? 'this session is ended by logout' : 'no such session');
  }
}

/** A proxied path with dot segments or backslashes: an upstream that normalises paths could leave the route. 400. */
export class InvalidPath extends Error {
  override readonly name = 'InvalidPath';
  constructor() {
    super('invalid path');
  }
}

/** An upgrade request the gateway does not proxy (not a WebSocket handshake to a route). 400. */
export class UpgradeNotSupported extends Error {
  override readonly name = 'UpgradeNotSupported';
  constructor() {
    super('upgrade not supported');
  }
}

/** A route's Authorization line over GATEWAY_AUTHORIZATION_MAX_BYTES: it is not sent at all. 502. */
export class UpstreamTokenTooLarge extends Error {
  override readonly name = 'UpstreamTokenTooLarge';
  constructor(
    readonly route: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `route ${route}: not forwarded, its Authorization line would be ${bytes} bytes, over GATEWAY_AUTHORIZATION_MAX_BYTES (${maxBytes}); give the API's resource a tokenBudgetBytes`,
    );
  }
}
