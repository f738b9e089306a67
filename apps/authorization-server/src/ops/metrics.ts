import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SealedStore } from '@cloakroom/sealed-store';

/** The authorization server's Prometheus metrics. Labels never carry secrets: only fixed vocabularies. */
export class AuthorizationServerMetrics {
  readonly registry = new Registry();
  readonly tokensIssued = new Counter({
    name: 'cloakroom_tokens_issued_total',
    help: 'Tokens and codes issued, by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly storeLatency = new Histogram({
    name: 'cloakroom_store_operation_seconds',
    help: 'Latency of sealed store operations.',
    labelNames: ['operation'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'cloakroom_store_errors_total',
    help: 'Failed sealed store operations.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  readonly loginFailures = new Counter({
    name: 'cloakroom_login_failures_total',
    help: 'Refused sign-ins, by reason (wrong credentials, throttled, bad form).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly oversizedTokens = new Counter({
    name: 'cloakroom_oversized_tokens_total',
    help: 'ID tokens larger than TOKEN_SIZE_BUDGET_BYTES, and access tokens whose claims had to leave them to stay under their resource budget (label resource).',
    labelNames: ['type', 'resource'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

const MEASURED = new Set([
  'put',
  'get',
  'getEntry',
  'destroy',
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
  'ping',
]);

/**
 * The same store, with every operation timed and every failure counted. The wrappers and their label children
 * are made once per operation: resolving labels or allocating closures per call would cost more than the timing.
 */
export function instrumentStore(store: SealedStore, metrics: AuthorizationServerMetrics): SealedStore {
  const wrappers = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  for (const operation of MEASURED) {
    const method = (store as unknown as Record<string, unknown>)[operation];
    if (typeof method !== 'function') continue;
    const latency = metrics.storeLatency.labels(operation);
    const errors = metrics.storeErrors.labels(operation);
    wrappers.set(operation, async (...args: unknown[]) => {
      const started = performance.now();
      try {
        return await (method as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      } catch (error) {
        errors.inc();
        throw error;
      } finally {
        latency.observe((performance.now() - started) / 1000);
      }
    });
  }
  return new Proxy(store, {
    get(target, property, receiver) {
      return (
        (typeof property === 'string' && wrappers.get(property)) || Reflect.get(target, property, receiver)
      );
    },
  });
}
