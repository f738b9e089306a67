import { describe, expect, it } from '@jest/globals';
import { Envelope, newSecret } from '@cloakroom/envelope';
import { openTestRedisStore, testRedisUrl } from '../../../test/support/redis.js';
import { StoreUnavailable } from './errors.js';
import { RedisSealedStore } from './redis-sealed.store.js';
import { sealedStoreContract } from './sealed-store.contract.js';

class TestableRedisStore extends RedisSealedStore {
  rawKey(namespace: string, secret: string): string {
    return this.redisKey(this.keyOf(namespace, secret));
  }
}

sealedStoreContract(RedisSealedStore.name, async () => {
  const { store, admin, dump, teardown } = await openTestRedisStore(
    'sealed-store',
    (keyPrefix) =>
      new TestableRedisStore(new Envelope({ pepper: 'contract-suite-pepper-0123456789abcdef' }), {
        connection: { url: testRedisUrl() },
        keyPrefix,
      }),
  );
  return {
    store,
    dump,
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    copyRaw: async (from, to) => {
      await admin.set(to, (await admin.getBuffer(from))!, 'PX', 60_000);
    },
    rawKeyOf: (namespace, secret) => store.rawKey(namespace, secret),
    teardown,
  };
});

describe(`${RedisSealedStore.name} when Redis is unreachable`, () => {
  it('fails fast with StoreUnavailable instead of hanging or queueing', async () => {
    const store = new RedisSealedStore(new Envelope(), {
      connection: { url: 'redis://127.0.0.1:1', commandTimeoutMs: 500 },
    });
    const started = Date.now();
    await expect(store.get('t', newSecret())).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.put('t', newSecret(), {}, 10)).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailable);
    expect(Date.now() - started).toBeLessThan(3000);
    await store.close();
  });
});

describe(`${RedisSealedStore.name} with values written by an earlier version`, () => {
  it('reads a value consumed without a time (flag 1) as consumed, and does not consume it again', async () => {
    const { store, admin, teardown } = await openTestRedisStore(
      'sealed-store-legacy',
      (keyPrefix) =>
        new TestableRedisStore(new Envelope(), { connection: { url: testRedisUrl() }, keyPrefix }),
    );
    try {
      const secret = newSecret();
      await store.put('t.legacy', secret, { code: 1 }, 60);
      await admin.setrange(store.rawKey('t.legacy', secret), 0, '1');
      expect(await store.getEntry('t.legacy', secret)).toEqual({ value: { code: 1 }, consumed: true });
      expect(await store.consume('t.legacy', secret)).toBe('already-consumed');
      expect(await store.get('t.legacy', secret)).toEqual({ code: 1 });
    } finally {
      await teardown();
    }
  });
});
