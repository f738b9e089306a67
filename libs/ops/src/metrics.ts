import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per app instance, so that two apps in one process (tests, benchmarks) keep their figures apart.
 * Node's process metrics keep their standard names; every Cloakroom metric is named
 * `cloakroom_<subsystem>_<name>_<unit>` (subsystems `http`, `store`, `authorization_server`, `resource_server`,
 * `gateway`; `_total` for counters, `_seconds` and `_bytes` for units). Labels only ever take values from fixed
 * vocabularies or route templates: never a token, a cookie, an id or a user name.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The metric already in `registry` under that name, or a new one: two users of one registry share it. */
export function metricOf<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

/** Route labels beyond this many distinct values count as `other`, so that no input can grow the registry. */
const MAX_ROUTES = 200;
const OTHER = 'other';

interface MethodSeries {
  duration: Histogram.Internal<'method' | 'route'>;
  requests: Map<number, Counter.Internal>;
}

/**
 * `cloakroom_http_requests_total{method,route,status}` and `cloakroom_http_request_duration_seconds{method,route}`.
 * The label children are kept per route and method: prom-client's own label look-up hashes the label object on
 * every call.
 */
export class HttpMetrics {
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly #series = new Map<string, Map<string, MethodSeries>>();

  constructor(registry: Registry) {
    this.requests = metricOf(
      registry,
      'cloakroom_http_requests_total',
      () =>
        new Counter({
          name: 'cloakroom_http_requests_total',
          help: 'HTTP requests answered, by method, route template and status.',
          labelNames: ['method', 'route', 'status'] as const,
          registers: [registry],
        }),
    );
    this.duration = metricOf(
      registry,
      'cloakroom_http_request_duration_seconds',
      () =>
        new Histogram({
          name: 'cloakroom_http_request_duration_seconds',
          help: 'Time from the request to the end of the response, by method and route template.',
          labelNames: ['method', 'route'] as const,
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    );
  }

  /** One answered request; `route` is a template or `unmatched`, never a raw path. */
  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.#series.get(route);
    if (!byMethod) {
      if (this.#series.size >= MAX_ROUTES && route !== OTHER) {
        return this.observe(method, OTHER, status, seconds);
      }
      byMethod = new Map();
      this.#series.set(route, byMethod);
    }
    let series = byMethod.get(method);
    if (!series) {
      series = { duration: this.duration.labels(method, route), requests: new Map() };
      byMethod.set(method, series);
    }
    let requests = series.requests.get(status);
    if (!requests) {
      requests = this.requests.labels(method, route, String(status));
      series.requests.set(status, requests);
    }
    requests.inc();
    series.duration.observe(seconds);
  }
}
