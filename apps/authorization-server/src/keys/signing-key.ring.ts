import type { JWK } from 'oidc-provider';
import { publicJwks } from './jwks.js';
import type { PrivateJwk, PrivateJwks } from './jwks.js';
import { keySchedule, signingKeyProblem } from './key-schedule.js';

/** The keys in service between two changes: a new JWKS file, or an activation time reached. */
export interface KeysInService {
  /** Signs access tokens and distributed claims, and the id tokens of clients that use its algorithm. */
  signing: PrivateJwk;
  /**
   * oidc-provider's `jwks`: the active keys newest first (it signs with the first key of the algorithm it needs),
   * then the keys not active yet, marked `key_ops: ["verify"]` so that it publishes them but never picks them to
   * sign. Without `activatesAt`: that member belongs to the private file only.
   */
  provider: { keys: JWK[] };
  /** The public half of every published key: what a token of this server may be signed with. */
  published: JWK[];
  /** When this set changes by itself (the next activation), in milliseconds since the epoch. */
  until?: number;
}

/**
 * The signing keys of the running server. The set in service is recomputed when the file is replaced and when the
 * next activation time has passed, at the first look after it: a request that arrives after a key's activation
 * time is signed by that key, whether or not a timer has fired yet.
 */
export class SigningKeyRing {
  private inService: KeysInService;

  constructor(
    private jwksInService: PrivateJwks,
    private readonly now: () => number = Date.now,
  ) {
    const keys = keysInService(jwksInService, now());
    if (!keys) throw new TypeError(signingKeyProblem(jwksInService, now()));
    this.inService = keys;
  }

  /** The JWKS the keys in service come from. */
  get jwks(): PrivateJwks {
    return this.jwksInService;
  }

  /** The keys in service now: the same object until they change. */
  get current(): KeysInService {
    const { until } = this.inService;
    // Without a key active now (the clock set back), the keys stay as they were: something must sign.
    if (until !== undefined && this.now() >= until) {
      this.inService = keysInService(this.jwksInService, this.now()) ?? this.inService;
    }
    return this.inService;
  }

  /** Puts the keys of a new JWKS in service; when none of them is active now, says why and changes nothing. */
  replace(jwks: PrivateJwks): string | undefined {
    const keys = keysInService(jwks, this.now());
    if (!keys) return signingKeyProblem(jwks, this.now());
    this.jwksInService = jwks;
    this.inService = keys;
    return undefined;
  }
}

function keysInService(jwks: PrivateJwks, nowMs: number): KeysInService | undefined {
  const schedule = keySchedule(jwks, nowMs);
  if (!schedule.signing) return undefined;
  const withoutActivation = ({ activatesAt: _activatesAt, ...jwk }: PrivateJwk) => jwk as JWK;
  return {
    signing: withoutActivation(schedule.signing) as PrivateJwk,
    provider: {
      keys: [
        ...schedule.active.map(withoutActivation),
        ...schedule.pending.map((key) => ({ ...withoutActivation(key), key_ops: ['verify'] })),
      ],
    },
    published: publicJwks(jwks).keys as JWK[],
    until: schedule.nextActivationMs,
  };
}
