import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { startAuthorizationServer } from '../apps/authorization-server/src/bootstrap.js';
import { startDemoApi } from '../apps/demo-api/src/bootstrap.js';
import { startGateway } from '../apps/gateway/src/bootstrap.js';
import { OPAQUE_RESOURCE, RS } from './support/authorization-server.js';
import { GATEWAY_CLIENT_SECRET, startStack } from './support/stack.js';
import type { Stack } from './support/stack.js';

const PASSWORD = 'wonderland';

/** A `traceparent` as a browser's tracing would send it: a new trace, its own span, sampled. */
function browserTrace() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const service = (span: ReadableSpan) => span.resource.attributes['service.name'];
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

/** Every span of the trace once `done` finds what it waits for: spans end as their answers finish, a little apart. */
async function traceSpans(
  exporter: InMemorySpanExporter,
  traceId: string,
  done: (spans: ReadableSpan[]) => boolean,
): Promise<ReadableSpan[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    if (done(spans) || Date.now() > deadline) return spans;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The one span of `spans` that matches, with a message naming what is there when there is not exactly one. */
function one(spans: ReadableSpan[], what: string, test: (span: ReadableSpan) => boolean): ReadableSpan {
  const found = spans.filter(test);
  if (found.length !== 1) {
    const seen = spans.map((s) => `${String(service(s))} ${SpanKind[s.kind]} ${s.name}`).join('; ');
    throw new Error(`expected one ${what}, found ${found.length} among: ${seen}`);
  }
  return found[0]!;
}

/** Everything a span carries that someone reading traces would see. */
function serialized(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    events: span.events,
    links: span.links,
    status: span.status,
    resource: span.resource.attributes,
    scope: span.instrumentationScope,
  });
}

describe('traces from the browser through the gateway and the demo API to the authorization server', () => {
  const exporter = new InMemorySpanExporter();
  /** Every token, code and id token the authorization server handed out, as sent. */
  const issued: string[] = [];
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      api: 'demo',
      // Opaque tokens: the demo API asks the authorization server about each one (introspection).
      apiResource: OPAQUE_RESOURCE,
      // Below the gateway's 30-second refresh skew: every proxied request refreshes first.
      opaqueTokenTtlSeconds: 20,
      spanExporter: exporter,
    });
    const provider = stack.as!.provider;
    provider.on('access_token.saved', (token) => issued.push(token.jti));
    provider.on('refresh_token.saved', (token) => issued.push(token.jti));
    provider.on('authorization_code.saved', (code) => issued.push(code.jti));
    provider.on('grant.success', (ctx) => {
      const body = ctx.body as Record<string, unknown> | undefined;
      for (const field of ['access_token', 'refresh_token', 'id_token']) {
        if (typeof body?.[field] === 'string') issued.push(body[field]);
      }
    });
  }, 60_000);

  afterAll(() => stack?.stop());

  it('makes one trace of a proxied request: browser → gateway → upstream call → API → introspection → authorization server, with store and refresh spans, and no secret anywhere', async () => {
    const { browser, ticket } = await stack.login('alice', PASSWORD);
    const browserSpan = browserTrace();
    const response = await browser.fetch(`${stack.gatewayUrl}/api/whoami?group=admins`, {
      headers: { traceparent: browserSpan.traceparent },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: 'alice', via: 'introspection' });

    const isServer = (name: string, span: ReadableSpan) =>
      span.kind === SpanKind.SERVER && service(span) === name;
    const spans = await traceSpans(
      exporter,
      browserSpan.traceId,
      (all) =>
        all.some((s) => isServer('gateway', s)) &&
        all.some((s) => isServer('demo-api', s)) &&
        all.filter((s) => isServer('authorization-server', s)).length >= 2,
    );

    // One trace across the three services, each named by its resource.
    expect(new Set(spans.map(service))).toEqual(new Set(['gateway', 'demo-api', 'authorization-server']));

    const gateway = one(spans, 'gateway server span', (s) => isServer('gateway', s));
    expect(gateway.name).toBe('GET /api/*');
    expect(parentOf(gateway)).toBe(browserSpan.spanId);
    expect(gateway.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/api/*',
      'http.response.status_code': 200,
    });

    const upstream = one(spans, 'upstream span', (s) => s.name === 'upstream GET /api/*');
    expect(service(upstream)).toBe('gateway');
    expect(upstream.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(upstream)).toBe(idOf(gateway));
    expect(upstream.attributes['http.response.status_code']).toBe(200);

    const api = one(spans, 'demo API server span', (s) => isServer('demo-api', s));
    expect(api.name).toBe('GET /api/whoami');
    // The gateway's span, not the browser's: the gateway put its own traceparent in place of the client's.
    expect(parentOf(api)).toBe(idOf(upstream));
    expect(api.attributes['http.route']).toBe('/api/whoami');

    const introspection = one(spans, 'introspection span', (s) => s.name === 'introspection');
    expect(service(introspection)).toBe('demo-api');
    expect(introspection.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(introspection)).toBe(idOf(api));

    const introspected = one(
      spans,
      'authorization server span of the introspection',
      (s) => isServer('authorization-server', s) && parentOf(s) === idOf(introspection),
    );
    expect(introspected.name).toBe('POST /token/introspection');
    expect(introspected.attributes['http.response.status_code']).toBe(200);
    const asStore = spans.filter(
      (s) => service(s) === 'authorization-server' && parentOf(s) === idOf(introspected),
    );
    expect(asStore.length).toBeGreaterThan(0);
    expect(asStore.every((s) => s.name.startsWith('store ') && s.kind === SpanKind.INTERNAL)).toBe(true);

    // The refresh (the access token is close to its end), its token request carrying the refresh span.
    const refresh = one(spans, 'refresh span', (s) => s.name === 'token refresh');
    expect(service(refresh)).toBe('gateway');
    expect(parentOf(refresh)).toBe(idOf(gateway));
    const grant = one(
      spans,
      'authorization server span of the refresh grant',
      (s) => isServer('authorization-server', s) && parentOf(s) === idOf(refresh),
    );
    expect(grant.name).toBe('POST /token');

    // The gateway's session store: read, then written back with the new tokens.
    const gatewayStore = spans.filter((s) => service(s) === 'gateway' && s.name.startsWith('store '));
    expect(gatewayStore.map((s) => s.name)).toEqual(expect.arrayContaining(['store get', 'store put']));
    expect(gatewayStore.every((s) => parentOf(s) === idOf(gateway))).toBe(true);
    expect(gatewayStore[0]!.attributes['cloakroom.store.operation']).toBe(gatewayStore[0]!.name.slice(6));

    // No secret in any span of any trace: not the cookie, a token, a code, a client secret or the password.
    const everything = exporter.getFinishedSpans().map(serialized).join('\n');
    const secrets = [
      ticket,
      ...issued,
      GATEWAY_CLIENT_SECRET,
      RS.client_secret,
      Buffer.from(`${RS.client_id}:${RS.client_secret}`).toString('base64'),
      PASSWORD,
    ];
    expect(issued.length).toBeGreaterThanOrEqual(4);
    for (const secret of secrets) expect(everything).not.toContain(secret);
    // Nor the query string.
    expect(everything).not.toContain('admins');
  });
});

describe('a gateway without tracing settings', () => {
  const exporter = new InMemorySpanExporter();
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      api: 'demo',
      apiResource: OPAQUE_RESOURCE,
      spanExporter: exporter,
      // The authorization server and the demo API trace; the gateway has no endpoint.
      gatewayEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: '' },
    });
  }, 60_000);

  afterAll(() => stack?.stop());

  it("exports nothing and adds no traceparent of its own: the API continues the browser's trace, or starts one", async () => {
    const { browser } = await stack.login('alice', PASSWORD);
    const apiSpans = () =>
      exporter.getFinishedSpans().filter((s) => service(s) === 'demo-api' && s.kind === SpanKind.SERVER);

    const browserSpan = browserTrace();
    const traced = await browser.fetch(`${stack.gatewayUrl}/api/whoami`, {
      headers: { traceparent: browserSpan.traceparent },
    });
    expect(traced.status).toBe(200);
    await traced.arrayBuffer();
    const [continued] = await traceSpans(exporter, browserSpan.traceId, (spans) =>
      spans.some((s) => service(s) === 'demo-api' && s.kind === SpanKind.SERVER),
    ).then((spans) => spans.filter((s) => service(s) === 'demo-api' && s.kind === SpanKind.SERVER));
    expect(parentOf(continued!)).toBe(browserSpan.spanId);

    const before = apiSpans().length;
    const untraced = await browser.fetch(`${stack.gatewayUrl}/api/whoami`);
    expect(untraced.status).toBe(200);
    await untraced.arrayBuffer();
    const deadline = Date.now() + 5000;
    while (apiSpans().length === before && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 25));
    const started = apiSpans().at(-1)!;
    expect(apiSpans()).toHaveLength(before + 1);
    expect(started.parentSpanContext).toBeUndefined();

    expect(exporter.getFinishedSpans().filter((s) => service(s) === 'gateway')).toEqual([]);
  });
});

describe('tracing settings', () => {
  const bad = { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_TRACES_SAMPLER: 'sometimes' };
  const named = (problems: string[]) => problems.map((p) => p.slice(0, p.indexOf(':')));

  it('are checked by every app with its other settings, every problem reported at once', async () => {
    const as = await startAuthorizationServer({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...bad,
      ACCESS_TOKEN_TTL_SECONDS: 'soon',
    }).then(
      () => undefined,
      (error: { problems: string[] }) => named(error.problems),
    );
    expect(as).toEqual(
      expect.arrayContaining([
        'ACCESS_TOKEN_TTL_SECONDS',
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'OTEL_TRACES_SAMPLER',
      ]),
    );

    const gateway = await startGateway({ PORT: '0', ...bad, GATEWAY_ROUTES: 'nowhere' }).then(
      () => undefined,
      (error: { problems: string[] }) => named(error.problems),
    );
    expect(gateway).toEqual(
      expect.arrayContaining(['GATEWAY_ROUTES', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_TRACES_SAMPLER']),
    );

    const api = await startDemoApi({ PORT: '0', ...bad, TOKEN_VALIDATION: 'trust' }).then(
      () => undefined,
      (error: { problems: string[] }) => named(error.problems),
    );
    expect(api).toEqual(
      expect.arrayContaining(['TOKEN_VALIDATION', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_TRACES_SAMPLER']),
    );
  });
});
