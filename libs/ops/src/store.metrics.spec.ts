import { afterAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { Envelope, newSecret } from '@cloakroom/envelope';
import { MemorySealedStore, StoreMisuse } from '@cloakroom/sealed-store';
import { instrumentStore, storeMetrics } from './store.metrics.js';

describe('instrumentStore', () => {
  const raw = new MemorySealedStore(new Envelope());
  afterAll(() => raw.close());

  it('times each operation under its own label, counts failures, and passes everything else through', async () => {
    const registry = new Registry();
    const store = instrumentStore(raw, registry);
    const secret = newSecret();
    await store.put('t.metrics', secret, { v: 1 }, 60);
    expect(await store.get('t.metrics', secret)).toEqual({ v: 1 });
    expect(await store.get('t.metrics', newSecret())).toBeUndefined();
    await expect(store.put('t.metrics', secret, { v: 1 }, -1)).rejects.toBeInstanceOf(StoreMisuse);
    // destroyPointer compares and deletes in one step: timed like every other store write.
    await store.destroyPointer('t.pointer', newSecret(), { namespace: 't.metrics', secret });
    // The idle-timeout slide and the user's list of sessions are store round trips too.
    await store.touch('t.metrics', secret, 60);
    await store.putMember('t.group', secret, 'm1', { v: 1 }, 60);
    expect(await store.members('t.group', secret)).toHaveLength(1);
    // Not a measured operation: served by the store itself.
    expect(await store.ttl('t.metrics', secret)).toBeGreaterThan(0);

    const metrics = storeMetrics(registry);
    const latency = await metrics.latency.get();
    const count = (operation: string) =>
      latency.values.find(
        (v) => v.metricName === 'cloakroom_store_operation_seconds_count' && v.labels.operation === operation,
      )?.value;
    expect(count('put')).toBe(2);
    expect(count('get')).toBe(2);
    expect(count('destroyPointer')).toBe(1);
    expect(count('touch')).toBe(1);
    expect(count('putMember')).toBe(1);
    expect(count('members')).toBe(1);
    expect(count('ttl')).toBeUndefined();
    const errors = await metrics.errors.get();
    expect(errors.values).toEqual([{ labels: { operation: 'put' }, value: 1 }]);
  });

  it('shares the metrics of one registry between stores, and keeps registries apart', async () => {
    const registry = new Registry();
    const other = new Registry();
    await instrumentStore(raw, registry).ping();
    await instrumentStore(raw, registry).ping();
    await instrumentStore(raw, other).ping();
    const pings = async (r: Registry) =>
      (await storeMetrics(r).latency.get()).values.find(
        (v) => v.metricName === 'cloakroom_store_operation_seconds_count' && v.labels.operation === 'ping',
      )?.value;
    expect(await pings(registry)).toBe(2);
    expect(await pings(other)).toBe(1);
  });
});
