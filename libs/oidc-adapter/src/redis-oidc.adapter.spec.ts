import { Envelope } from '@cloakroom/envelope';
import { RedisSealedStore } from '@cloakroom/sealed-store';
import { openTestRedisStore, testRedisUrl } from '../../../test/support/redis.js';
import { oidcAdapterContract } from './oidc-adapter.contract.js';

oidcAdapterContract(RedisSealedStore.name, async () => {
  const { store, dump, teardown } = await openTestRedisStore(
    'oidc-adapter',
    (keyPrefix) =>
      new RedisSealedStore(new Envelope({ pepper: 'oidc-adapter-suite-pepper-0123456789' }), {
        connection: { url: testRedisUrl() },
        keyPrefix,
      }),
  );
  return { store, dump, advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), teardown };
});
