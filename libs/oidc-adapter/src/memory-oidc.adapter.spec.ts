import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { oidcAdapterContract } from './oidc-adapter.contract.js';

oidcAdapterContract(MemorySealedStore.name, async () => {
  let now = Date.now();
  const store = new MemorySealedStore(new Envelope(), { now: () => now });
  return {
    store,
    dump: async () => {
      store.sweep();
      return [...store.rawEntries()];
    },
    advance: async (ms) => {
      now += ms;
    },
    teardown: () => store.close(),
  };
});
