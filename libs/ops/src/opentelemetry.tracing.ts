import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
} from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator, parseKeyPairsIntoRecord } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { ReadableSpan, Sampler, SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { routeOf } from './access-log.js';
import type { TracingConfig } from './tracing.config.js';
import { TRACES_FLUSH_MS } from './tracing.js';
import type { ServeOptions, SpanAttributes, TracedSpanOptions, TracingOptions } from './tracing.js';

const UNTRACED: SpanAttributes = { setAttribute: () => undefined };
const propagator = new W3CTraceContextPropagator();
/** Our attribute values are words, numbers and templates: a longer one would be input, cut here. */
const ATTRIBUTE_VALUE_MAX = 256;
const EXPORT_WARNING_INTERVAL_MS = 60_000;

/**
 * One store of the current span per process, shared by the apps in it (tests run three) and never registered with
 * the OpenTelemetry API: nothing outside these apps starts tracing because one of them did. Made by the first app
 * that traces, so that a process without tracing keeps no context at all.
 */
let contexts: AsyncLocalStorageContextManager | undefined;

/**
 * The tracing of an app whose settings name an OTLP endpoint, on a tracer provider of its own: two apps in one
 * process keep their `service.name` apart. Loaded by {@link startTracing} only when tracing is on.
 */
export function createTracing(config: TracingConfig, endpoint: string, options: TracingOptions): Tracing {
  const processor = options.exporter
    ? new SimpleSpanProcessor({ exporter: options.exporter })
    : new BatchSpanProcessor({
        exporter: new ReportedExporter(
          new OTLPTraceExporter({
            url: endpoint,
            headers: parseKeyPairsIntoRecord(config.OTEL_EXPORTER_OTLP_HEADERS),
          }),
          new URL(endpoint).origin,
          options.logger,
        ),
      });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.OTEL_SERVICE_NAME ?? options.serviceName }),
    sampler: samplerOf(config),
    spanLimits: { attributeValueLengthLimit: ATTRIBUTE_VALUE_MAX },
    spanProcessors: [processor],
  });
  contexts ??= new AsyncLocalStorageContextManager();
  return new Tracing(provider, contexts);
}

/**
 * Spans made by our own code (no instrumentation patches `http`): a server span per request, child spans for the
 * work that matters (store operations, refreshes, calls to other services), and the W3C `traceparent` of the current
 * span for the requests those calls send. The libraries take it through their own ports (`BffTracing`,
 * `ResourceServerTracing`), which it fits.
 */
export class Tracing {
  readonly #provider: TracerProvider;
  readonly #tracer: Tracer;
  readonly #contexts: AsyncLocalStorageContextManager;

  constructor(provider: TracerProvider, store: AsyncLocalStorageContextManager) {
    this.#provider = provider;
    this.#tracer = provider.getTracer('cloakroom');
    this.#contexts = store;
  }

  /**
   * A server span for one request, continuing the caller's `traceparent` (or starting a trace), with `next` and what
   * it starts in its context, and by default the listeners of the request and of the response too. Named
   * `<method> <route>` once the answer is done: `options.route` when the caller knows it, else the route the framework
   * matched or the path with its id-like segments as `:id`; just the method for a 404 that matched nothing.
   * Attributes: method, route and status; never the path, the query or a header.
   */
  serve(req: IncomingMessage, res: ServerResponse, next: () => void, options: ServeOptions = {}): void {
    const { route, bindListeners = true } = options;
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const method = req.method ?? 'GET';
    const span = this.#tracer.startSpan(
      route === undefined ? method : `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } },
      parent,
    );
    let open = true;
    const end = () => {
      if (!open) return;
      open = false;
      if (span.isRecording()) {
        const status = res.statusCode;
        const template = route ?? routeOf(req, status);
        if (template !== undefined) {
          span.updateName(`${method} ${template}`);
          span.setAttribute('http.route', template);
        }
        span.setAttribute('http.response.status_code', status);
        if (!res.writableFinished) span.setAttribute('error.type', 'response_cut');
        if (status >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    const context = trace.setSpan(parent, span);
    if (bindListeners) {
      this.#contexts.bind(context, req);
      this.#contexts.bind(context, res);
    }
    this.#contexts.with(context, next);
  }

  /** {@link serve} as Express (and so Nest) middleware: `app.use(tracing.middleware())`, first. */
  middleware() {
    return (req: IncomingMessage, res: ServerResponse, next: () => void): void => this.serve(req, res, next);
  }

  /**
   * Runs `work` in a span, a child of the current one. A failure sets the span's status and `error.type` (the error's
   * name, never its message) and is passed on.
   */
  span<T>(name: string, options: TracedSpanOptions, work: (span: SpanAttributes) => Promise<T>): Promise<T> {
    const parent = this.#contexts.active();
    if (options.withinTrace && trace.getSpan(parent) === undefined) return work(UNTRACED);
    const span = this.#tracer.startSpan(
      name,
      {
        kind: options.kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL,
        attributes: options.attributes,
      },
      parent,
    );
    return this.#contexts.with(trace.setSpan(parent, span), async () => {
      try {
        return await work(span);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', error instanceof Error ? error.name : typeof error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /** The W3C Trace Context fields of the current span (`traceparent`, `tracestate`), for a request to send. */
  headers(): Record<string, string> {
    const fields: Record<string, string> = {};
    propagator.inject(this.#contexts.active(), fields, defaultTextMapSetter);
    return fields;
  }

  /**
   * Exports the spans still queued and stops, within {@link TRACES_FLUSH_MS}: a collector that is down must not hold
   * up the app's exit (its failure is in the log already).
   */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, TRACES_FLUSH_MS)));
    await Promise.race([this.#provider.shutdown().catch(() => undefined), late]);
    clearTimeout(timer);
  }
}

function samplerOf(config: TracingConfig): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG);
  switch (config.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * The OTLP exporter, its failures in the log (once a minute at most): the spans it could not deliver are dropped, and
 * whoever reads the traces should learn why some are missing.
 */
class ReportedExporter implements SpanExporter {
  #lastWarning = 0;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly collector: string,
    private readonly logger: Logger | undefined,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exporter.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.#warn(spans.length, result.error);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.exporter.forceFlush?.() ?? Promise.resolve();
  }

  #warn(spans: number, error: Error | undefined): void {
    const now = Date.now();
    if (this.logger === undefined || now - this.#lastWarning < EXPORT_WARNING_INTERVAL_MS) return;
    this.#lastWarning = now;
    // The error's name and code only: a collector's answer may echo what it was sent, its credentials included.
    const code = (error as { code?: unknown } | undefined)?.code;
    this.logger.warn(
      { collector: this.collector, spans, error: { name: error?.name, code } },
      'spans could not be exported; they are dropped',
    );
  }
}
