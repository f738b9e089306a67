import { describe, expect, it } from '@jest/globals';
import { Envelope, newSecret } from '@cloakroom/envelope';
import { MemorySealedStore } from './memory-sealed.store.js';
import { sealedStoreContract } from './sealed-store.contract.js';

class TestableMemoryStore extends MemorySealedStore {
  rawKey(namespace: string, secret: string): string {
    return this.keyOf(namespace, secret);
  }
  async copy(from: string, to: string): Promise<void> {
    const bytes = await this.rawGet(from);
    if (bytes) await this.rawSet(to, bytes, 60_000);
  }
}

sealedStoreContract(MemorySealedStore.name, async () => {
  let now = Date.now();
  const store = new TestableMemoryStore(new Envelope(), { now: () => now });
  return {
    store,
    dump: async () => [...store.rawEntries()],
    advance: async (ms) => {
      now += ms;
    },
    copyRaw: (from, to) => store.copy(from, to),
    rawKeyOf: (namespace, secret) => store.rawKey(namespace, secret),
    teardown: () => store.close(),
  };
});

describe(`${MemorySealedStore.name} bounds`, () => {
  it('evicts expired entries first, then the least recently used', async () => {
    let now = 0;
    const store = new MemorySealedStore(new Envelope(), { maxEntries: 3, now: () => now });
    const [a, b, c, d] = Array.from({ length: 4 }, () => newSecret());
    await store.put('t', a, 'a', 10);
    await store.put('t', b, 'b', 100);
    await store.put('t', c, 'c', 100);
    now = 20_000; // a has expired
    await store.put('t', d, 'd', 100);
    expect(store.size).toBe(3);
    expect(await store.get('t', b)).toBe('b'); // b is now the most recently used
    await store.put('t', a, 'a2', 100); // full: c is the least recently used
    expect(await store.get('t', c)).toBeUndefined();
    expect(await store.get('t', b)).toBe('b');
    expect(await store.get('t', d)).toBe('d');
    await store.close();
  });

  it('sweeps expired entries without reads', async () => {
    let now = 0;
    const store = new MemorySealedStore(new Envelope(), { now: () => now });
    for (let i = 0; i < 50; i++) await store.put('t', newSecret(), i, 1);
    now = 2000;
    store.sweep();
    expect(store.size).toBe(0);
    await store.close();
  });
});
