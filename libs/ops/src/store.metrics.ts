import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { SealedStore } from '@cloakroom/sealed-store';
import { metricOf } from './metrics.js';
import type { Tracing } from './tracing.js';

const MEASURED = new Set([
  'put',
  'get',
  'getEntry',
  'destroy',
  'destroySlot',
  'touch',
  'consume',
  'addToIndex',
  'removeFromIndex',
  'destroyIndex',
  'putPointer',
  'followPointer',
  'destroyPointer',
  'increment',
  'countOf',
  'resetCount',
  'putMember',
  'members',
  'removeMember',
  'ping',
]);

/** `cloakroom_store_operation_seconds{operation}` and `cloakroom_store_errors_total{operation}` of a registry. */
export function storeMetrics(registry: Registry) {
  return {
    latency: metricOf(
      registry,
      'cloakroom_store_operation_seconds',
      () =>
        new Histogram({
          name: 'cloakroom_store_operation_seconds',
          help: 'Latency of sealed store operations.',
          labelNames: ['operation'] as const,
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
          registers: [registry],
        }),
    ),
    errors: metricOf(
      registry,
      'cloakroom_store_errors_total',
      () =>
        new Counter({
          name: 'cloakroom_store_errors_total',
          help: 'Failed sealed store operations.',
          labelNames: ['operation'] as const,
          registers: [registry],
        }),
    ),
  };
}

/**
 * The same store, with every operation timed and every failure counted in `registry`, and with `tracing`, each
 * operation made within a trace a span of its own (`store get`, attribute `cloakroom.store.operation`). The wrappers
 * and their label children are made once per operation: resolving labels or allocating closures per call would cost
 * more than the timing.
 */
export function instrumentStore(store: SealedStore, registry: Registry, tracing?: Tracing): SealedStore {
  const metrics = storeMetrics(registry);
  const wrappers = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  for (const operation of MEASURED) {
    const method = (store as unknown as Record<string, unknown>)[operation];
    if (typeof method !== 'function') continue;
    const latency = metrics.latency.labels(operation);
    const errors = metrics.errors.labels(operation);
    const timed = async (...args: unknown[]) => {
      const started = performance.now();
      try {
        return await (method as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      } catch (error) {
        errors.inc();
        throw error;
      } finally {
        latency.observe((performance.now() - started) / 1000);
      }
    };
    if (tracing === undefined) {
      wrappers.set(operation, timed);
      continue;
    }
    const name = `store ${operation}`;
    const span = { withinTrace: true, attributes: { 'cloakroom.store.operation': operation } };
    wrappers.set(operation, (...args: unknown[]) => tracing.span(name, span, () => timed(...args)));
  }
  return new Proxy(store, {
    get(target, property, receiver) {
      return (
        (typeof property === 'string' && wrappers.get(property)) || Reflect.get(target, property, receiver)
      );
    },
  });
}
