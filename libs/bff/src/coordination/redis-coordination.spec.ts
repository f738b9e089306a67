import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { Envelope } from '@cloakroom/envelope';
import { RedisSealedStore } from '@cloakroom/sealed-store';
import { deletePrefix, requireRedis, testRedisUrl, uniquePrefix } from '../../../../test/support/redis.js';
import { RedisInvalidationBus } from './invalidation.bus.js';
import { RedisSessionLock } from './session.lock.js';

describe('Redis coordination: lock, expiry, invalidation bus', () => {
  let redis: Redis;
  let prefix: string;
  let store: RedisSealedStore;

  beforeAll(async () => {
    redis = await requireRedis();
    prefix = uniquePrefix('bff');
    store = new RedisSealedStore(new Envelope(), { keyPrefix: prefix, connection: { url: testRedisUrl() } });
    await store.connect();
  });

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await store.close();
    redis.disconnect();
  });

  it('grants a lock to one holder, renews its lease while held, and frees it only for its owner', async () => {
    // A lease long enough that a test worker stalled by its neighbours still renews in time.
    const lock = new RedisSessionLock(store.client, { keyPrefix: prefix, leaseMs: 1000 });
    const held = await lock.tryAcquire('slot-1');
    expect(held).toBeDefined();
    expect(await lock.tryAcquire('slot-1')).toBeUndefined();
    expect(await lock.tryAcquire('slot-2')).toBeDefined();
    // Three leases later the renewed lock is still held.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await lock.tryAcquire('slot-1')).toBeUndefined();
    expect(held!.lost).toBe(false);
    await held!.release();
    const next = await lock.tryAcquire('slot-1');
    expect(next).toBeDefined();
    // A stale holder's release does not free its successor's lock.
    await held!.release();
    expect(await lock.tryAcquire('slot-1')).toBeUndefined();
    await next!.release();
  });

  it('delivers invalidations to every subscribed instance and is live only while subscribed', async () => {
    const channel = `${prefix}invalidate`;
    const buses = [0, 1].map(
      () => new RedisInvalidationBus(store.client, (store.client as Redis).duplicate(), channel),
    );
    const received: string[][] = [[], []];
    buses.forEach((bus, i) => bus.onMessage((m) => received[i].push(m)));
    expect(buses[0].live).toBe(false);
    await Promise.all(buses.map((bus) => bus.start()));
    const deadline = Date.now() + 2000;
    while (!buses.every((bus) => bus.live) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(buses.every((bus) => bus.live)).toBe(true);
    const sent = performance.now();
    await buses[0].publish('s:slot-9');
    while (!received[1].includes('s:slot-9') && performance.now() - sent < 1000) {
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(received[1]).toContain('s:slot-9');
    expect(performance.now() - sent).toBeLessThan(100);
    await Promise.all(buses.map((bus) => bus.close()));
    expect(buses[0].live).toBe(false);
  });
});
