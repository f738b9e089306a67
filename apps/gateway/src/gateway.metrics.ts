import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BffSessionEvents } from '@cloakroom/bff-session';

/** The gateway's Prometheus metrics, on a registry of its own (two gateways in one process stay apart). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly sessionsCreated = new Counter({
    name: 'gateway_sessions_created_total',
    help: 'Sessions created at login.',
    registers: [this.registry],
  });
  readonly sessionsDestroyed = new Counter({
    name: 'gateway_sessions_destroyed_total',
    help: 'Sessions ended, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly refreshes = new Counter({
    name: 'gateway_refreshes_total',
    help: 'Access token refreshes, by outcome (joined: a request that waited for another refresh).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly lockWait = new Histogram({
    name: 'gateway_refresh_lock_wait_seconds',
    help: 'Time requests waited for a refresh held by another request or instance.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly storeLatency = new Histogram({
    name: 'gateway_store_latency_seconds',
    help: 'Latency of session store operations.',
    labelNames: ['operation'],
    buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly upstreamRefusals = new Counter({
    name: 'gateway_upstream_refusals_total',
    help: 'Requests not delivered because of their headers, by route prefix and reason (token_too_large: not sent; headers_refused: the upstream answered 431).',
    labelNames: ['route', 'reason'],
    registers: [this.registry],
  });
  readonly upstreamLatency = new Histogram({
    name: 'gateway_upstream_latency_seconds',
    help: 'Time to the upstream response headers, by route prefix and status class.',
    labelNames: ['route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly authorizationHeaderBytes = new Histogram({
    name: 'gateway_forwarded_authorization_header_bytes',
    help: 'Size of the Authorization header forwarded upstream.',
    buckets: [512, 1024, 2048, 4096, 8192, 12_288, 16_384, 32_768],
    registers: [this.registry],
  });
  readonly cacheEntries = new Gauge({
    name: 'gateway_session_cache_entries',
    help: 'Opened sessions held in process memory.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_' });
  }

  /** The session core's hooks, wired to these metrics. */
  sessionEvents(): BffSessionEvents {
    return {
      sessionCreated: () => this.sessionsCreated.inc(),
      sessionsDestroyed: (reason, count) => this.sessionsDestroyed.inc({ reason }, count),
      refresh: (outcome) => this.refreshes.inc({ outcome }),
      lockWait: (seconds) => this.lockWait.observe(seconds),
      storeLatency: (operation, seconds) => this.storeLatency.observe({ operation }, seconds),
    };
  }
}
