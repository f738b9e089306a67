import { hash } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { IssuerAddress } from './issuer-address.js';
import { AuthorizationServerUnavailable, InvalidToken } from './resource-server.errors.js';
import type { ResourceServerConfig } from './resource-server.config.js';
import { tracedCall } from './resource-server.tracing.js';
import type { ResourceServerTracing } from './resource-server.tracing.js';

interface Entry {
  claims: Record<string, unknown>;
  expiresAt: number;
}

/** Bytes of a claims answer read at most: a JWT of groups, not a download. */
const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

/**
 * Resolves OpenID Connect distributed claims (Core §5.6.2): claims the authorization server moved out of an
 * access token to keep it small are fetched from the source it names, presenting that token, and verified as
 * a JWT of the same issuer for this audience and subject. Answers are cached by the token's hash (never the
 * token) for no longer than the introspection cache would keep an answer, so a change of groups or a
 * revocation reaches the API as fast either way; concurrent requests with one token share one fetch.
 */
export class DistributedClaims {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Record<string, unknown>>>();
  /** Claims fetched from a source, for metrics and tests. */
  fetches = 0;

  constructor(
    private readonly config: ResourceServerConfig,
    private readonly keys: () => Promise<JWTVerifyGetKey>,
    private readonly now: () => number = Date.now,
    private readonly address = new IssuerAddress(config.ISSUER_URL, config.ISSUER_INTERNAL_URL),
    /** With it, each fetch from a claims source is a client span carrying `traceparent`. */
    private readonly tracing?: ResourceServerTracing,
  ) {}

  /** True when the verified payload names claims held elsewhere. */
  static present(payload: Record<string, unknown>): boolean {
    return typeof payload._claim_names === 'object' && payload._claim_names !== null;
  }

  /** The payload with its distributed claims in place, and the references to them gone. */
  async resolve(token: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const key = hash('sha256', token, 'base64url');
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > this.now()) return merge(payload, cached.claims);
    if (cached) this.cache.delete(key);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchAll(token, payload, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return merge(payload, await pending);
  }

  private async fetchAll(
    token: string,
    payload: Record<string, unknown>,
    key: string,
  ): Promise<Record<string, unknown>> {
    const names = payload._claim_names as Record<string, unknown>;
    const sources = (payload._claim_sources ?? {}) as Record<
      string,
      { endpoint?: unknown; access_token?: unknown }
    >;
    const bySource = new Map<string, string[]>();
    for (const [name, source] of Object.entries(names)) {
      if (typeof source !== 'string')
        throw new InvalidToken('the token names a claim source that is not a string');
      bySource.set(source, [...(bySource.get(source) ?? []), name]);
    }
    const claims: Record<string, unknown> = {};
    for (const [source, wanted] of bySource) {
      const answer = await this.fetchSource(token, payload, sources[source]);
      for (const name of wanted) if (name in answer) claims[name] = answer[name];
    }
    this.remember(key, claims, payload);
    return claims;
  }

  private async fetchSource(
    token: string,
    payload: Record<string, unknown>,
    source: { endpoint?: unknown; access_token?: unknown } | undefined,
  ): Promise<Record<string, unknown>> {
    const endpoint = this.trustedEndpoint(source?.endpoint);
    const bearer = typeof source?.access_token === 'string' ? source.access_token : token;
    this.fetches++;
    let jwt: string;
    try {
      const target = this.address.reach(endpoint);
      const response = await tracedCall(this.tracing, 'distributed claims', target, (trace) =>
        fetch(target, {
          headers: { authorization: `Bearer ${bearer}`, accept: 'application/jwt', ...trace },
          redirect: 'error',
          signal: AbortSignal.timeout(this.config.AUTHORIZATION_SERVER_TIMEOUT_MS),
        }),
      );
      if (response.status === 401) throw new InvalidToken('the claims source refused this token');
      if (!response.ok) throw new Error(`the claims source answered ${response.status}`);
      const length = Number(response.headers.get('content-length') ?? 0);
      if (length > MAX_ANSWER_BYTES) throw new Error('the claims answer is too large');
      jwt = (await response.text()).trim();
    } catch (error) {
      if (error instanceof InvalidToken) throw error;
      throw new AuthorizationServerUnavailable(
        `distributed claims could not be fetched: ${(error as Error).message}`,
      );
    }
    try {
      const { payload: answer } = await jwtVerify(jwt, await this.keys(), {
        issuer: this.config.ISSUER_URL,
        audience: this.config.RESOURCE_AUDIENCE,
        subject: typeof payload.sub === 'string' ? payload.sub : undefined,
        algorithms: this.config.JWT_ALGORITHMS.split(','),
        clockTolerance: this.config.JWT_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub'],
      });
      return answer as Record<string, unknown>;
    } catch {
      throw new AuthorizationServerUnavailable('the distributed claims answer does not verify');
    }
  }

  /**
   * Only the issuer's own origin is asked: a claims source elsewhere would be a request forged by the token.
   * The public origin, even behind ISSUER_INTERNAL_URL: the token names the issuer as the world knows it.
   */
  private trustedEndpoint(endpoint: unknown): URL {
    let url: URL;
    try {
      url = new URL(String(endpoint));
    } catch {
      throw new InvalidToken('the token names a claim source without a valid endpoint');
    }
    if (!this.address.isIssuerOrigin(url))
      throw new InvalidToken('the token names a claim source outside its issuer');
    return url;
  }

  private remember(key: string, claims: Record<string, unknown>, payload: Record<string, unknown>): void {
    const max = this.config.INTROSPECTION_CACHE_MAX_ENTRIES;
    const now = this.now();
    const exp = typeof payload.exp === 'number' ? payload.exp * 1000 - now : Infinity;
    const ttlMs = Math.min(this.config.INTROSPECTION_CACHE_MAX_SECONDS * 1000, exp);
    if (max === 0 || ttlMs <= 0) return;
    while (this.cache.size >= max) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { claims, expiresAt: now + ttlMs });
  }
}

function merge(payload: Record<string, unknown>, claims: Record<string, unknown>): Record<string, unknown> {
  const { _claim_names: _names, _claim_sources: _sources, ...rest } = payload;
  return { ...rest, ...claims };
}
