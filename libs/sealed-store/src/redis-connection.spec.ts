import { describe, expect, it } from '@jest/globals';
import { Cluster, Redis } from 'ioredis';
import { createRedisClient, reconnectDelay } from './redis-connection.js';
import type { RedisConnection } from './redis-connection.js';

const tls = {
  ca: Buffer.from('ca'),
  cert: Buffer.from('cert'),
  key: Buffer.from('key'),
  servername: 'redis.internal',
};
const timings = { commandTimeoutMs: 700, connectTimeoutMs: 3000, reconnectBaseMs: 20, reconnectMaxMs: 400 };

function built(connection: RedisConnection) {
  const client = createRedisClient(connection);
  client.on('error', () => undefined);
  return client;
}

describe(reconnectDelay.name, () => {
  it('doubles from the base up to the cap, each wait in the upper half of its step', () => {
    for (let round = 0; round < 50; round++) {
      const steps = [1, 2, 3, 4, 5, 6, 40, 5000].map((attempt) => reconnectDelay(attempt, 50, 1000));
      const ceilings = [50, 100, 200, 400, 800, 1000, 1000, 1000];
      steps.forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(ceilings[i] / 2);
        expect(delay).toBeLessThanOrEqual(ceilings[i]);
      });
    }
  });
});

describe(createRedisClient.name, () => {
  it('gives a standalone client its credentials, TLS material and timings', () => {
    const client = built({
      url: 'rediss://redis.example:6380',
      username: 'app',
      password: 'pw',
      tls,
      ...timings,
    });
    expect(client).toBeInstanceOf(Redis);
    expect((client as Redis).options).toMatchObject({
      host: 'redis.example',
      port: 6380,
      username: 'app',
      password: 'pw',
      tls: { ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'redis.internal' },
      commandTimeout: 700,
      connectTimeout: 3000,
    });
    expect((client as Redis).options.tls).not.toHaveProperty('rejectUnauthorized');
    client.disconnect();
  });

  it('lets a URL carry its own user and password, and turns TLS on for rediss:// alone', () => {
    const client = built({ url: 'rediss://url-user:url%40pw@127.0.0.1:6380/2' }) as Redis;
    expect(client.options).toMatchObject({ username: 'url-user', password: 'url@pw', db: 2 });
    expect(client.options.tls).toBe(true);
    client.disconnect();
    const plain = built({ url: 'redis://127.0.0.1:6379', username: 'app', password: 'pw' }) as Redis;
    expect(plain.options).toMatchObject({ username: 'app', password: 'pw' });
    expect(plain.options.tls).toBeUndefined();
    plain.disconnect();
  });

  it('uses TLS towards the sentinels and the master alike, with the sentinels’ own credentials', () => {
    const client = built({
      sentinels: [{ host: '127.0.0.1', port: 26379 }],
      sentinelName: 'main',
      username: 'app',
      password: 'pw',
      sentinelUsername: 'watcher',
      sentinelPassword: 'sentinel-pw',
      tls,
      ...timings,
    }) as Redis;
    expect(client.options).toMatchObject({
      name: 'main',
      username: 'app',
      password: 'pw',
      sentinelUsername: 'watcher',
      sentinelPassword: 'sentinel-pw',
      enableTLSForSentinelMode: true,
      tls: { ca: tls.ca, servername: 'redis.internal' },
      sentinelTLS: { ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'redis.internal' },
      sentinelCommandTimeout: 700,
      connectTimeout: 3000,
    });
    const retry = client.options.sentinelRetryStrategy!;
    expect(retry(1)).toBeLessThanOrEqual(20);
    expect(retry(30)).toBeLessThanOrEqual(400);
    expect(retry(30)).toBeGreaterThanOrEqual(200);
    client.disconnect();
  });

  it('sends the data nodes’ password to the sentinels when they have none of their own, as before', () => {
    const client = built({ sentinels: [{ host: '127.0.0.1', port: 26379 }], password: 'pw' }) as Redis;
    expect(client.options.sentinelPassword).toBe('pw');
    expect(client.options.enableTLSForSentinelMode).toBe(false);
    client.disconnect();
  });

  it('passes credentials, TLS and timings to every cluster node, and back-off to the cluster', () => {
    const client = built({
      clusterNodes: [{ host: '127.0.0.1', port: 7000 }],
      username: 'app',
      password: 'pw',
      tls,
      ...timings,
    }) as Cluster;
    expect(client).toBeInstanceOf(Cluster);
    expect(client.options).toMatchObject({
      slotsRefreshTimeout: 700,
      enableOfflineQueue: false,
      redisOptions: {
        username: 'app',
        password: 'pw',
        tls: { ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'redis.internal' },
        commandTimeout: 700,
        connectTimeout: 3000,
      },
    });
    expect(client.options.clusterRetryStrategy!(30)).toBeLessThanOrEqual(400);
    client.disconnect();
  });

  it('keeps TLS and credentials in duplicates (the gateway’s subscriber connection)', () => {
    const standalone = built({ url: 'rediss://127.0.0.1:6380', password: 'pw', tls }) as Redis;
    const copy = standalone.duplicate();
    expect(copy.options).toMatchObject({ password: 'pw', tls: { ca: tls.ca, servername: 'redis.internal' } });
    const cluster = built({
      clusterNodes: [{ host: '127.0.0.1', port: 7000 }],
      password: 'pw',
      tls,
    }) as Cluster;
    const clusterCopy = cluster.duplicate();
    expect(clusterCopy.options.redisOptions).toMatchObject({ password: 'pw', tls: { ca: tls.ca } });
    for (const client of [standalone, copy, cluster, clusterCopy]) client.disconnect();
  });
});
