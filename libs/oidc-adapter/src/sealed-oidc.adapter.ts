import { errors } from 'oidc-provider';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import { MAX_TTL_SECONDS, StoreUnavailable } from '@cloakroom/sealed-store';
import type { SealedStore } from '@cloakroom/sealed-store';

export interface SealedOidcAdapterOptions {
  /**
   * TTL in seconds for artefacts oidc-provider stores without an expiry (e.g. dynamically registered
   * clients): nothing is ever stored without one.
   */
  defaultTtlSeconds: number;
}

/**
 * The store did not answer: oidc-provider answers 503 `temporarily_unavailable` (RFC 6749 §4.1.2.1)
 * instead of a 500, and the client may retry.
 */
export class TemporarilyUnavailable extends errors.OIDCProviderError {
  constructor(cause: unknown) {
    super(503, 'temporarily_unavailable', { cause: cause as Error });
    Object.assign(this, {
      expose: true,
      error_description: 'the authorization store is unavailable, retry later',
    });
  }
}

/** Namespaces of the entries that are not models themselves. */
const GRANT_INDEX = 'oidc.grant';
const DESTROYED_GRANT = 'oidc.grant-destroyed';
const GRANT = 'oidc.Grant';
const BY_UID = 'oidc.Session.uid';
const BY_USER_CODE = 'oidc.DeviceCode.userCode';

/**
 * Longest id the store accepts. oidc-provider's own ids are far shorter; a longer one comes from a request
 * (a forged token, code or client id) and cannot name anything stored.
 */
const MAX_ID_LENGTH = 4096;
const storable = (id: unknown): id is string =>
  typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH;

/**
 * The models oidc-provider issues from a grant and revokes with it. An Interaction or a Session may name a
 * grant too, but a revocation must not end a login in flight or a browser session.
 */
const ISSUED_FROM_GRANT = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/**
 * How long the mark of a destroyed Grant lasts: longer than any request that read the Grant before it went
 * can take to save what it issued. Past it, such a token would be inert anyway (oidc-provider finds no Grant).
 */
const DESTROYED_GRANT_MARK_SECONDS = 600;

/** Models whose consume() redeems a one-time credential. */
const LABELS: Record<string, string> = {
  AuthorizationCode: 'authorization code',
  RefreshToken: 'refresh token',
  DeviceCode: 'device code',
  BackchannelAuthenticationRequest: 'backchannel authentication request',
};

/**
 * Builds oidc-provider's adapter factory over a sealed store: every model's payload is sealed with a key
 * derived from its own id and stored under the id's slot, so the ids (token values, session and grant ids)
 * exist nowhere in the store.
 */
export function sealedOidcAdapter(store: SealedStore, options: SealedOidcAdapterOptions): AdapterFactory {
  return (name: string) => withOutageMapping(new SealedOidcAdapter(store, name, options));
}

const METHODS = [
  'upsert',
  'find',
  'findByUid',
  'findByUserCode',
  'consume',
  'destroy',
  'revokeByGrantId',
] as const;

/** Turns a store outage into an error oidc-provider renders as 503, whichever adapter method met it. */
export function withOutageMapping(adapter: Adapter): Adapter {
  const mapped = {} as Record<(typeof METHODS)[number], unknown>;
  for (const method of METHODS) {
    const original = (adapter[method] as (...args: unknown[]) => Promise<unknown>).bind(adapter);
    mapped[method] = async (...args: unknown[]) => {
      try {
        return await original(...args);
      } catch (error) {
        throw error instanceof StoreUnavailable ? new TemporarilyUnavailable(error) : error;
      }
    };
  }
  return mapped as unknown as Adapter;
}

export class SealedOidcAdapter implements Adapter {
  private readonly namespace: string;

  constructor(
    private readonly store: SealedStore,
    private readonly model: string,
    private readonly options: SealedOidcAdapterOptions,
  ) {
    this.namespace = `oidc.${model}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    // Saved with nothing left of its lifetime (Session.persist() near its end): it is expired, not immortal.
    if (typeof expiresIn === 'number' && expiresIn <= 0) return this.destroy(id);
    const ttl = this.ttlOf(expiresIn);
    await this.store.put(this.namespace, id, payload, ttl);
    const pointers: Promise<void>[] = [];
    if (typeof payload.uid === 'string' && this.model === 'Session') {
      pointers.push(this.store.putPointer(BY_UID, payload.uid, this.ref(id), ttl));
    }
    if (typeof payload.userCode === 'string') {
      pointers.push(this.store.putPointer(BY_USER_CODE, payload.userCode, this.ref(id), ttl));
    }
    await Promise.all(pointers);
    if (typeof payload.grantId === 'string' && ISSUED_FROM_GRANT.has(this.model)) {
      await this.joinGrant(id, payload.grantId, ttl);
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (!storable(id)) return undefined;
    const entry = await this.store.getEntry<AdapterPayload>(this.namespace, id);
    if (!entry) return undefined;
    return entry.consumed ? { ...entry.value, consumed: entry.consumedAt ?? true } : entry.value;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    if (!storable(uid)) return undefined;
    const ref = await this.store.followPointer(BY_UID, uid);
    return ref?.namespace === this.namespace ? this.find(ref.secret) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    if (!storable(userCode)) return undefined;
    const ref = await this.store.followPointer(BY_USER_CODE, userCode);
    return ref?.namespace === this.namespace ? this.find(ref.secret) : undefined;
  }

  /**
   * oidc-provider checks `consumed` and then consumes; two concurrent redemptions can both pass the check.
   * The store's consume is atomic, so here exactly one wins and the others fail with invalid_grant. Whether
   * the replay revokes the grant is oidc-provider's decision (its revokeGrantPolicy, its `grant.revoked`
   * event): it takes it when the credential comes back and find shows it consumed (RFC 6749 §4.1.2, §10.4).
   */
  async consume(id: string): Promise<void> {
    const label = LABELS[this.model] ?? this.model;
    if (!storable(id)) throw new errors.InvalidGrant(`${label} not found`);
    const outcome = await this.store.consume(this.namespace, id);
    if (outcome === 'absent') throw new errors.InvalidGrant(`${label} not found`);
    if (outcome === 'already-consumed') throw new errors.InvalidGrant(`${label} already consumed`);
  }

  async destroy(id: string): Promise<void> {
    if (!storable(id)) return;
    if (this.model === 'Grant') return this.forgetGrant(id);
    const payload = await this.store.get<AdapterPayload>(this.namespace, id);
    await this.store.destroy(this.namespace, id);
    if (!payload) return;
    const cleanups: Promise<unknown>[] = [];
    if (typeof payload.grantId === 'string' && ISSUED_FROM_GRANT.has(this.model)) {
      cleanups.push(this.store.removeFromIndex(GRANT_INDEX, payload.grantId, this.ref(id)));
    }
    // A lookup another record has taken over since (a session whose id rotated) stays with that record.
    if (typeof payload.uid === 'string' && this.model === 'Session') {
      cleanups.push(this.store.destroyPointer(BY_UID, payload.uid, this.ref(id)));
    }
    if (typeof payload.userCode === 'string') {
      cleanups.push(this.store.destroyPointer(BY_USER_CODE, payload.userCode, this.ref(id)));
    }
    await Promise.all(cleanups);
  }

  /**
   * Deletes every artefact issued from the grant so far, whatever its model. It refuses nothing later: the
   * Grant itself may be kept (revoking an access token keeps it by default) and oidc-provider then issues
   * new codes and tokens under the same grant id.
   */
  async revokeByGrantId(grantId: string): Promise<void> {
    if (!storable(grantId)) return;
    await this.store.destroyIndex(GRANT_INDEX, grantId);
  }

  /**
   * A Grant is gone for good (oidc-provider never reuses a destroyed grant's id): what was issued from it
   * goes too, and a mark stops a request that read the Grant before from saving its token after.
   */
  private async forgetGrant(grantId: string): Promise<void> {
    await this.store.put(DESTROYED_GRANT, grantId, 1, DESTROYED_GRANT_MARK_SECONDS);
    await this.store.destroy(GRANT, grantId);
    await this.store.destroyIndex(GRANT_INDEX, grantId);
  }

  private async joinGrant(id: string, grantId: string, ttl: number): Promise<void> {
    await this.store.addToIndex(GRANT_INDEX, grantId, this.ref(id), ttl);
    // Written after the index entry, while forgetGrant marks before emptying the index: either it finds
    // this entry in the index, or we find its mark here. A Grant saved again since is alive, though.
    if (
      (await this.store.get(DESTROYED_GRANT, grantId)) !== undefined &&
      (await this.store.get(GRANT, grantId)) === undefined
    ) {
      await this.store.destroy(this.namespace, id);
    }
  }

  private ttlOf(expiresIn: number | undefined): number {
    if (expiresIn === undefined || !Number.isFinite(expiresIn)) {
      return this.options.defaultTtlSeconds;
    }
    return Math.min(Math.ceil(expiresIn), MAX_TTL_SECONDS);
  }

  private ref(id: string): { namespace: string; secret: string } {
    return { namespace: this.namespace, secret: id };
  }
}
