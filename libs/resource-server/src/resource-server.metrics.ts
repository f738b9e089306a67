import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Verifiers } from './resource-server.guards.js';

/**
 * The resource-server library's figures on an app's registry, read from its verifiers at each scrape:
 * `cloakroom_resource_server_introspections_total`, `…_introspection_cache_hits_total` and
 * `…_dpop_proofs_remembered` (the replay cache, bounded by DPOP_REPLAY_CACHE_MAX_ENTRIES).
 */
export function registerResourceServerMetrics(registry: Registry, verifiers: Verifiers): void {
  const all = Object.values(verifiers);
  new Counter({
    name: 'cloakroom_resource_server_introspections_total',
    help: 'Calls made to the introspection endpoint.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(all.reduce((sum, v) => sum + v.introspections, 0));
    },
  });
  new Counter({
    name: 'cloakroom_resource_server_introspection_cache_hits_total',
    help: 'Introspection answers served from the cache.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(all.reduce((sum, v) => sum + v.cacheHits, 0));
    },
  });
  new Gauge({
    name: 'cloakroom_resource_server_dpop_proofs_remembered',
    help: 'DPoP proofs remembered against replay (bounded by DPOP_REPLAY_CACHE_MAX_ENTRIES).',
    registers: [registry],
    collect() {
      this.set(verifiers.auto.dpop.remembered);
    },
  });
}
