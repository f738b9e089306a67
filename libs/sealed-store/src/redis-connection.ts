import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';

export interface HostPort {
  host: string;
  port: number;
}

/** What a TLS connection trusts and shows: file contents read at boot, never paths. */
export interface RedisTls {
  /** CA certificates (PEM) that signed the servers' certificates; without them, the system's CAs. */
  ca?: Buffer;
  /** Client certificate and its private key (PEM), for servers that require mutual TLS. */
  cert?: Buffer;
  key?: Buffer;
  /** Name checked against the servers' certificates instead of the address connected to. */
  servername?: string;
}

/** How to reach Redis: exactly one of url, sentinels (+ sentinelName) or clusterNodes. */
export interface RedisConnection {
  url?: string;
  sentinels?: HostPort[];
  sentinelName?: string;
  clusterNodes?: HostPort[];
  /** ACL user of the data nodes (Redis 6+); a URL's own `user:password@` takes precedence. */
  username?: string;
  /** Password of the data nodes; a URL's own takes precedence. */
  password?: string;
  /** The sentinels' own ACL user. */
  sentinelUsername?: string;
  /** The sentinels' own password; without it, `password` (sentinels often share the data nodes' password). */
  sentinelPassword?: string;
  /**
   * TLS for every connection: data nodes, sentinels, cluster nodes. A `rediss://` URL turns TLS on by itself
   * (with the system's CAs unless this says otherwise).
   */
  tls?: RedisTls;
  /** A command that gets no answer within this many milliseconds fails with StoreUnavailable. */
  commandTimeoutMs?: number;
  /** A connection (TCP, TLS handshake) not established within this many milliseconds is dropped and retried. */
  connectTimeoutMs?: number;
  /** Reconnection back-off: the first retry after about this many milliseconds, doubling … */
  reconnectBaseMs?: number;
  /** … up to this many. */
  reconnectMaxMs?: number;
}

export type RedisClient = Redis | Cluster;

export const REDIS_CONNECTION_DEFAULTS = {
  commandTimeoutMs: 2000,
  connectTimeoutMs: 10_000,
  reconnectBaseMs: 50,
  reconnectMaxMs: 1000,
} as const;

/**
 * Wait before reconnection attempt `attempt` (1, 2, …): exponential up to the cap, then a random point in its
 * upper half, so that a fleet whose Redis came back does not reconnect in lockstep.
 */
export function reconnectDelay(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Node's TLS options from the certificates; verification stays on (Node's default), always. */
export function tlsOptions(tls: RedisTls): ConnectionOptions {
  const options: ConnectionOptions = {};
  if (tls.ca) options.ca = tls.ca;
  if (tls.cert) options.cert = tls.cert;
  if (tls.key) options.key = tls.key;
  if (tls.servername) options.servername = tls.servername;
  return options;
}

/**
 * Builds an ioredis client (standalone, Sentinel or Cluster) that fails fast instead of queueing. Every option
 * that ioredis spreads over several places (node options, sentinel options, cluster options) is set in each,
 * so that the topologies behave alike; `duplicate()` copies them all, TLS included.
 */
export function createRedisClient(connection: RedisConnection, extra: RedisOptions = {}): RedisClient {
  const commandTimeout = connection.commandTimeoutMs ?? REDIS_CONNECTION_DEFAULTS.commandTimeoutMs;
  const baseMs = connection.reconnectBaseMs ?? REDIS_CONNECTION_DEFAULTS.reconnectBaseMs;
  const maxMs = connection.reconnectMaxMs ?? REDIS_CONNECTION_DEFAULTS.reconnectMaxMs;
  const backOff = (attempt: number) => reconnectDelay(attempt, baseMs, maxMs);
  const tls = connection.tls ? tlsOptions(connection.tls) : undefined;
  const common: RedisOptions = {
    username: connection.username,
    password: connection.password,
    ...(tls && { tls }),
    // While Redis is down, commands fail at once (-> 503) instead of piling up in memory.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout,
    connectTimeout: connection.connectTimeoutMs ?? REDIS_CONNECTION_DEFAULTS.connectTimeoutMs,
    retryStrategy: backOff,
    lazyConnect: true,
    // A closing client must not hold the process for ioredis' default 2 s.
    disconnectTimeout: 250,
    // Commands issued in the same tick (concurrent requests, introspection's parallel lookups) leave in one
    // write: fewer system calls for the process and for Redis on the same cores.
    enableAutoPipelining: true,
    ...extra,
  };
  if (connection.clusterNodes?.length) {
    const options: ClusterOptions = {
      // Every node connection (and the slot refresher's) is made from these: credentials, TLS, timeouts.
      redisOptions: common,
      enableOfflineQueue: false,
      // When no node answers, the whole cluster client reconnects after this back-off; a single lost node
      // is found again through the slot map.
      clusterRetryStrategy: backOff,
      // CLUSTER SLOTS is a command like any other: a node that does not answer in time is skipped.
      slotsRefreshTimeout: commandTimeout,
      lazyConnect: true,
    };
    return new Cluster(connection.clusterNodes, options);
  }
  if (connection.sentinels?.length) {
    return new Redis({
      ...common,
      sentinels: connection.sentinels,
      name: connection.sentinelName ?? 'mymaster',
      sentinelUsername: connection.sentinelUsername,
      sentinelPassword: connection.sentinelPassword ?? connection.password,
      // When no sentinel answers, ask them all again after this back-off.
      sentinelRetryStrategy: backOff,
      sentinelCommandTimeout: commandTimeout,
      // One switch for both hops: the sentinels hand out the master's address and take the credentials, so
      // a plain-text sentinel would undo what TLS on the data nodes protects.
      ...(tls && { enableTLSForSentinelMode: true, sentinelTLS: tls }),
    });
  }
  return new Redis(connection.url ?? 'redis://127.0.0.1:6379', common);
}
