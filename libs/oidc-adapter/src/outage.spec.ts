import { describe, expect, it } from '@jest/globals';
import { Envelope, newSecret } from '@cloakroom/envelope';
import { RedisSealedStore } from '@cloakroom/sealed-store';
import { TemporarilyUnavailable, sealedOidcAdapter } from './sealed-oidc.adapter.js';

describe('sealedOidcAdapter when the store is unreachable', () => {
  it('fails every method with a 503 temporarily_unavailable that oidc-provider exposes', async () => {
    const store = new RedisSealedStore(new Envelope(), {
      connection: { url: 'redis://127.0.0.1:1', commandTimeoutMs: 300 },
    });
    const adapter = sealedOidcAdapter(store, { defaultTtlSeconds: 60 })('AccessToken');
    const calls = [
      () => adapter.find(newSecret()),
      () => adapter.upsert(newSecret(), { grantId: 'g' }, 60),
      () => adapter.consume(newSecret()),
      () => adapter.destroy(newSecret()),
      () => adapter.revokeByGrantId(newSecret()),
    ];
    for (const call of calls) {
      const error = (await call().then(
        () => undefined,
        (e: unknown) => e,
      )) as TemporarilyUnavailable;
      expect(error).toBeInstanceOf(TemporarilyUnavailable);
      expect(error).toMatchObject({ status: 503, expose: true, message: 'temporarily_unavailable' });
    }
    await store.close();
  });
});
