import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from './memory-sealed.store.js';
import { RedisSealedStore } from './redis-sealed.store.js';
import type { RedisSealedStoreOptions } from './redis-sealed.store.js';
import type { SealedStore } from './sealed.store.js';
import { parseHostPorts, redisTlsOf } from './store.config.js';
import type { StoreConfig } from './store.config.js';

/** The store of an app that needs nothing else of its backend (the authorization server). */
export function createSealedStore(config: StoreConfig): SealedStore {
  const envelope = envelopeOf(config);
  return config.backend === 'memory'
    ? memoryStoreOf(config, envelope)
    : new RedisSealedStore(envelope, redisStoreOptions(config));
}

/** The envelope every store of a deployment seals with: the deployment pepper, when there is one. */
export function envelopeOf(config: StoreConfig): Envelope {
  return new Envelope({ pepper: config.STORE_PEPPER });
}

export function memoryStoreOf(config: StoreConfig, envelope = envelopeOf(config)): MemorySealedStore {
  return new MemorySealedStore(envelope, { maxEntries: config.MEMORY_STORE_MAX_ENTRIES });
}

/** Validated settings as the Redis store's connection options. */
export function redisStoreOptions(config: StoreConfig): RedisSealedStoreOptions {
  return {
    keyPrefix: config.REDIS_KEY_PREFIX,
    connection: {
      url: config.REDIS_URL,
      sentinels: config.REDIS_SENTINELS ? parseHostPorts(config.REDIS_SENTINELS) : undefined,
      sentinelName: config.REDIS_SENTINEL_NAME,
      clusterNodes: config.REDIS_CLUSTER_NODES ? parseHostPorts(config.REDIS_CLUSTER_NODES) : undefined,
      username: config.REDIS_USERNAME,
      password: config.REDIS_PASSWORD,
      sentinelUsername: config.REDIS_SENTINEL_USERNAME,
      sentinelPassword: config.REDIS_SENTINEL_PASSWORD,
      tls: redisTlsOf(config),
      commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
      connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
      reconnectBaseMs: config.REDIS_RECONNECT_BASE_MS,
      reconnectMaxMs: config.REDIS_RECONNECT_MAX_MS,
    },
  };
}
