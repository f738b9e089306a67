import type { IncomingMessage, ServerResponse } from 'node:http';

export type TraceAttributeValue = string | number | boolean;

/** What work in a span may add once it knows more (the status of an answer). */
export interface TraceSpan {
  setAttribute(key: string, value: TraceAttributeValue): unknown;
}

/**
 * Trace spans of the BFF's work, made by the app (the gateway passes `@cloakroom/ops`'s Tracing, which fits). Without
 * one nothing is traced, and a client's `traceparent` goes upstream as any other field.
 */
export interface BffTracing {
  /**
   * A server span for the request, continuing its `traceparent`; `next` runs in its context, and with
   * `bindListeners` (the default) so do the listeners of the request and the response. `route` names the span.
   */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    next: () => void,
    options?: { route?: string; bindListeners?: boolean },
  ): void;
  /** Runs `work` in a child span of the current one. Attributes are fixed words, numbers and templates only. */
  span<T>(
    name: string,
    options: { kind?: 'client' | 'internal'; attributes?: Record<string, TraceAttributeValue> },
    work: (span: TraceSpan) => Promise<T>,
  ): Promise<T>;
  /** The W3C Trace Context fields (`traceparent`, `tracestate`) of the current span, for a request to send. */
  headers(): Record<string, string>;
}
