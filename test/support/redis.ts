import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the tests use: REDIS_URL, or the conventional local one. */
export function testRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A key prefix of this test run alone, so suites share one Redis without touching each other's keys. */
export function uniquePrefix(label: string): string {
  return `test:${label}:${randomBytes(4).toString('hex')}:`;
}

/**
 * Connects to the test Redis or fails with one sentence that says what to do. Redis tests are never
 * skipped: a missing Redis is a failure.
 */
export async function requireRedis(): Promise<Redis> {
  const url = testRedisUrl();
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch {
    client.disconnect();
    throw new Error(
      `Redis is not reachable at REDIS_URL=${url}: start one (\`redis-server --port 6379\`, or \`docker run -d -p 127.0.0.1:6379:6379 redis:7-alpine\`) or point REDIS_URL at a running Redis.`,
    );
  }
}

/** Every key under a prefix with its raw value (strings as bytes, sets joined), for dump audits. */
export async function dumpPrefix(
  client: Redis,
  prefix: string,
): Promise<Array<{ key: string; ttlMs: number; value: Buffer }>> {
  const out: Array<{ key: string; ttlMs: number; value: Buffer }> = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await client.type(key);
      const value =
        type === 'string'
          ? ((await client.getBuffer(key)) ?? Buffer.alloc(0))
          : type === 'set'
            ? Buffer.from((await client.smembers(key)).join('\n'))
            : type === 'hash'
              ? Buffer.from(JSON.stringify(await client.hgetall(key)))
              : type === 'zset'
                ? Buffer.from((await client.zrange(key, '0', '-1')).join('\n'))
                : type === 'list'
                  ? Buffer.from((await client.lrange(key, '0', '-1')).join('\n'))
                  : Buffer.alloc(0);
      out.push({ key, ttlMs: await client.pttl(key), value });
    }
  } while (cursor !== '0');
  return out;
}

/** Deletes every key under a prefix (never FLUSHDB: other suites share the Redis). */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/**
 * A Redis-backed sealed store on its own key prefix, with an admin connection that sees what an attacker
 * with a dump would see; teardown deletes the prefix and closes both.
 */
export async function openTestRedisStore<S extends { connect(): Promise<void>; close(): Promise<void> }>(
  label: string,
  create: (prefix: string) => S,
): Promise<{
  store: S;
  admin: Redis;
  prefix: string;
  dump(): ReturnType<typeof dumpPrefix>;
  teardown(): Promise<void>;
}> {
  const admin = await requireRedis();
  const prefix = uniquePrefix(label);
  const store = create(prefix);
  await store.connect();
  return {
    store,
    admin,
    prefix,
    dump: () => dumpPrefix(admin, prefix),
    teardown: async () => {
      await deletePrefix(admin, prefix);
      await store.close();
      admin.disconnect();
    },
  };
}
