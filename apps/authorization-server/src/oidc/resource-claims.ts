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
import type { KeysInService } from '../keys/signing-key.ring.js';
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

/** What signing and verifying need of one set of keys in service, made once per set. */
interface KeyUse {
  envelope: TokenEnvelope;
  signing: JWK;
  /** Imported when first needed. */
  signingKey?: Promise<CryptoKey | KeyObject | Uint8Array>;
  verifyKeys: JWTVerifyGetKey;
  algorithms: string[];
}

/**
 * What each API sees of a user: only the groups its patterns admit, in an access token that stays under its byte
 * budget. Claims that would push the token over are moved to OpenID Connect distributed claims, answered by
 * {@link CLAIMS_PATH} to whoever presents that very token. The moved claims are recomputed from the directory
 * when asked for, not stored: nothing grows in the store with the number of tokens issued.
 */
export class ResourceClaims {
  private readonly byAudience: Map<string, Resource>;
  private readonly keyUses = new WeakMap<KeysInService, KeyUse>();

  constructor(
    resources: Map<string, ResourceServerDefinition>,
    private readonly accounts: AccountDirectory,
    private readonly issuer: () => string,
    /** The keys in service now: answers are signed with its signing key, tokens checked against all it publishes. */
    private readonly keys: () => KeysInService,
  ) {
    this.byAudience = new Map(
      [...resources.values()].map((definition) => [
        definition.audience ?? definition.indicator,
        { definition, admits: groupMatcher(definition.groups) },
      ]),
    );
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

  /**
   * The payload of a JWT access token as it should be signed: under its resource's budget, measured with the
   * header and signature of the keys that sign it (those of the provider instance issuing it).
   */
  shape(payload: Record<string, unknown>, keys: KeysInService = this.keys()): ShapedToken {
    const audience = typeof payload.aud === 'string' ? payload.aud : undefined;
    const budgetBytes =
      (audience && this.byAudience.get(audience)?.definition.tokenBudgetBytes) || DEFAULT_TOKEN_BUDGET_BYTES;
    return shapeAccessToken(payload, this.use(keys).envelope, {
      budgetBytes,
      claimsEndpoint: this.claimsEndpoint,
    });
  }

  /**
   * The claims endpoint's answer for a presented access token: a JWT signed like the access tokens, for the same
   * subject and audience, expiring with the token, carrying the claims the token names as distributed.
   */
  async answer(accessToken: string): Promise<string> {
    const keys = this.use(this.keys());
    const payload = await this.verify(accessToken, keys);
    const names = Object.entries((payload._claim_names ?? {}) as Record<string, unknown>)
      .filter(([, source]) => source === DISTRIBUTED_SOURCE)
      .map(([name]) => name);
    const extra = (await this.extraClaims(String(payload.sub), payload.aud)) ?? {};
    const claims = Object.fromEntries(names.filter((n) => n in extra).map((n) => [n, extra[n]]));
    if (names.includes('groups')) claims.groups ??= [];
    const alg = keys.envelope.header.alg as string;
    return new SignJWT(claims)
      .setProtectedHeader({ alg, typ: 'JWT', kid: keys.signing.kid })
      .setIssuer(this.issuer())
      .setSubject(String(payload.sub))
      .setAudience(payload.aud as string)
      .setIssuedAt()
      .setExpirationTime(payload.exp as number)
      .sign(await (keys.signingKey ??= importJWK(keys.signing, alg)));
  }

  private use(keys: KeysInService): KeyUse {
    let use = this.keyUses.get(keys);
    if (!use) {
      const signing = keys.signing as JWK;
      const alg = signing.alg ?? 'RS256';
      const modulusBytes = signing.n ? Buffer.from(signing.n, 'base64url').length : undefined;
      use = {
        envelope: {
          header: { alg, typ: 'at+jwt', ...(signing.kid ? { kid: signing.kid } : {}) },
          signatureBytes: signatureLength(alg, modulusBytes),
        },
        signing,
        // A token signed before the last change of keys still verifies while its key is published.
        verifyKeys: createLocalJWKSet({ keys: keys.published as JWK[] }),
        algorithms: [...new Set(keys.published.map((key) => String(key.alg)))],
      };
      this.keyUses.set(keys, use);
    }
    return use;
  }

  private async verify(accessToken: string, keys: KeyUse): Promise<Record<string, unknown>> {
    try {
      const { payload } = await jwtVerify(accessToken, keys.verifyKeys, {
        issuer: this.issuer(),
        typ: 'at+jwt',
        algorithms: keys.algorithms,
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
