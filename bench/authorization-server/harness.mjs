// Shared pieces of the authorization-server benchmarks: config files, the server process, load, key counts.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

const autocannon = createRequire(import.meta.url)('autocannon');
export const RESOURCE = 'http://bench.test/api';
export const CLIENT = { id: 'bench-client', secret: 'bench-client-secret-0123456789abcdef' };
export const basic = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;

/** Temporary clients and resources files, a key prefix of its own, and the env the server reads. */
export function benchEnvironment({ accessTokenTTL = 300 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cloakroom-as-bench-'));
  writeFileSync(
    join(dir, 'clients.yaml'),
    `clients:\n  - client_id: ${CLIENT.id}\n    client_secret: ${CLIENT.secret}\n    grant_types: [client_credentials]\n    resources: [${RESOURCE}]\n    scopes: [orders:read]\n`,
  );
  writeFileSync(
    join(dir, 'resources.yaml'),
    `resources:\n  - indicator: ${RESOURCE}\n    accessTokenFormat: opaque\n    scopes: [orders:read]\n    accessTokenTTL: ${accessTokenTTL}\n`,
  );
  const prefix = `bench:as:${randomBytes(4).toString('hex')}:`;
  const env = {
    PORT: '0',
    LOG_LEVEL: 'silent',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: prefix,
    CLIENTS_FILE: join(dir, 'clients.yaml'),
    RESOURCES_FILE: join(dir, 'resources.yaml'),
  };
  return { env, prefix, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts the server variant in its own process. */
export function startServer(variant, env) {
  const child = fork(new URL('./server.mjs', import.meta.url), [variant], {
    env: { ...process.env, BENCH_AS_ENV: JSON.stringify(env) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
    child.once('message', ({ url }) =>
      resolve({
        url,
        pid: child.pid,
        rss: () =>
          new Promise((done) => {
            child.once('message', (m) => done(m.rss));
            child.send('rss');
          }),
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            child.once('exit', done);
            child.send('stop');
          }),
      }),
    );
  });
}

export async function issueToken(url) {
  const response = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&resource=${encodeURIComponent(RESOURCE)}&scope=orders%3Aread`,
  });
  const body = await response.json();
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** Closed-loop POST load; every answer must be 2xx (a run with errors is not a measurement). */
export function load({ url, path, body, connections = 8, seconds, amount }) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}${path}`,
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body,
        connections,
        ...(amount ? { amount } : { duration: seconds }),
      },
      (error, result) => {
        if (error) return reject(error);
        const failures = result.non2xx + result.errors + result.timeouts;
        resolve({
          requests: result['2xx'],
          failures,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          seconds: result.duration,
        });
      },
    );
  });
}

/** Keys under a prefix (SCAN: the Redis is shared with other prefixes). */
export async function countKeys(redis, prefix) {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

export async function deleteKeys(redis, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

export const redisClient = () => new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
