import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { analyzeToken, heaviestClaims, summarizeClaims } from '@cloakroom/token-budget';
import type { ClaimWeight } from '@cloakroom/token-budget';
import type { AuthorizationServerMetrics } from '../ops/metrics.js';

type TokenType = 'access_token' | 'id_token';

/** Header and RS256 signature of a signed token, added to the payload's encoded size before signing. */
const SIGNATURE_OVERHEAD_BYTES = 400;

/**
 * Warns when a token leaves the server heavier than the configured budget, naming the claims that make it
 * heavy, so the operator learns it before a browser, proxy or load balancer refuses it. Names and sizes
 * only: never a claim's value.
 */
export class TokenSizeWatch {
  constructor(
    private readonly budgetBytes: number,
    private readonly logger: Logger,
    private readonly metrics: AuthorizationServerMetrics,
  ) {}

  /** A JWT access token's payload, just before it is signed. */
  checkPayload(type: TokenType, payload: Record<string, unknown>, clientId: string | undefined): void {
    const estimate =
      Math.ceil((Buffer.byteLength(JSON.stringify(payload)) * 4) / 3) + SIGNATURE_OVERHEAD_BYTES;
    if (estimate > this.budgetBytes) this.warn(type, estimate, heaviestClaims(payload, 3), clientId);
  }

  /** A signed token, as issued. */
  checkToken(type: TokenType, jwt: string, clientId: string | undefined): void {
    if (jwt.length <= this.budgetBytes) return;
    const analysis = analyzeToken(jwt);
    this.warn(type, analysis.totalBytes, analysis.claims.slice(0, 3), clientId);
  }

  /** Watches every id token the provider issues. */
  watchIdTokens(provider: Provider): void {
    const idToken = provider.IdToken.prototype as unknown as { issue(...args: unknown[]): Promise<string> };
    const issue = idToken.issue;
    const check = (jwt: string, clientId: string | undefined) => this.checkToken('id_token', jwt, clientId);
    idToken.issue = async function (this: { client?: { clientId?: string } }, ...args: unknown[]) {
      const jwt = await issue.apply(this, args);
      if (typeof jwt === 'string' && jwt.split('.').length === 3) check(jwt, this.client?.clientId);
      return jwt;
    };
  }

  private warn(type: TokenType, bytes: number, heaviest: ClaimWeight[], clientId: string | undefined): void {
    this.metrics.oversizedTokens.inc({ type });
    const names = summarizeClaims(heaviest);
    this.logger.warn(
      {
        type,
        clientId,
        bytes,
        budgetBytes: this.budgetBytes,
        heaviestClaims: heaviest.map((c) => ({ claim: c.name, bytes: c.encodedBytes })),
      },
      `issued ${type} of ${bytes} bytes exceeds the budget of ${this.budgetBytes}; heaviest claims: ${names}`,
    );
  }
}
