import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Verifiers } from '@cloakroom/resource-server';

/** Requests by route and status, tokens by validation path, introspection cache use, DPoP replay cache. */
export class DemoApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'demo_api_requests_total',
    help: 'Requests by route and status.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  constructor(verifiers: Verifiers) {
    collectDefaultMetrics({ register: this.registry });
    const all = Object.values(verifiers);
    new Counter({
      name: 'demo_api_introspections_total',
      help: 'Calls made to the introspection endpoint.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(all.reduce((sum, v) => sum + v.introspections, 0));
      },
    });
    new Counter({
      name: 'demo_api_introspection_cache_hits_total',
      help: 'Introspection answers served from the cache.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(all.reduce((sum, v) => sum + v.cacheHits, 0));
      },
    });
    new Gauge({
      name: 'demo_api_dpop_proofs_remembered',
      help: 'DPoP proofs remembered against replay (bounded by DPOP_REPLAY_CACHE_MAX_ENTRIES).',
      registers: [this.registry],
      collect() {
        this.set(verifiers.auto.dpop.remembered);
      },
    });
  }
}
