import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Pool } from 'undici';
import { BffSessions, type HotSession, RefreshUnavailable } from '@cloakroom/bff-session';
import { StoreUnavailable } from '@cloakroom/sealed-store';
import { Http1Pool, UpstreamTimeout, type ResponseHead } from '@cloakroom/upstream-client';
import { checkCsrf } from './csrf.js';
import { CsrfRejected } from './errors.js';
import type { GatewayMetrics } from './gateway.metrics.js';
import { SessionCookies } from './session.cookie.js';

export interface ProxyRoute {
  prefix: string;
  upstream: URL;
}

export interface ApiProxyOptions {
  routes: ProxyRoute[];
  sessions: BffSessions;
  cookies: SessionCookies;
  allowedOrigins: string[];
  publicUrl: URL;
  headerBudgetBytes: number;
  upstreamTimeoutMs: number;
  connectTimeoutMs: number;
  metrics: GatewayMetrics;
  warn: (message: string) => void;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and what must never reach an upstream: our cookie, a client's own
// Authorization, client-supplied forwarding headers.
const DROPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'cookie',
  'authorization',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-csrf',
]);
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const DOT_SEGMENT = /\/(\.|%2e){1,2}(\/|\?|#|%2f|%5c|\\|$)|\\|%5c/i;
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * The hot path, outside the web framework: cookie → slot → session (cache or store) → forward with the
 * bearer token. Requests without a body to plain-http upstreams go through {@link Http1Pool}, which writes the
 * session's Authorization field as it is (the codec guarantees visible ASCII) instead of validating 8 KB again on
 * every request; requests with a body, and https upstreams, go through undici, bodies streamed both ways.
 */
export class ApiProxy {
  private readonly pools = new Map<string, Pool>();
  private readonly plainPools = new Map<string, Http1Pool>();
  private readonly allowedOrigins: Set<string>;
  private readonly forwardedProto: string;
  private readonly forwardedHost: string;
  private lastBudgetWarning = 0;
  private readonly latency = new Map<string, { observe(value: number): void }>();

  constructor(private readonly options: ApiProxyOptions) {
    this.allowedOrigins = new Set(options.allowedOrigins);
    this.forwardedProto = options.publicUrl.protocol.slice(0, -1);
    this.forwardedHost = options.publicUrl.host;
    for (const route of options.routes) {
      if (this.pools.has(route.upstream.origin)) continue;
      this.pools.set(
        route.upstream.origin,
        new Pool(route.upstream.origin, {
          connections: 128,
          pipelining: 1,
          headersTimeout: options.upstreamTimeoutMs,
          bodyTimeout: options.upstreamTimeoutMs,
          connect: { timeout: options.connectTimeoutMs },
        }),
      );
      if (route.upstream.protocol === 'http:') {
        this.plainPools.set(
          route.upstream.origin,
          new Http1Pool(route.upstream, {
            connections: 128,
            headersTimeoutMs: options.upstreamTimeoutMs,
            bodyTimeoutMs: options.upstreamTimeoutMs,
            connectTimeoutMs: options.connectTimeoutMs,
          }),
        );
      }
    }
  }

  /** The route serving this path, or undefined when the request is not for a proxied API. */
  match(url: string | undefined): ProxyRoute | undefined {
    if (!url) return undefined;
    for (const route of this.options.routes) {
      if (
        url.startsWith(route.prefix) &&
        (url.length === route.prefix.length || '/?'.includes(url[route.prefix.length]))
      ) {
        return route;
      }
    }
    return undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, route: ProxyRoute): Promise<void> {
    // Dot segments could make an upstream that normalises paths serve something outside the route.
    if (DOT_SEGMENT.test(req.url!)) return sendJson(res, 400, { error: 'invalid_path' });
    try {
      checkCsrf(req.method, req.headers, this.allowedOrigins);
    } catch (error) {
      if (error instanceof CsrfRejected)
        return sendJson(res, 403, { error: 'csrf_check_failed', reason: error.reason });
      throw error;
    }
    const ticket = SessionCookies.find(req.headers.cookie, this.options.cookies.session);
    let session: HotSession | undefined;
    try {
      if (BffSessions.isTicket(ticket)) session = await this.options.sessions.authorize(ticket);
    } catch (error) {
      if (error instanceof StoreUnavailable)
        return sendJson(res, 503, { error: 'session_store_unavailable' });
      if (error instanceof RefreshUnavailable)
        return sendJson(res, 503, { error: 'authorization_server_unavailable' });
      throw error;
    }
    if (session === undefined) return this.unauthenticated(req, res, ticket !== undefined);
    await this.forward(req, res, route, session);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values(), ...this.plainPools.values()].map((pool) => pool.close()));
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    route: ProxyRoute,
    session: HotSession,
  ): Promise<void> {
    const headers = forwardHeaders(req.headers);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-proto'] = this.forwardedProto;
    headers['x-forwarded-host'] = this.forwardedHost;
    this.observeHeader(session.authorization.length + 15);
    const method = req.method ?? 'GET';
    const hasBody =
      !BODYLESS.has(method) ||
      req.headers['content-length'] !== undefined ||
      req.headers['transfer-encoding'] !== undefined;
    const basePath = route.upstream.pathname === '/' ? '' : route.upstream.pathname.replace(/\/$/, '');
    const started = performance.now();
    let status = 0;
    const onHead = ({ status: statusCode, headers: upstreamHeaders }: ResponseHead) => {
      status = statusCode;
      this.observeUpstream(route.prefix, STATUS_CLASSES[Math.floor(statusCode / 100)] ?? 'other', started);
      res.writeHead(statusCode, responseHeaders(upstreamHeaders));
      return res;
    };
    const plain = hasBody ? undefined : this.plainPools.get(route.upstream.origin);
    try {
      if (plain) {
        await plain.stream(
          {
            method,
            path: basePath + req.url,
            fields: fieldLines(headers),
            largeField: { name: 'authorization', value: session.authorization },
          },
          onHead,
        );
      } else {
        headers.authorization = session.authorization;
        await this.pools
          .get(route.upstream.origin)!
          .stream(
            { path: basePath + req.url, method: method as 'GET', headers, body: hasBody ? req : null },
            ({ statusCode, headers: upstreamHeaders }) =>
              onHead({ status: statusCode, headers: upstreamHeaders as ResponseHead['headers'] }),
          );
      }
    } catch (error) {
      if (status !== 0 || res.headersSent) {
        res.destroy();
        return;
      }
      const code = (error as { code?: string }).code;
      const timeout =
        error instanceof UpstreamTimeout ||
        code === 'UND_ERR_HEADERS_TIMEOUT' ||
        code === 'UND_ERR_BODY_TIMEOUT';
      this.observeUpstream(route.prefix, timeout ? 'timeout' : 'unreachable', started);
      if (timeout) return sendJson(res, 504, { error: 'upstream_timeout' });
      return sendJson(res, 502, { error: 'upstream_unavailable' });
    }
  }

  private unauthenticated(req: IncomingMessage, res: ServerResponse, hadCookie: boolean): void {
    const clear = hadCookie ? { 'set-cookie': this.options.cookies.clearSession() } : {};
    const navigation =
      req.method === 'GET' &&
      (req.headers['sec-fetch-mode'] === 'navigate' ||
        (req.headers['sec-fetch-mode'] === undefined && (req.headers.accept ?? '').includes('text/html')));
    if (navigation) {
      res.writeHead(302, {
        location: `/auth/login?returnTo=${encodeURIComponent(req.url ?? '/')}`,
        ...clear,
      });
      res.end();
      return;
    }
    sendJson(res, 401, { error: 'unauthenticated' }, clear);
  }

  /** Label children are looked up once: resolving labels on every request costs more than observing. */
  private observeUpstream(route: string, status: string, started: number): void {
    const key = `${route} ${status}`;
    let child = this.latency.get(key);
    if (child === undefined) {
      child = this.options.metrics.upstreamLatency.labels(route, status);
      this.latency.set(key, child);
    }
    child.observe((performance.now() - started) / 1000);
  }

  private observeHeader(bytes: number): void {
    this.options.metrics.authorizationHeaderBytes.observe(bytes);
    if (bytes > this.options.headerBudgetBytes) {
      const now = Date.now();
      // One line a minute is enough to act on; one per request would flood the log.
      if (now - this.lastBudgetWarning > 60_000) {
        this.lastBudgetWarning = now;
        this.options.warn(
          `forwarded Authorization header is ${bytes} bytes, over the ${this.options.headerBudgetBytes}-byte budget (GATEWAY_HEADER_BUDGET_BYTES): upstream proxies with default limits may reject it`,
        );
      }
    }
  }
}

function forwardHeaders(incoming: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  // Headers named in Connection are hop-by-hop too.
  const named = incoming.connection ? incoming.connection.toLowerCase().split(/\s*,\s*/) : [];
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || DROPPED_REQUEST_HEADERS.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Header fields as `name: value` lines. Names and values come from Node's strict request parser (no CR, LF or
 * NUL) or from the gateway itself, so they are written as they are.
 */
function fieldLines(headers: Record<string, string | string[]>): string {
  let lines = '';
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') lines += `${name}: ${value}\r\n`;
    else for (const item of value) lines += `${name}: ${item}\r\n`;
  }
  return lines;
}

function responseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named =
    typeof upstream.connection === 'string' ? upstream.connection.toLowerCase().split(/\s*,\s*/) : [];
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || DROPPED_RESPONSE_HEADERS.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  const setCookie = out['set-cookie'];
  if (setCookie !== undefined) {
    // An upstream must not overwrite the gateway's own cookies.
    const list = (Array.isArray(setCookie) ? setCookie : [String(setCookie)]).filter(
      (line) => !SessionCookies.RESERVED.includes(line.slice(0, line.indexOf('=')).trim()),
    );
    out['set-cookie'] = list;
  }
  return out;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(json);
}
