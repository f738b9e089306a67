import { afterAll, describe, expect, it } from '@jest/globals';
import { Envelope, newSecret } from '@cloakroom/envelope';
import { MemorySealedStore, StoreMisuse } from '@cloakroom/sealed-store';
import { AuthorizationServerMetrics, instrumentStore } from './metrics.js';

describe('instrumentStore', () => {
  const raw = new MemorySealedStore(new Envelope());
  afterAll(() => raw.close());

  it('times each operation under its own label, counts failures, and passes everything else through', async () => {
    const metrics = new AuthorizationServerMetrics();
    const store = instrumentStore(raw, metrics);
    const secret = newSecret();
    await store.put('t.metrics', secret, { v: 1 }, 60);
    expect(await store.get('t.metrics', secret)).toEqual({ v: 1 });
    expect(await store.get('t.metrics', newSecret())).toBeUndefined();
    await expect(store.put('t.metrics', secret, { v: 1 }, -1)).rejects.toBeInstanceOf(StoreMisuse);
    // destroyPointer compares and deletes in one step: timed like every other store write.
    await store.destroyPointer('t.pointer', newSecret(), { namespace: 't.metrics', secret });
    // Not a measured operation: served by the store itself.
    expect(await store.ttl('t.metrics', secret)).toBeGreaterThan(0);

    const latency = await metrics.storeLatency.get();
    const count = (operation: string) =>
      latency.values.find(
        (v) => v.metricName === 'cloakroom_store_operation_seconds_count' && v.labels.operation === operation,
      )?.value;
    expect(count('put')).toBe(2);
    expect(count('get')).toBe(2);
    expect(count('destroyPointer')).toBe(1);
    expect(count('ttl')).toBeUndefined();
    const errors = await metrics.storeErrors.get();
    expect(errors.values).toEqual([{ labels: { operation: 'put' }, value: 1 }]);
  });
});
