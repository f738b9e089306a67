import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { BffObserver } from '@cloakroom/bff';
import type { SessionEndReason } from '@cloakroom/bff';

/** The gateway's Prometheus metrics, on the app's registry (two gateways in one process stay apart). */
export class GatewayMetrics extends BffObserver {
  readonly sessionsCreatedTotal: Counter;
  readonly sessionsDestroyedTotal: Counter<'reason'>;
  readonly refreshesTotal: Counter<'outcome'>;
  readonly lockWaitSeconds: Histogram;
  readonly upstreamRefusals: Counter<'route' | 'reason'>;
  readonly upstreamLatency: Histogram<'route' | 'status'>;
  readonly authorizationHeaderBytes: Histogram;
  /** Label children are looked up once: resolving labels on every request costs more than observing. */
  private readonly upstreamChildren = new Map<string, { observe(value: number): void }>();
  private cacheSize: () => number = () => 0;

  constructor(registry: Registry) {
    super();
    const registers = [registry];
    this.sessionsCreatedTotal = new Counter({
      name: 'cloakroom_gateway_sessions_created_total',
      help: 'Sessions created at login.',
      registers,
    });
    this.sessionsDestroyedTotal = new Counter({
      name: 'cloakroom_gateway_sessions_destroyed_total',
      help: 'Sessions ended, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.refreshesTotal = new Counter({
      name: 'cloakroom_gateway_refreshes_total',
      help: 'Access token refreshes, by outcome (joined: a request that waited for another refresh).',
      labelNames: ['outcome'],
      registers,
    });
    this.lockWaitSeconds = new Histogram({
      name: 'cloakroom_gateway_refresh_lock_wait_seconds',
      help: 'Time requests waited for a refresh held by another request or instance.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.upstreamRefusals = new Counter({
      name: 'cloakroom_gateway_upstream_refusals_total',
      help: 'Requests not delivered because of their headers, by route prefix and reason (token_too_large: not sent; headers_refused: the upstream answered 431).',
      labelNames: ['route', 'reason'],
      registers,
    });
    this.upstreamLatency = new Histogram({
      name: 'cloakroom_gateway_upstream_latency_seconds',
      help: 'Time to the upstream response headers, by route prefix and status class.',
      labelNames: ['route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.authorizationHeaderBytes = new Histogram({
      name: 'cloakroom_gateway_forwarded_authorization_header_bytes',
      help: 'Size of the Authorization header forwarded upstream.',
      buckets: [512, 1024, 2048, 4096, 8192, 12_288, 16_384, 32_768],
      registers,
    });
    const size = () => this.cacheSize();
    new Gauge({
      name: 'cloakroom_gateway_session_cache_entries',
      help: 'Opened sessions held in process memory.',
      registers,
      collect() {
        this.set(size());
      },
    });
  }

  override sessionCreated(): void {
    this.sessionsCreatedTotal.inc();
  }

  override sessionsDestroyed(reason: SessionEndReason, count: number): void {
    this.sessionsDestroyedTotal.inc({ reason }, count);
  }

  override refresh(outcome: 'success' | 'rejected' | 'unavailable' | 'joined'): void {
    this.refreshesTotal.inc({ outcome });
  }

  override lockWait(seconds: number): void {
    this.lockWaitSeconds.observe(seconds);
  }

  override upstreamAnswered(route: string, outcome: string, seconds: number): void {
    const key = `${route} ${outcome}`;
    let child = this.upstreamChildren.get(key);
    if (child === undefined) {
      child = this.upstreamLatency.labels(route, outcome);
      this.upstreamChildren.set(key, child);
    }
    child.observe(seconds);
  }

  override upstreamRefused(route: string, reason: 'token_too_large' | 'headers_refused'): void {
    this.upstreamRefusals.inc({ route, reason });
  }

  override authorizationForwarded(bytes: number): void {
    this.authorizationHeaderBytes.observe(bytes);
  }

  override watchSessionCache(size: () => number): void {
    this.cacheSize = size;
  }
}
