import { Cluster } from 'ioredis';
import { RedisSealedStore, envelopeOf, memoryStoreOf, redisStoreOptions } from '@cloakroom/sealed-store';
import type { SealedStore, StoreConfig } from '@cloakroom/sealed-store';
import { LocalInvalidationBus, RedisInvalidationBus } from './coordination/invalidation.bus.js';
import type { InvalidationBus } from './coordination/invalidation.bus.js';
import { LocalSessionLock, RedisSessionLock } from './coordination/session.lock.js';
import type { SessionLock } from './coordination/session.lock.js';

/** What the BFF keeps and coordinates with: the store, the refresh lock and the cache invalidation bus. */
export interface BffBackend {
  store: SealedStore;
  lock: SessionLock;
  bus: InvalidationBus;
  /** How an operator would name where the sessions are. */
  description: string;
}

/**
 * The one place that picks the BFF's backend: Redis for a fleet (store, lock and bus on one connection, the bus's
 * subscriber on a second), or this process's memory for a single instance.
 */
export function createBffBackend(config: StoreConfig, refreshLockLeaseMs: number): BffBackend {
  if (config.backend === 'memory') {
    return {
      store: memoryStoreOf(config),
      lock: new LocalSessionLock(),
      bus: new LocalInvalidationBus(),
      description: 'the gateway’s memory',
    };
  }
  const store = new RedisSealedStore(envelopeOf(config), redisStoreOptions(config));
  const lock = new RedisSessionLock(store.client, {
    keyPrefix: config.REDIS_KEY_PREFIX,
    leaseMs: refreshLockLeaseMs,
  });
  // A subscribed connection can do nothing else, hence a second one.
  const client = store.client;
  const bus = new RedisInvalidationBus(
    client,
    // (Both branches call the same method: the union of the two client types has no common signature.)
    client instanceof Cluster ? client.duplicate() : client.duplicate(),
    `${config.REDIS_KEY_PREFIX}gateway:invalidate`,
  );
  const description = config.REDIS_SENTINELS
    ? 'Redis via Sentinel'
    : config.REDIS_CLUSTER_NODES
      ? 'Redis Cluster'
      : 'Redis';
  return { store, lock, bus, description };
}
