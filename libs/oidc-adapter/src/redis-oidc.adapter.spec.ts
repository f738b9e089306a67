import { Envelope } from '@cloakroom/envelope';
import { RedisSealedStore } from '@cloakroom/sealed-store';
import {
  deletePrefix,
  dumpPrefix,
  requireRedis,
  testRedisUrl,
  uniquePrefix,
} from '../../../test/support/redis.js';
import { oidcAdapterContract } from './oidc-adapter.contract.js';

oidcAdapterContract(RedisSealedStore.name, async () => {
  const admin = await requireRedis();
  const prefix = uniquePrefix('oidc-adapter');
  const store = new RedisSealedStore(new Envelope({ pepper: 'oidc-adapter-suite-pepper-0123456789' }), {
    connection: { url: testRedisUrl() },
    keyPrefix: prefix,
  });
  await store.connect();
  return {
    store,
    dump: () => dumpPrefix(admin, prefix),
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    teardown: async () => {
      await deletePrefix(admin, prefix);
      await store.close();
      admin.disconnect();
    },
  };
});
