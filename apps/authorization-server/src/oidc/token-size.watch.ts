import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { analyzeToken, isJwtShaped, summarizeClaims } from '@cloakroom/token-budget';
import type { ClaimWeight, ShapedToken } from '@cloakroom/token-budget';
import type { AuthorizationServerMetrics } from '../authorization-server.metrics.js';

type TokenType = 'access_token' | 'id_token';

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

  /**
   * A JWT access token as shaped for its resource: an overage event when claims had to leave it to stay under the
   * resource's budget, and a warning when even then it does not fit.
   */
  checkShaped(shaped: ShapedToken, resource: string, clientId: string | undefined): void {
    if (shaped.moved.length === 0) {
      // Within its resource's budget, but a resource may allow more than the proxies on the way do.
      if (shaped.bytes > this.budgetBytes) {
        this.metrics.oversizedTokens.inc({ type: 'access_token', resource });
        this.logger.warn(
          { type: 'access_token', clientId, resource, bytes: shaped.bytes, budgetBytes: this.budgetBytes },
          `access token for ${resource} is ${shaped.bytes} bytes on the wire, over TOKEN_SIZE_BUDGET_BYTES (${this.budgetBytes}); lower the resource's tokenBudgetBytes`,
        );
      }
      return;
    }
    this.metrics.oversizedTokens.inc({ type: 'access_token', resource });
    const fields = {
      type: 'access_token',
      clientId,
      resource,
      bytes: shaped.bytes,
      bytesBefore: shaped.bytesBefore,
    };
    if (shaped.fits) {
      this.logger.info(
        { ...fields, distributedClaims: shaped.moved },
        `access token for ${resource} would be ${shaped.bytesBefore} bytes: ${shaped.moved.join(', ')} moved to distributed claims (${shaped.bytes} bytes)`,
      );
    } else {
      this.logger.warn(
        { ...fields, distributedClaims: shaped.moved },
        `access token for ${resource} is ${shaped.bytes} bytes even without ${shaped.moved.join(', ')}: over its budget`,
      );
    }
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
      // An encrypted id token (JWE) cannot be weighed claim by claim.
      if (typeof jwt === 'string' && isJwtShaped(jwt)) check(jwt, this.client?.clientId);
      return jwt;
    };
  }

  private warn(type: TokenType, bytes: number, heaviest: ClaimWeight[], clientId: string | undefined): void {
    this.metrics.oversizedTokens.inc({ type, resource: '' });
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
