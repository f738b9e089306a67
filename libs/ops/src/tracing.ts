import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { tracesEndpoint } from './tracing.config.js';
import type { TracingConfig } from './tracing.config.js';
import type { Tracing } from './opentelemetry.tracing.js';

export type { Tracing } from './opentelemetry.tracing.js';

export interface TracingOptions {
  /** The app's name: the spans' `service.name` unless OTEL_SERVICE_NAME says otherwise. */
  serviceName: string;
  /** Takes the spans in place of the OTLP exporter, each one as it ends (tests). Used only when tracing is on. */
  exporter?: SpanExporter;
  /** Where failed exports are reported. */
  logger?: Logger;
}

export type SpanAttributeValue = string | number | boolean;

export interface TracedSpanOptions {
  /** `client` for a request to another service, which carries the span's trace context; `internal` by default. */
  kind?: 'client' | 'internal';
  /** Fixed words, numbers and templates only: never a token, a cookie, a path or a user. */
  attributes?: Record<string, SpanAttributeValue>;
  /** Only as a part of a trace under way: work outside any (a health probe's store ping) makes no trace of its own. */
  withinTrace?: boolean;
}

export interface ServeOptions {
  /** The route template when the caller knows it (`/api/*`); else the framework's match, read at the end. */
  route?: string;
  /**
   * Whether listeners later added to the request and the response run in the span's context (default true): needed
   * where handling goes on from an event (a body parser calling the next middleware on `end`), not where it only
   * awaits promises (a proxy). Each bound listener costs a wrapper and a context switch per event.
   */
  bindListeners?: boolean;
}

/** What work in a span may add once it knows more (the status of an answer). */
export interface SpanAttributes {
  setAttribute(key: string, value: SpanAttributeValue): unknown;
}

/** The longest an app's close waits for its last spans to be exported. */
export const TRACES_FLUSH_MS = 1000;

/**
 * The app's tracing when its settings name an OTLP endpoint; otherwise undefined, and the app makes no span, keeps no
 * context and adds no trace field to any request: the OpenTelemetry SDK is not even loaded.
 */
export async function startTracing(
  config: TracingConfig,
  options: TracingOptions,
): Promise<Tracing | undefined> {
  const endpoint = tracesEndpoint(config);
  if (endpoint === undefined) return undefined;
  const { createTracing } = await import('./opentelemetry.tracing.js');
  return createTracing(config, endpoint, options);
}
