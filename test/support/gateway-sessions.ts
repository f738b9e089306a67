import { Envelope } from '@cloakroom/envelope';
import { RedisSealedStore } from '@cloakroom/sealed-store';
import { SESSION_NAMESPACE, decodeSession } from '@cloakroom/bff';
import type { SessionRecord } from '@cloakroom/bff';
import { testRedisUrl } from './redis.js';

/**
 * The gateway's sessions as its store holds them, opened the only way there is: with a session's ticket (the
 * cookie's value is the key). For tests that must see what the browser never does (the refresh token a session
 * holds), or end a session the way its expiry would.
 */
export class GatewaySessions {
  private readonly store: RedisSealedStore;

  /** `keyPrefix` and `pepper`: the gateway's REDIS_KEY_PREFIX and STORE_PEPPER. */
  constructor(keyPrefix: string, pepper?: string) {
    this.store = new RedisSealedStore(new Envelope({ pepper }), {
      keyPrefix,
      connection: { url: testRedisUrl() },
    });
  }

  async read(ticket: string): Promise<SessionRecord | undefined> {
    await this.store.connect();
    const bytes = await this.store.get(SESSION_NAMESPACE, ticket);
    return Buffer.isBuffer(bytes) ? decodeSession(bytes) : undefined;
  }

  /** Removes the session's value and nothing else, as its idle timeout running out in the store would. */
  async expire(ticket: string): Promise<boolean> {
    await this.store.connect();
    return this.store.destroy(SESSION_NAMESPACE, ticket);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
