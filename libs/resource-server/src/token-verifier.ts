import { hash } from 'node:crypto';
import { createRemoteJWKSet, errors as jose, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { isJwtShaped } from '@cloakroom/token-budget';
import { DistributedClaims } from './distributed-claims.js';
import { DpopProofVerifier } from './dpop-proof.verifier.js';
import { IssuerAddress } from './issuer-address.js';
import { AuthorizationServerUnavailable, InvalidDpopProof, InvalidToken } from './resource-server.errors.js';
import { principalFrom } from './principal.js';
import type { Principal } from './principal.js';
import type { ResourceServerConfig } from './resource-server.config.js';
import { tracedCall } from './resource-server.tracing.js';
import type { ResourceServerTracing } from './resource-server.tracing.js';

interface IssuerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
}

/** A token as the request presented it: its scheme, and the DPoP proof that came with it. */
export interface PresentedToken {
  scheme: 'Bearer' | 'DPoP';
  token: string;
  proof?: string;
}

/** The request a token came with: method and path (as sent, without query) for DPoP's htm and htu. */
export interface PresentedRequest {
  method: string;
  path: string;
}

interface CacheEntry {
  principal: Principal | undefined;
  expiresAt: number;
}

export function dpopOptions(config: ResourceServerConfig) {
  return {
    algorithms: config.DPOP_ALGORITHMS.split(','),
    windowSeconds: config.DPOP_PROOF_WINDOW_SECONDS,
    maxEntries: config.DPOP_REPLAY_CACHE_MAX_ENTRIES,
  };
}

/**
 * Decides whether a bearer token is good for this API: JWTs against the issuer's JWKS with a fixed list of
 * algorithms, opaque tokens by introspection with a bounded cache keyed by the token's hash. Framework-free;
 * the Nest guards wrap it.
 */
export class TokenVerifier {
  private metadata?: Promise<IssuerMetadata>;
  private jwks?: JWTVerifyGetKey;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<Principal>>();
  private readonly algorithms: string[];
  private readonly address: IssuerAddress;
  /** Introspection calls made, for metrics and tests. */
  introspections = 0;
  cacheHits = 0;
  /** Claims the authorization server moved out of tokens (OpenID Connect distributed claims). */
  readonly distributed: DistributedClaims;

  constructor(
    private readonly config: ResourceServerConfig,
    private readonly now: () => number = Date.now,
    /** Shared by the verifiers of one API, so that a proof is used once whichever guard sees it. */
    readonly dpop: DpopProofVerifier = new DpopProofVerifier(dpopOptions(config), now),
    /** With it, introspection and distributed-claims calls are client spans carrying `traceparent`. */
    private readonly tracing?: ResourceServerTracing,
  ) {
    this.algorithms = config.JWT_ALGORITHMS.split(',');
    this.address = new IssuerAddress(config.ISSUER_URL, config.ISSUER_INTERNAL_URL);
    this.distributed = new DistributedClaims(config, () => this.keys(), now, this.address, tracing);
  }

  /**
   * A token as presented: `Bearer` only when the token is not bound to a key; `DPoP` only with a proof for
   * this request, signed by the key the token is bound to (RFC 9449 §7). The proof is checked before the
   * token (no introspection for a bad proof) and marked used only once everything holds.
   */
  async authenticate(presented: PresentedToken, request: PresentedRequest): Promise<Principal> {
    if (presented.scheme === 'Bearer') {
      const principal = await this.verify(presented.token);
      if (principal.jkt) {
        throw new InvalidToken('the token is bound to a DPoP key: present it as DPoP with a proof');
      }
      return principal;
    }
    if (!presented.proof) throw new InvalidDpopProof('the DPoP scheme needs a DPoP proof header');
    const base = this.config.RESOURCE_PUBLIC_URL;
    if (!base) throw new InvalidDpopProof('this API has no public URL configured to check proofs against');
    const proof = await this.dpop.check(presented.proof, {
      method: request.method,
      url: base.replace(/\/$/, '') + request.path,
      accessToken: presented.token,
    });
    const principal = await this.verify(presented.token);
    if (!principal.jkt) throw new InvalidToken('the token is not DPoP-bound: present it as Bearer');
    if (principal.jkt !== proof.jkt) {
      throw new InvalidDpopProof("the proof's key is not the one the token is bound to");
    }
    this.dpop.consume(proof);
    return principal;
  }

  async verify(token: string): Promise<Principal> {
    if (!token || token.length > 64 * 1024) throw new InvalidToken('the token is empty or too large');
    const mode = this.config.TOKEN_VALIDATION;
    // An attempt at a JWT (an unsigned `header.payload.`) takes the JWT path too, and is refused there with 401.
    if (mode === 'jwt' || (mode === 'auto' && isJwtShaped(token))) return this.verifyJwt(token);
    return this.introspect(token);
  }

  private async verifyJwt(token: string): Promise<Principal> {
    const keys = await this.keys();
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.config.ISSUER_URL,
        audience: this.config.RESOURCE_AUDIENCE,
        algorithms: this.algorithms,
        clockTolerance: this.config.JWT_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
        // RFC 9068 §4: only a token typed as an access token, so that an id token or a logout token signed by
        // the same keys is never taken for one.
        typ: 'at+jwt',
      });
      const claims = DistributedClaims.present(payload)
        ? await this.distributed.resolve(token, payload as Record<string, unknown>)
        : (payload as Record<string, unknown>);
      return principalFrom(claims, 'jwt', Buffer.byteLength(token));
    } catch (error) {
      if (error instanceof InvalidToken || error instanceof AuthorizationServerUnavailable) throw error;
      throw this.jwtFailure(error);
    }
  }

  private jwtFailure(error: unknown): Error {
    if (error instanceof jose.JWKSTimeout || error instanceof jose.JWKSInvalid) {
      return new AuthorizationServerUnavailable('the JWKS could not be fetched');
    }
    if (error instanceof jose.JWTExpired) return new InvalidToken('the token has expired');
    if (error instanceof jose.JWTClaimValidationFailed && error.claim === 'typ')
      return new InvalidToken('the token is not an access token (its typ must be at+jwt)');
    if (error instanceof jose.JWTClaimValidationFailed)
      return new InvalidToken(`the token's ${error.claim} claim is not acceptable`);
    if (error instanceof jose.JOSEAlgNotAllowed)
      return new InvalidToken('the token is signed with an algorithm this API does not accept');
    if (error instanceof jose.JWKSNoMatchingKey)
      return new InvalidToken('the token is signed with an unknown key');
    if (error instanceof jose.JOSEError) return new InvalidToken('the token does not verify');
    // Anything else came from fetching the JWKS (connection refused, reset).
    return new AuthorizationServerUnavailable('the JWKS could not be fetched');
  }

  private async introspect(token: string): Promise<Principal> {
    const key = hash('sha256', token, 'base64url');
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > this.now()) {
      this.cacheHits++;
      if (!cached.principal) throw new InvalidToken('the token is not active');
      return cached.principal;
    }
    if (cached) this.cache.delete(key);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.introspectOnce(token, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async introspectOnce(token: string, key: string): Promise<Principal> {
    const { introspection_endpoint: endpoint } = await this.issuerMetadata();
    if (!endpoint) throw new AuthorizationServerUnavailable('the issuer publishes no introspection endpoint');
    this.introspections++;
    const credentials = `${encodeURIComponent(this.config.INTROSPECTION_CLIENT_ID)}:${encodeURIComponent(this.config.INTROSPECTION_CLIENT_SECRET)}`;
    let answer: Record<string, unknown>;
    try {
      const target = this.address.reach(endpoint);
      const response = await tracedCall(this.tracing, 'introspection', target, (trace) =>
        fetch(target, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
            ...trace,
          },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
          signal: AbortSignal.timeout(this.config.AUTHORIZATION_SERVER_TIMEOUT_MS),
        }),
      );
      if (response.status === 400) {
        // The server refuses to look at this value at all (RFC 7662 §2.3): the token's fault, not ours.
        throw new InvalidToken('the authorization server refused this token');
      }
      if (!response.ok) throw new Error(`introspection answered ${response.status}`);
      answer = (await response.json()) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof InvalidToken) throw error;
      // Our own credentials refused, a 5xx, a timeout: none of it is the caller's fault.
      throw new AuthorizationServerUnavailable(`introspection failed: ${(error as Error).message}`);
    }
    const now = this.now();
    const principal = this.acceptable(answer, now)
      ? principalFrom(answer, 'introspection', Buffer.byteLength(token))
      : undefined;
    this.remember(key, principal, now);
    if (!principal) throw new InvalidToken('the token is not active');
    return principal;
  }

  /** Active, for this audience, not expired. */
  private acceptable(answer: Record<string, unknown>, now: number): boolean {
    if (answer.active !== true) return false;
    const audiences = ([] as unknown[]).concat(answer.aud ?? []);
    if (!audiences.includes(this.config.RESOURCE_AUDIENCE)) return false;
    if (
      typeof answer.exp === 'number' &&
      answer.exp * 1000 + this.config.JWT_CLOCK_TOLERANCE_SECONDS * 1000 < now
    )
      return false;
    return true;
  }

  private remember(key: string, principal: Principal | undefined, now: number): void {
    const max = this.config.INTROSPECTION_CACHE_MAX_ENTRIES;
    const ttlMs = principal
      ? Math.min(
          this.config.INTROSPECTION_CACHE_MAX_SECONDS * 1000,
          principal.exp ? principal.exp * 1000 - now : Infinity,
        )
      : this.config.INTROSPECTION_NEGATIVE_CACHE_SECONDS * 1000;
    if (max === 0 || ttlMs <= 0) return;
    while (this.cache.size >= max) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { principal, expiresAt: now + ttlMs });
  }

  private async keys(): Promise<JWTVerifyGetKey> {
    if (this.jwks) return this.jwks;
    const { jwks_uri: uri } = await this.issuerMetadata();
    if (!uri) throw new AuthorizationServerUnavailable('the issuer publishes no JWKS');
    this.jwks = createRemoteJWKSet(this.address.reach(uri), {
      cooldownDuration: this.config.JWKS_MIN_REFETCH_SECONDS * 1000,
      cacheMaxAge: 10 * 60 * 1000,
      timeoutDuration: this.config.AUTHORIZATION_SERVER_TIMEOUT_MS,
    });
    return this.jwks;
  }

  /** The issuer's discovery document, fetched once; a failure is not cached, the next request retries. */
  private issuerMetadata(): Promise<IssuerMetadata> {
    this.metadata ??= this.fetchMetadata().catch((error: unknown) => {
      this.metadata = undefined;
      throw error;
    });
    return this.metadata;
  }

  private async fetchMetadata(): Promise<IssuerMetadata> {
    const url = this.address.discovery;
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(this.config.AUTHORIZATION_SERVER_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const metadata = (await response.json()) as IssuerMetadata;
      if (metadata.issuer !== this.config.ISSUER_URL) throw new Error(`it names issuer ${metadata.issuer}`);
      return metadata;
    } catch (error) {
      throw new AuthorizationServerUnavailable(`discovery at ${url} failed: ${(error as Error).message}`);
    }
  }
}
