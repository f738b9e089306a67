import { describe, expect, it } from '@jest/globals';
import { ConfigInvalid, loadConfig } from '@cloakroom/config';
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
