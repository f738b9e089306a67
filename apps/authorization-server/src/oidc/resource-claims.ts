import { createLocalJWKSet, errors as jose, importJWK, jwtVerify, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTVerifyGetKey, KeyObject } from 'jose';
import {
  DEFAULT_TOKEN_BUDGET_BYTES,
  DISTRIBUTED_SOURCE,
  groupMatcher,
  shapeAccessToken,
  signatureLength,
} from '@cloakroom/token-budget';
import type { ShapedToken, TokenEnvelope } from '@cloakroom/token-budget';
import type { AccountDirectory } from './provider.factory.js';
import type { ResourceServerDefinition } from './resources.js';

/** Where APIs fetch the claims that left an access token, relative to the issuer. */
export const CLAIMS_PATH = '/claims';

/** The bearer token presented at the claims endpoint is not an access token of this server. */
export class ClaimsTokenInvalid extends Error {
  override readonly name = 'ClaimsTokenInvalid';
}

interface Resource {
  definition: ResourceServerDefinition;
  admits: (group: string) => boolean;
}

/**
 * What each API sees of a user: only the groups its patterns admit, in an access token that stays under its byte
 * budget. Claims that would push the token over are moved to OpenID Connect distributed claims, answered by
 * {@link CLAIMS_PATH} to whoever presents that very token. The moved claims are recomputed from the directory
 * when asked for, not stored: nothing grows in the store with the number of tokens issued.
 */
export class ResourceClaims {
  private readonly byAudience: Map<string, Resource>;
  private readonly envelope: TokenEnvelope;
  private readonly verifyKeys: JWTVerifyGetKey;
  private signingKey?: Promise<CryptoKey | KeyObject | Uint8Array>;

  constructor(
    resources: Map<string, ResourceServerDefinition>,
    private readonly accounts: AccountDirectory,
    private readonly issuer: () => string,
    private readonly signing: JWK,
  ) {
    this.byAudience = new Map(
      [...resources.values()].map((definition) => [
        definition.audience ?? definition.indicator,
        { definition, admits: groupMatcher(definition.groups) },
      ]),
    );
    const alg = signing.alg ?? 'RS256';
    const modulusBytes = signing.n ? Buffer.from(signing.n, 'base64url').length : undefined;
    this.envelope = {
      header: { alg, typ: 'at+jwt', ...(signing.kid ? { kid: signing.kid } : {}) },
      signatureBytes: signatureLength(alg, modulusBytes),
    };
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicKey } = signing;
    this.verifyKeys = createLocalJWKSet({ keys: [publicKey] });
  }

  get claimsEndpoint(): string {
    return `${this.issuer().replace(/\/$/, '')}${CLAIMS_PATH}`;
  }

  /** The claims an access token for `audience` carries for this user beyond oidc-provider's own. */
  async extraClaims(accountId: string, audience: unknown): Promise<Record<string, unknown> | undefined> {
    const resource = typeof audience === 'string' ? this.byAudience.get(audience) : undefined;
    if (!resource?.definition.groupsClaim) return undefined;
    const account = await this.accounts.findAccount(accountId);
    const claims = account ? await account.claims(['groups']) : {};
    if (!Array.isArray(claims.groups)) return undefined;
    return {
      groups: (claims.groups as unknown[]).filter(
        (g): g is string => typeof g === 'string' && resource.admits(g),
      ),
    };
  }

  /** The payload of a JWT access token as it should be signed: under its resource's budget. */
  shape(payload: Record<string, unknown>): ShapedToken {
    const audience = typeof payload.aud === 'string' ? payload.aud : undefined;
    const budgetBytes =
      (audience && this.byAudience.get(audience)?.definition.tokenBudgetBytes) || DEFAULT_TOKEN_BUDGET_BYTES;
    return shapeAccessToken(payload, this.envelope, { budgetBytes, claimsEndpoint: this.claimsEndpoint });
  }

  /**
   * The claims endpoint's answer for a presented access token: a JWT signed like the access tokens, for the same
   * subject and audience, expiring with the token, carrying the claims the token names as distributed.
   */
  async answer(accessToken: string): Promise<string> {
    const payload = await this.verify(accessToken);
    const names = Object.entries((payload._claim_names ?? {}) as Record<string, unknown>)
      .filter(([, source]) => source === DISTRIBUTED_SOURCE)
      .map(([name]) => name);
    const extra = (await this.extraClaims(String(payload.sub), payload.aud)) ?? {};
    const claims = Object.fromEntries(names.filter((n) => n in extra).map((n) => [n, extra[n]]));
    if (names.includes('groups')) claims.groups ??= [];
    this.signingKey ??= importJWK(this.signing, this.envelope.header.alg as string);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.envelope.header.alg as string, typ: 'JWT', kid: this.signing.kid })
      .setIssuer(this.issuer())
      .setSubject(String(payload.sub))
      .setAudience(payload.aud as string)
      .setIssuedAt()
      .setExpirationTime(payload.exp as number)
      .sign(await this.signingKey);
  }

  private async verify(accessToken: string): Promise<Record<string, unknown>> {
    try {
      const { payload } = await jwtVerify(accessToken, this.verifyKeys, {
        issuer: this.issuer(),
        typ: 'at+jwt',
        algorithms: [this.envelope.header.alg as string],
        requiredClaims: ['sub', 'exp', 'aud'],
      });
      if (typeof payload.aud !== 'string' || !this.byAudience.has(payload.aud)) {
        throw new ClaimsTokenInvalid('the token is not for a resource of this server');
      }
      return payload as Record<string, unknown>;
    } catch (error) {
      if (error instanceof ClaimsTokenInvalid) throw error;
      if (error instanceof jose.JWTExpired) throw new ClaimsTokenInvalid('the token has expired');
      throw new ClaimsTokenInvalid('the token is not an access token of this server');
    }
  }
}
