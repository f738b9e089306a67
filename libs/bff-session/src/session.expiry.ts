import { RedisSealedStore, SealedStore } from '@cloakroom/sealed-store';

/**
 * Slides a session's idle timeout. On Redis it is a bare PEXPIRE: it cannot resurrect a session that was
 * destroyed meanwhile, and it never rewrites the value, so it cannot undo a concurrent refresh.
 */
export abstract class SessionExpiry {
  /** True when extending rewrites the value, so the caller must hold the session lock around it. */
  abstract readonly rewrites: boolean;
  abstract extend(namespace: string, secret: string, ttlSeconds: number): Promise<void>;

  static for(store: SealedStore): SessionExpiry {
    return store instanceof RedisSealedStore
      ? new RedisSessionExpiry(store)
      : new RewriteSessionExpiry(store);
  }
}

export class RedisSessionExpiry extends SessionExpiry {
  readonly rewrites = false;

  constructor(private readonly store: RedisSealedStore) {
    super();
  }

  async extend(namespace: string, secret: string, ttlSeconds: number): Promise<void> {
    // The store's own key derivation, so the key always matches what put() wrote.
    const key = this.store.redisKey(this.store['keyOf'](namespace, secret));
    await this.store.client.pexpire(key, Math.ceil(ttlSeconds * 1000));
  }
}

/** Any other backend: read the sealed bytes and write them back with the new TTL. */
export class RewriteSessionExpiry extends SessionExpiry {
  readonly rewrites = true;

  constructor(private readonly store: SealedStore) {
    super();
  }

  async extend(namespace: string, secret: string, ttlSeconds: number): Promise<void> {
    const value = await this.store.get(namespace, secret);
    if (value instanceof Uint8Array) await this.store.put(namespace, secret, value, ttlSeconds);
  }
}
