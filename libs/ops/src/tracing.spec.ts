import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { Registry } from 'prom-client';
import { checkConfig } from '@cloakroom/config';
import { Envelope, newSecret } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { capturedLogger } from '../../../test/support/captured-logger.fixture.js';
import { instrumentStore } from './store.metrics.js';
import { TracingConfig, tracesEndpoint } from './tracing.config.js';
import { startTracing } from './tracing.js';
import type { Tracing } from './tracing.js';

const servers: Server[] = [];
const started: Tracing[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const tracing of started.splice(0)) await tracing.shutdown();
});

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const ON = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' };

/** Tracing for a test, its spans in memory. */
async function tracingWith(env: Record<string, string> = ON, serviceName = 'test-app') {
  const exporter = new InMemorySpanExporter();
  const { config, problems } = checkConfig(TracingConfig, env);
  expect(problems).toEqual([]);
  const tracing = (await startTracing(config, { serviceName, exporter }))!;
  started.push(tracing);
  return { tracing, exporter };
}

/** The finished spans, once `count` of them have ended (a server span ends after its answer has gone). */
async function spans(exporter: InMemorySpanExporter, count: number): Promise<ReadableSpan[]> {
  const deadline = Date.now() + 3000;
  while (exporter.getFinishedSpans().length < count && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return exporter.getFinishedSpans();
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
const TRACEPARENT_FIELD = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

describe(TracingConfig.name, () => {
  it('is off without an endpoint, and posts to <endpoint>/v1/traces or to the traces endpoint as it is', async () => {
    const endpoint = (env: Record<string, string>) => tracesEndpoint(checkConfig(TracingConfig, env).config);
    expect(endpoint({})).toBeUndefined();
    expect(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBeUndefined();
    expect(await startTracing(checkConfig(TracingConfig, {}).config, { serviceName: 'x' })).toBeUndefined();
    expect(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/base/' })).toBe(
      'https://otel.example/base/v1/traces',
    );
    expect(
      endpoint({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
      }),
    ).toBe('http://traces:9999/custom');
  });

  it('names every bad setting', () => {
    const { problems } = checkConfig(TracingConfig, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://x',
      OTEL_EXPORTER_OTLP_HEADERS: 'no pairs here',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '1.5',
    });
    expect(problems.map((p) => p.slice(0, p.indexOf(':')))).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
    ]);
    for (const value of ['half', '-0.1', '2'])
      expect(new Set(checkConfig(TracingConfig, { OTEL_TRACES_SAMPLER_ARG: value }).problems)).toEqual(
        new Set(['OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1']),
      );
  });
});

describe('Tracing', () => {
  it("continues the caller's traceparent in a server span named by the route template, with method, route and status only", async () => {
    const { tracing, exporter } = await tracingWith();
    const url = await serve((req, res) =>
      tracing.serve(req, res, () => {
        res.statusCode = 201;
        res.end('done');
      }),
    );
    const response = await fetch(`${url}/orders/Zk3q2V6d9xYbLmN0pQr7sT?token=secret-in-query`, {
      headers: { traceparent: TRACEPARENT, cookie: 'session=cookie-value', authorization: 'Bearer tok' },
    });
    await response.arrayBuffer();

    const [span] = await spans(exporter, 1);
    expect(span!.name).toBe('GET /orders/:id');
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(span!.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/orders/:id',
      'http.response.status_code': 201,
    });
    expect(span!.resource.attributes['service.name']).toBe('test-app');
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('starts a trace of its own for a request without a valid traceparent, and names a 404 that matched nothing by its method', async () => {
    const { tracing, exporter } = await tracingWith();
    const url = await serve((req, res) =>
      tracing.serve(req, res, () => {
        res.statusCode = 404;
        res.end();
      }),
    );
    for (const traceparent of ['00-nonsense', `00-${'0'.repeat(32)}-${CALLER_SPAN}-01`, undefined]) {
      const response = await fetch(`${url}/no/such/path`, {
        headers: traceparent === undefined ? {} : { traceparent },
      });
      await response.arrayBuffer();
    }
    const ended = await spans(exporter, 3);
    expect(ended.map((s) => s.name)).toEqual(['GET', 'GET', 'GET']);
    expect(ended.map((s) => s.parentSpanContext)).toEqual([undefined, undefined, undefined]);
    expect(ended.every((s) => s.attributes['http.route'] === undefined)).toBe(true);
    expect(new Set(ended.map((s) => s.spanContext().traceId)).size).toBe(3);
  });

  it("takes any trace fields a client sends without failing: a malformed traceparent starts a trace, a tracestate is kept within W3C's bounds", async () => {
    const { tracing, exporter } = await tracingWith();
    const forwarded: Array<Record<string, string>> = [];
    const url = await serve((req, res) =>
      tracing.serve(
        req,
        res,
        () => {
          void tracing.span('call', { kind: 'client' }, async () => {
            forwarded.push(tracing.headers());
            res.end();
          });
        },
        { route: '/x' },
      ),
    );
    const hostile: Array<Record<string, string | string[]>> = [
      { traceparent: 'x'.repeat(8000) },
      { traceparent: `ff-${TRACE_ID}-${CALLER_SPAN}-01` },
      { traceparent: `00-${TRACE_ID.toUpperCase()}-${CALLER_SPAN}-01` },
      { traceparent: `00-${TRACE_ID}-${'0'.repeat(16)}-01` },
      { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01-extra` },
      { traceparent: [TRACEPARENT, `00-${'1'.repeat(32)}-${CALLER_SPAN}-01`] },
      {
        traceparent: TRACEPARENT,
        tracestate: Array.from({ length: 100 }, (_, i) => `k${i}=v${i}`).join(','),
      },
      { traceparent: TRACEPARENT, tracestate: `a=${'b'.repeat(6000)},=,,;;, c=d ,ü=1,k=ü` },
      { traceparent: TRACEPARENT, tracestate: ['a=1', 'b=2', 'a=3'] },
    ];
    for (const headers of hostile) {
      const status = await new Promise<number>((resolve, reject) =>
        request(url, { headers }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
          .on('error', reject)
          .end(),
      );
      expect(status).toBe(200);
    }
    const ended = await spans(exporter, hostile.length * 2);
    expect(ended.filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(hostile.length);
    for (const fields of forwarded) {
      expect(fields.traceparent).toMatch(TRACEPARENT_FIELD);
      expect((fields.tracestate ?? '').length).toBeLessThanOrEqual(32 * 257);
      expect((fields.tracestate ?? '').split(',').filter(Boolean).length).toBeLessThanOrEqual(32);
    }
    expect(forwarded).toHaveLength(hostile.length);
  });

  it('takes the route Express matched, and marks a 5xx as an error', async () => {
    const { tracing, exporter } = await tracingWith();
    const app = express();
    app.use(tracing.middleware());
    app.get('/interaction/:uid', (_req, res) => {
      res.status(503).end();
    });
    const url = await serve(app);
    await (await fetch(`${url}/interaction/abc`)).arrayBuffer();
    const [span] = await spans(exporter, 1);
    expect(span!.name).toBe('GET /interaction/:uid');
    expect(span!.attributes['http.response.status_code']).toBe(503);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("keeps the request's context through its body events: spans and trace fields made after the body is read belong to the server span", async () => {
    const { tracing, exporter } = await tracingWith();
    let sent: Record<string, string> = {};
    const upload = (bindListeners: boolean) =>
      serve((req, res) =>
        tracing.serve(
          req,
          res,
          () => {
            // Listeners run in the context of whatever emits: the connection, unless the server span binds them.
            req.on('data', () => undefined);
            req.on('end', () => {
              void tracing.span('after the body', { kind: 'client' }, async () => {
                sent = tracing.headers();
                res.end('ok');
              });
            });
          },
          { route: '/upload', bindListeners },
        ),
      );
    const response = await fetch(`${await upload(true)}/upload`, {
      method: 'POST',
      body: 'x'.repeat(100_000),
    });
    await response.arrayBuffer();

    const ended = await spans(exporter, 2);
    const server = ended.find((s) => s.kind === SpanKind.SERVER)!;
    const child = ended.find((s) => s.name === 'after the body')!;
    expect(child.kind).toBe(SpanKind.CLIENT);
    expect(child.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    const [, traceId, spanId] = TRACEPARENT_FIELD.exec(sent.traceparent ?? '') ?? [];
    expect(traceId).toBe(server.spanContext().traceId);
    expect(spanId).toBe(child.spanContext().spanId);

    // Without the binding (a handler that only awaits needs none), the listener is outside the request's trace.
    exporter.reset();
    const unbound = await fetch(`${await upload(false)}/upload`, {
      method: 'POST',
      body: 'x'.repeat(100_000),
    });
    await unbound.arrayBuffer();
    const apart = await spans(exporter, 2);
    const alone = apart.find((s) => s.name === 'after the body')!;
    expect(alone.spanContext().traceId).not.toBe(
      apart.find((s) => s.kind === SpanKind.SERVER)!.spanContext().traceId,
    );
  });

  it("records a failure's type and status, never its message, and passes it on", async () => {
    const { tracing, exporter } = await tracingWith();
    class RefreshRejected extends Error {
      override readonly name = 'RefreshRejected';
    }
    await expect(
      tracing.span('token refresh', { attributes: { 'cloakroom.kind': 'grant' } }, async () => {
        throw new RefreshRejected('invalid_grant for refresh token rt-secret-value');
      }),
    ).rejects.toBeInstanceOf(RefreshRejected);
    const [span] = await spans(exporter, 1);
    expect(span!.kind).toBe(SpanKind.INTERNAL);
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span!.attributes).toEqual({ 'cloakroom.kind': 'grant', 'error.type': 'RefreshRejected' });
    const { name, attributes, events, links, status } = span!;
    expect(JSON.stringify({ name, attributes, events, links, status })).not.toContain('rt-secret-value');
  });

  it('gives no trace fields outside a span', async () => {
    const { tracing } = await tracingWith();
    expect(tracing.headers()).toEqual({});
  });

  it('keeps the spans of two apps in one process apart, each under its own service name', async () => {
    const first = await tracingWith(ON, 'first');
    const second = await tracingWith(ON, 'second');
    await first.tracing.span('one', {}, () =>
      second.tracing.span('two', {}, async () => second.tracing.headers()),
    );
    const [one] = await spans(first.exporter, 1);
    const [two] = await spans(second.exporter, 1);
    expect(one!.resource.attributes['service.name']).toBe('first');
    expect(two!.resource.attributes['service.name']).toBe('second');
    expect(first.exporter.getFinishedSpans()).toHaveLength(1);
    // One context per process: the second app's span continues the first's, as a call across them would.
    expect(two!.parentSpanContext?.spanId).toBe(one!.spanContext().spanId);
  });

  it("with traceidratio, records no more than the share asked, whatever the caller's flag says, and still passes the trace on", async () => {
    const { tracing, exporter } = await tracingWith({
      ...ON,
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    });
    let sent: Record<string, string> = {};
    const url = await serve((req, res) =>
      tracing.serve(
        req,
        res,
        () => {
          sent = tracing.headers();
          res.end();
        },
        { route: '/x' },
      ),
    );
    await (await fetch(url, { headers: { traceparent: TRACEPARENT } })).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(sent.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));

    const parentBased = await tracingWith({
      ...ON,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    });
    await parentBased.tracing.span('new trace', {}, async () => undefined);
    expect(parentBased.exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('instrumentStore with tracing', () => {
  const raw = new MemorySealedStore(new Envelope());
  afterAll(() => raw.close());

  it('makes each operation within a trace a span, and none for work outside any', async () => {
    const { tracing, exporter } = await tracingWith();
    const store = instrumentStore(raw, new Registry(), tracing);
    const secret = newSecret();
    await store.ping();
    expect(exporter.getFinishedSpans()).toEqual([]);

    await tracing.span('request', {}, async () => {
      await store.put('t.traces', secret, { v: 1 }, 60);
      expect(await store.get('t.traces', secret)).toEqual({ v: 1 });
    });
    const ended = await spans(exporter, 3);
    const request = ended.find((s) => s.name === 'request')!;
    const operations = ended.filter((s) => s !== request);
    expect(operations.map((s) => [s.name, s.attributes])).toEqual([
      ['store put', { 'cloakroom.store.operation': 'put' }],
      ['store get', { 'cloakroom.store.operation': 'get' }],
    ]);
    expect(operations.every((s) => s.parentSpanContext?.spanId === request.spanContext().spanId)).toBe(true);
    expect(JSON.stringify(ended.map((s) => s.attributes))).not.toContain(secret);
  });
});

describe('export over OTLP/HTTP', () => {
  it('posts the spans to the collector as JSON with the configured headers when the app stops, and logs failures without their detail', async () => {
    const received: Array<{ url?: string; headers: IncomingHttpHeaders; body: string }> = [];
    const collector = await serve((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const { config } = checkConfig(TracingConfig, {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector,
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-key,x-tenant=cloakroom',
      OTEL_SERVICE_NAME: 'gateway-eu-1',
    });
    const tracing = (await startTracing(config, { serviceName: 'gateway' }))!;
    await tracing.span('store get', { attributes: { 'cloakroom.store.operation': 'get' } }, async () => 1);
    await tracing.shutdown();

    expect(received).toHaveLength(1);
    expect(received[0]!.url).toBe('/v1/traces');
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers.authorization).toBe('Bearer collector-key');
    expect(received[0]!.headers['x-tenant']).toBe('cloakroom');
    const body = received[0]!.body;
    expect(body).toContain('"store get"');
    expect(body).toContain('"gateway-eu-1"');

    // A collector that refuses, echoing what it was sent: the log says so without repeating it.
    const refusing = await serve((req, res) => {
      req.resume();
      res.writeHead(401).end(`unknown key ${req.headers.authorization}`);
    });
    const { logger, entries } = capturedLogger();
    const refused = (await startTracing(
      checkConfig(TracingConfig, {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${refusing}/custom/path`,
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=collector-key',
      }).config,
      { serviceName: 'gateway', logger },
    ))!;
    await refused.span('lost', {}, async () => undefined);
    await refused.shutdown();
    expect(entries()).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'spans could not be exported; they are dropped',
        collector: refusing,
        spans: 1,
      }),
    ]);
    expect(JSON.stringify(entries())).not.toContain('collector-key');
  });
});
