/** The upstream could not be reached: refused, unresolvable, or no connection within the connect timeout. */
export class UpstreamUnreachable extends Error {
  override readonly name = 'UpstreamUnreachable';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`upstream unreachable: ${reason}`, options);
  }
}

/** The upstream took longer than allowed to answer or to send the next part of its body. */
export class UpstreamTimeout extends Error {
  override readonly name = 'UpstreamTimeout';
  constructor(phase: 'headers' | 'body') {
    super(`upstream timed out waiting for the ${phase}`);
  }
}

/** The upstream's answer is not a well-formed HTTP/1.1 response, or the connection ended in the middle of it. */
export class UpstreamProtocolError extends Error {
  override readonly name = 'UpstreamProtocolError';
  constructor(reason: string) {
    super(`upstream protocol error: ${reason}`);
  }
}
