import {
  InvalidationBus,
  LocalInvalidationBus,
  LocalSessionLock,
  RedisInvalidationBus,
  RedisSessionLock,
  SessionLock,
} from '@cloakroom/bff-session';
import { Cluster } from 'ioredis';
import { RedisSealedStore } from '@cloakroom/sealed-store';
import type { SealedStore } from '@cloakroom/sealed-store';
import type { GatewayConfig } from './gateway.config.js';

/** The refresh lock and the cache invalidation bus, on the store's backend: Redis for a fleet, in-process for one. */
export function createCoordination(
  config: GatewayConfig,
  store: SealedStore,
): { lock: SessionLock; bus: InvalidationBus } {
  if (!(store instanceof RedisSealedStore))
    return { lock: new LocalSessionLock(), bus: new LocalInvalidationBus() };
  const lock = new RedisSessionLock(store.client, {
    keyPrefix: config.REDIS_KEY_PREFIX,
    leaseMs: config.GATEWAY_REFRESH_LOCK_LEASE_MS,
  });
  // A subscribed connection can do nothing else, hence a second one.
  const client = store.client;
  const subscriber = client instanceof Cluster ? client.duplicate() : client.duplicate();
  const bus = new RedisInvalidationBus(
    store.client,
    subscriber,
    `${config.REDIS_KEY_PREFIX}gateway:invalidate`,
  );
  return { lock, bus };
}
