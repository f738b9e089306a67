export type TraceAttributeValue = string | number | boolean;

/** What work in a span may add once it knows more (the status of an answer). */
export interface TraceSpan {
  setAttribute(key: string, value: TraceAttributeValue): unknown;
}

/**
 * Trace spans around this library's calls to the authorization server (introspection, distributed claims), made by
 * the app (`@cloakroom/ops`'s Tracing fits). Without one nothing is traced and no `traceparent` is sent.
 */
export interface ResourceServerTracing {
  /** Runs `work` in a child span of the current one. Attributes are fixed words, numbers and templates only. */
  span<T>(
    name: string,
    options: { kind?: 'client' | 'internal'; attributes?: Record<string, TraceAttributeValue> },
    work: (span: TraceSpan) => Promise<T>,
  ): Promise<T>;
  /** The W3C Trace Context fields (`traceparent`, `tracestate`) of the current span, for a request to send. */
  headers(): Record<string, string>;
}

/**
 * `call` as a client span named `name` when there is tracing, given the header fields that carry the span (none
 * without tracing); the span takes the answer's status.
 */
export function tracedCall(
  tracing: ResourceServerTracing | undefined,
  name: string,
  target: URL,
  call: (trace: Record<string, string>) => Promise<Response>,
): Promise<Response> {
  if (tracing === undefined) return call({});
  const attributes = {
    'server.address': target.hostname,
    'server.port': Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
  };
  return tracing.span(name, { kind: 'client', attributes }, async (span) => {
    const response = await call(tracing.headers());
    span.setAttribute('http.response.status_code', response.status);
    return response;
  });
}
