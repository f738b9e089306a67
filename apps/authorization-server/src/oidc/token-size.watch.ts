import type { Logger } from 'pino';
import type { AuthorizationServerMetrics } from '../ops/metrics.js';

/** Encoded size of a JSON value inside a JWT segment (base64url: 4 characters per 3 bytes). */
function encodedBytes(json: string): number {
  return Math.ceil((Buffer.byteLength(json) * 4) / 3);
}

/**
 * Warns when a token leaves the server heavier than the configured budget, naming the claims that make
 * it heavy, so the operator learns it before a browser, proxy or load balancer refuses it.
 */
export class TokenSizeWatch {
  constructor(
    private readonly budgetBytes: number,
    private readonly logger: Logger,
    private readonly metrics: AuthorizationServerMetrics,
  ) {}

  /** Estimates the signed size from the payload (header and RS256 signature add about 400 bytes). */
  check(
    type: 'access_token' | 'id_token',
    payload: Record<string, unknown>,
    clientId: string | undefined,
  ): void {
    const estimate = encodedBytes(JSON.stringify(payload)) + 400;
    if (estimate <= this.budgetBytes) return;
    const heaviest = Object.entries(payload)
      .map(([claim, value]) => ({ claim, bytes: encodedBytes(`"${claim}":${JSON.stringify(value)},`) }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 3);
    this.metrics.oversizedTokens.inc({ type });
    this.logger.warn(
      { type, clientId, estimatedBytes: estimate, budgetBytes: this.budgetBytes, heaviestClaims: heaviest },
      `issued ${type} of about ${estimate} bytes exceeds the budget of ${this.budgetBytes}; heaviest claims: ${heaviest
        .map((h) => `${h.claim} ${h.bytes} B`)
        .join(', ')}`,
    );
  }
}
