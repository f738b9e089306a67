import { hash } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, errors as jose, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { DpopReplayCacheFull, InvalidDpopProof } from './resource-server.errors.js';

export interface DpopProofOptions {
  /** Signature algorithms a proof may use (asymmetric only). */
  algorithms: string[];
  /** How far a proof's `iat` may be from our clock, either way, in seconds. */
  windowSeconds: number;
  /** Used proofs remembered at most. */
  maxEntries: number;
}

/** What a proof is checked against: this request, and the token it comes with. */
export interface DpopRequest {
  method: string;
  /** The request's URL as the client addressed it, without query or fragment. */
  url: string;
  accessToken: string;
}

/** A proof that verified, not yet marked as used. */
export interface CheckedProof {
  /** SHA-256 thumbprint of the proof's key (RFC 7638), to compare with the token's `cnf.jkt`. */
  jkt: string;
  /** Replay cache key: the proof's key and jti, hashed (bounded size whatever the jti). */
  slot: string;
  /** When the proof leaves the window (ms since the epoch): it is remembered until then. */
  until: number;
}

/** A compact JWS: three base64url segments. Two DPoP headers joined by a comma fail here. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_PROOF_BYTES = 8 * 1024;

/** The URL as compared (RFC 9449 §4.3): parsed and normalised, without query or fragment. */
export function normalisedHtu(value: string): string | undefined {
  try {
    const url = new URL(value);
    url.search = '';
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}

/**
 * Checks DPoP proofs (RFC 9449 §4.3) and remembers the used ones, so each is accepted once. The replay
 * cache is in this process's memory: behind several instances, a proof could be replayed once per other
 * instance within the window (the token stays bound to the key either way). No server nonces.
 */
export class DpopProofVerifier {
  /** Replay slot → when it may be forgotten (ms); insertion order is roughly expiry order. */
  private readonly used = new Map<string, number>();

  constructor(
    private readonly options: DpopProofOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Verifies the proof for this request and token; does not mark it used (see {@link consume}). */
  async check(proof: string, request: DpopRequest): Promise<CheckedProof> {
    if (proof.length > MAX_PROOF_BYTES || !COMPACT_JWS.test(proof)) {
      throw new InvalidDpopProof('send exactly one DPoP header holding one compact JWS');
    }
    const now = this.now();
    let payload: Record<string, unknown>;
    let jwk: JWK;
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: this.options.algorithms,
        requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
        currentDate: new Date(now),
      });
      payload = verified.payload as Record<string, unknown>;
      jwk = verified.protectedHeader.jwk!;
    } catch (error) {
      throw new InvalidDpopProof(proofFailure(error));
    }
    const { jti, htm, htu, iat, ath } = payload;
    if (typeof jti !== 'string' || jti.length < 1 || jti.length > 256) {
      throw new InvalidDpopProof('the proof needs a jti of 1 to 256 characters');
    }
    if (htm !== request.method) throw new InvalidDpopProof(`the proof's htm is not ${request.method}`);
    if (typeof htu !== 'string' || normalisedHtu(htu) !== normalisedHtu(request.url)) {
      throw new InvalidDpopProof(`the proof's htu is not ${request.url}`);
    }
    const windowMs = this.options.windowSeconds * 1000;
    if (typeof iat !== 'number' || Math.abs(now - iat * 1000) > windowMs) {
      throw new InvalidDpopProof(`the proof's iat is more than ${this.options.windowSeconds} s off`);
    }
    if (ath !== hash('sha256', request.accessToken, 'base64url')) {
      throw new InvalidDpopProof("the proof's ath is not the hash of this access token");
    }
    const jkt = await calculateJwkThumbprint(jwk, 'sha256');
    return { jkt, slot: hash('sha256', `${jkt}\0${jti}`, 'base64url'), until: iat * 1000 + windowMs };
  }

  /**
   * Marks a checked proof used; a second use within its window is a replay. Synchronous, so of two
   * concurrent requests with one proof exactly one gets here first.
   */
  consume(proof: CheckedProof): void {
    const now = this.now();
    const seen = this.used.get(proof.slot);
    if (seen !== undefined && seen > now) throw new InvalidDpopProof('the proof has already been used');
    this.forgetExpired(now);
    if (this.used.size >= this.options.maxEntries) {
      throw new DpopReplayCacheFull('too many DPoP proofs within the window to remember another');
    }
    this.used.set(proof.slot, proof.until);
  }

  /** Used proofs remembered now, for metrics and tests. */
  get remembered(): number {
    return this.used.size;
  }

  private forgetExpired(now: number): void {
    for (const [slot, until] of this.used) {
      if (until > now) {
        // Near the head only: a full scan is reserved for a full cache.
        if (this.used.size < this.options.maxEntries) return;
        continue;
      }
      this.used.delete(slot);
    }
  }
}

function proofFailure(error: unknown): string {
  if (error instanceof jose.JOSEAlgNotAllowed)
    return 'the proof is signed with an algorithm this API does not accept';
  if (error instanceof jose.JWTClaimValidationFailed) {
    return error.claim === 'typ'
      ? "the proof's typ must be dpop+jwt"
      : `the proof's ${error.claim} claim is missing or invalid`;
  }
  if (error instanceof jose.JWTExpired) return 'the proof has expired';
  if (error instanceof jose.JWSSignatureVerificationFailed) return "the proof's signature does not verify";
  if (error instanceof jose.JWSInvalid)
    return "the proof's header must carry the public key (jwk) it is signed with";
  return 'the proof is not a valid signed JWT';
}
