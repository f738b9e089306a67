import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Cluster, Redis } from 'ioredis';
import { ConfigInvalid, checkConfig, loadConfig } from '@cloakroom/config';
import { createTestCertificates } from '../../../test/support/tls-certificates.js';
import type { TestCertificates } from '../../../test/support/tls-certificates.js';
import { MemorySealedStore } from './memory-sealed.store.js';
import { RedisSealedStore } from './redis-sealed.store.js';
import { StoreConfig, storeConfigProblems } from './store.config.js';
import { createSealedStore } from './store.factory.js';

const load = (env: Record<string, string>, production = false) =>
  loadConfig(StoreConfig, env, (config) => storeConfigProblems(config, production));

describe(StoreConfig.name, () => {
  it('chooses the memory store without Redis settings, Redis as soon as one is given', async () => {
    const memory = createSealedStore(load({}));
    expect(memory).toBeInstanceOf(MemorySealedStore);
    await memory.close();
    const redis = createSealedStore(load({ REDIS_URL: 'redis://127.0.0.1:6379' }));
    expect(redis).toBeInstanceOf(RedisSealedStore);
    await redis.close();
    expect(load({ REDIS_SENTINELS: 'a:26379,b:26379' }).backend).toBe('redis');
    expect(load({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).REDIS_KEY_PREFIX).toBe('cloakroom:');
  });

  it('lists every bad variable at once', () => {
    let error: unknown;
    try {
      load({
        REDIS_URL: 'http://nope',
        REDIS_COMMAND_TIMEOUT_MS: 'soon',
        STORE_PEPPER: 'short',
        STORE_BACKEND: 'disk',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigInvalid);
    const message = (error as Error).message;
    for (const name of ['REDIS_URL', 'REDIS_COMMAND_TIMEOUT_MS', 'STORE_PEPPER', 'STORE_BACKEND']) {
      expect(message).toContain(name);
    }
  });

  it('refuses the memory store in production and ambiguous Redis addresses anywhere', () => {
    expect(() => load({}, true)).toThrow(/memory store is refused in production/);
    expect(() => load({ STORE_BACKEND: 'redis' })).toThrow(/needs REDIS_URL/);
    expect(() => load({ REDIS_URL: 'redis://x:1', REDIS_CLUSTER_NODES: 'x:1' })).toThrow(/only one/);
    expect(load({ REDIS_URL: 'redis://x:1' }, true).backend).toBe('redis');
    expect(() => load({ REDIS_URL: 'localhost:6379' })).toThrow(
      /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/,
    );
    expect(() => load({ REDIS_URL: 'redis://:pw@' })).toThrow(/REDIS_URL: .* with a host/);
  });

  it('requires a pepper in production when the app asks for one', () => {
    const check = (env: Record<string, string>, production: boolean) =>
      storeConfigProblems(loadConfig(StoreConfig, env), production, { pepperRequired: true });
    expect(check({ REDIS_URL: 'redis://x:1' }, true)).toEqual([
      expect.stringMatching(/^STORE_PEPPER: required in production .*usernames/),
    ]);
    expect(check({ REDIS_URL: 'redis://x:1', STORE_PEPPER: 'p'.repeat(32) }, true)).toEqual([]);
    expect(check({ REDIS_URL: 'redis://x:1' }, false)).toEqual([]);
    expect(storeConfigProblems(loadConfig(StoreConfig, { REDIS_URL: 'redis://x:1' }), true)).toEqual([]);
  });
});

describe(`${StoreConfig.name}: Redis credentials, TLS and timings`, () => {
  let certs: TestCertificates;
  beforeAll(async () => {
    certs = await createTestCertificates();
  });
  afterAll(() => certs?.remove());

  const problemsOf = (env: Record<string, string>) =>
    checkConfig(StoreConfig, env, (config) => storeConfigProblems(config, false)).problems;
  const sentinels = { REDIS_SENTINELS: '127.0.0.1:26379' };

  it('reads the TLS files once, at validation, and gives their contents to every connection', async () => {
    const ca = join(certs.dir, 'copy-of-ca.crt');
    copyFileSync(certs.ca, ca);
    const config = load({
      REDIS_CLUSTER_NODES: '127.0.0.1:7000',
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: ca,
      REDIS_TLS_CERT_FILE: certs.client.cert,
      REDIS_TLS_KEY_FILE: certs.client.key,
      REDIS_TLS_SERVERNAME: 'redis.internal',
      REDIS_USERNAME: 'cloakroom',
      REDIS_PASSWORD: 'pw',
      REDIS_CONNECT_TIMEOUT_MS: '1500',
      REDIS_RECONNECT_BASE_MS: '10',
      REDIS_RECONNECT_MAX_MS: '200',
    });
    // Gone after validation: the store still gets what was read at boot.
    rmSync(ca);
    const store = createSealedStore(config) as RedisSealedStore;
    const options = (store.client as Cluster).options;
    expect(options.redisOptions).toMatchObject({
      username: 'cloakroom',
      password: 'pw',
      connectTimeout: 1500,
      tls: {
        ca: readFileSync(certs.ca),
        cert: readFileSync(certs.client.cert),
        key: readFileSync(certs.client.key),
        servername: 'redis.internal',
      },
    });
    expect(options.clusterRetryStrategy!(20)).toBeLessThanOrEqual(200);
    await store.close();
  });

  it('connects a rediss:// URL with TLS and no files, on the system CAs', async () => {
    const store = createSealedStore(load({ REDIS_URL: 'rediss://redis.example:6380' })) as RedisSealedStore;
    expect((store.client as Redis).options.tls).toEqual({});
    await store.close();
  });

  it('names an unreadable or unsuitable file by its variable, never quoting it', () => {
    const keyAsCa = certs.client.key;
    const notAKey = join(certs.dir, 'not-a-key.pem');
    writeFileSync(notAKey, 'hunter2-not-a-key');
    const problems = problemsOf({
      ...sentinels,
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: keyAsCa,
      REDIS_TLS_CERT_FILE: join(certs.dir, 'missing.crt'),
      REDIS_TLS_KEY_FILE: notAKey,
    });
    expect(problems).toEqual([
      'REDIS_TLS_CERT_FILE: cannot be read: ENOENT',
      'REDIS_TLS_CA_FILE: holds no PEM certificate',
      expect.stringMatching(/^REDIS_TLS_KEY_FILE: holds no unencrypted PEM private key \([A-Z0-9_]+\)$/),
    ]);
    const keyBody = readFileSync(keyAsCa, 'utf8').split('\n')[1];
    expect(problems.join('\n')).not.toContain(keyBody);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('refuses a key that is not the certificate’s, and a certificate without its key', () => {
    expect(
      problemsOf({
        ...sentinels,
        REDIS_TLS: 'true',
        REDIS_TLS_CERT_FILE: certs.client.cert,
        REDIS_TLS_KEY_FILE: certs.server.key,
      }),
    ).toEqual(['REDIS_TLS_KEY_FILE: is not the private key of the certificate in REDIS_TLS_CERT_FILE']);
    expect(problemsOf({ ...sentinels, REDIS_TLS: 'true', REDIS_TLS_CERT_FILE: certs.client.cert })).toEqual([
      'REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE: mutual TLS needs both, the certificate and its key',
    ]);
  });

  it('refuses TLS settings that would be ignored: memory store, plain connections', () => {
    const missing = join(certs.dir, 'never-read.pem');
    expect(problemsOf({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: missing })).toEqual([
      'REDIS_TLS: set, but the store is the memory store (no Redis address): remove it or configure Redis',
      'REDIS_TLS_CA_FILE: set, but the store is the memory store (no Redis address): remove it or configure Redis',
    ]);
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_TLS_CA_FILE: certs.ca })).toEqual([
      'REDIS_TLS_CA_FILE: only used over TLS: set REDIS_TLS=true (Sentinel, Cluster) or write REDIS_URL as rediss://',
    ]);
    expect(problemsOf({ ...sentinels, REDIS_TLS_SERVERNAME: 'redis.internal' })).toEqual([
      expect.stringMatching(/^REDIS_TLS_SERVERNAME: only used over TLS/),
    ]);
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_TLS: 'true' })).toEqual([
      'REDIS_TLS: with REDIS_URL, the scheme chooses TLS: write the URL as rediss://',
    ]);
    expect(problemsOf({ REDIS_URL: 'rediss://127.0.0.1:6380', REDIS_TLS_CA_FILE: certs.ca })).toEqual([]);
  });

  it('takes credentials from the URL or the variables, not both, and a user only with a password', () => {
    expect(problemsOf({ REDIS_URL: 'redis://app:pw@127.0.0.1:6379', REDIS_PASSWORD: 'other' })).toEqual([
      expect.stringMatching(/^REDIS_URL, REDIS_USERNAME, REDIS_PASSWORD: .*not both$/),
    ]);
    expect(problemsOf({ REDIS_URL: 'redis://:pw@127.0.0.1:6379' })).toEqual([]);
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_USERNAME: 'app' })).toEqual([
      'REDIS_USERNAME: needs REDIS_PASSWORD (a user without a password accepts any value)',
    ]);
    expect(
      problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_USERNAME: 'a b', REDIS_PASSWORD: 'x' }),
    ).toEqual(['REDIS_USERNAME: must be a user name without spaces']);
    expect(problemsOf({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_SENTINEL_PASSWORD: 'x' })).toEqual([
      'REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS',
    ]);
    expect(problemsOf({ ...sentinels, REDIS_SENTINEL_USERNAME: 'watcher' })).toEqual([
      'REDIS_SENTINEL_USERNAME: needs REDIS_SENTINEL_PASSWORD',
    ]);
    expect(problemsOf({ ...sentinels, REDIS_SENTINEL_USERNAME: 'watcher', REDIS_PASSWORD: 'pw' })).toEqual(
      [],
    );
  });

  it('takes a host name as the certificates’ name', () => {
    const env = { ...sentinels, REDIS_TLS: 'true' };
    expect(problemsOf({ ...env, REDIS_TLS_SERVERNAME: 'redis-0.redis.internal' })).toEqual([]);
    expect(problemsOf({ ...env, REDIS_TLS_SERVERNAME: '*.redis.internal' })).toEqual([
      'REDIS_TLS_SERVERNAME: must be a host name, e.g. redis.internal',
    ]);
  });

  it('checks the timings and lists every problem at once', () => {
    const problems = problemsOf({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_CONNECT_TIMEOUT_MS: '5',
      REDIS_RECONNECT_BASE_MS: '5000',
      REDIS_RECONNECT_MAX_MS: '1000',
      REDIS_USERNAME: 'app',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^REDIS_CONNECT_TIMEOUT_MS: /),
      'REDIS_USERNAME: needs REDIS_PASSWORD (a user without a password accepts any value)',
      'REDIS_RECONNECT_BASE_MS: must not exceed REDIS_RECONNECT_MAX_MS',
    ]);
  });
});
