/** Why a session ended. */
export type SessionEndReason = 'logout' | 'backchannel' | 'refresh_failed' | 'replaced' | 'ended_elsewhere';

/**
 * What the BFF reports as it works, for metrics. The port is the injection token: an app subclasses it (the gateway
 * counts in Prometheus); every method does nothing by default. Only fixed words and numbers are passed, never a
 * secret, a path or a user.
 */
export class BffObserver {
  sessionCreated(): void {}
  sessionsDestroyed(_reason: SessionEndReason, _count: number): void {}
  /** joined: a request that waited for a refresh another request or instance was making. */
  refresh(_outcome: 'success' | 'rejected' | 'unavailable' | 'joined'): void {}
  lockWait(_seconds: number): void {}
  /** An upstream exchange, by route prefix: its status class (`2xx` …, `1xx` for a WebSocket), `timeout` or `unreachable`. */
  upstreamAnswered(_route: string, _outcome: string, _seconds: number): void {}
  /** A request not delivered because of its headers: not sent (token_too_large) or refused with 431 (headers_refused). */
  upstreamRefused(_route: string, _reason: 'token_too_large' | 'headers_refused'): void {}
  /** Bytes of the Authorization line forwarded upstream. */
  authorizationForwarded(_bytes: number): void {}
  /** Called once, with a way to read how many opened sessions this process holds. */
  watchSessionCache(_size: () => number): void {}
}
