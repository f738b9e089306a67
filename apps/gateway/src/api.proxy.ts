import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { BffSessions, type HotSession, RefreshUnavailable, ResourceRefused } from '@cloakroom/bff-session';
import { StoreUnavailable } from '@cloakroom/sealed-store';
import { checkCsrf } from './csrf.js';
import { CsrfRejected, UpstreamFailed } from './errors.js';
import type { GatewayMetrics } from './gateway.metrics.js';
import { SessionCookies } from './session.cookie.js';
import { forwardedRequestHeaders, relayedResponseHeaders } from './upstream.headers.js';
import { UpstreamTransport, type UpstreamTransportOptions } from './upstream.transport.js';

export interface ProxyRoute {
  prefix: string;
  upstream: URL;
  /** The resource whose token this route forwards, when it is not the login's. */
  resource?: string;
}

export interface ApiProxyOptions {
  routes: ProxyRoute[];
  sessions: BffSessions;
  cookies: SessionCookies;
  allowedOrigins: string[];
  publicUrl: URL;
  headerBudgetBytes: number;
  /** A forwarded `Authorization` line above this is not sent at all. */
  authorizationMaxBytes: number;
  transport: UpstreamTransportOptions;
  metrics: GatewayMetrics;
  warn: (message: string) => void;
}

const DOT_SEGMENT = /\/(\.|%2e){1,2}(\/|\?|#|%2f|%5c|\\|$)|\\|%5c/i;
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * The hot path, outside the web framework: cookie → slot → session (cache or store) → forward with the bearer token
 * through {@link UpstreamTransport}, bodies streamed both ways.
 */
export class ApiProxy {
  private readonly transport: UpstreamTransport;
  private readonly allowedOrigins: Set<string>;
  private readonly forwardedProto: string;
  private readonly forwardedHost: string;
  private lastBudgetWarning = 0;
  private readonly latency = new Map<string, { observe(value: number): void }>();

  constructor(private readonly options: ApiProxyOptions) {
    this.allowedOrigins = new Set(options.allowedOrigins);
    this.forwardedProto = options.publicUrl.protocol.slice(0, -1);
    this.forwardedHost = options.publicUrl.host;
    this.transport = new UpstreamTransport(options.transport);
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
      if (BffSessions.isTicket(ticket))
        session = await this.options.sessions.authorize(ticket, route.resource);
    } catch (error) {
      if (error instanceof StoreUnavailable)
        return sendJson(res, 503, { error: 'session_store_unavailable' });
      if (error instanceof RefreshUnavailable)
        return sendJson(res, 503, { error: 'authorization_server_unavailable' });
      if (error instanceof ResourceRefused) {
        this.options.warn(`route ${route.prefix}: ${error.message}`);
        return sendJson(res, 502, {
          error: 'upstream_token_unavailable',
          reason: "the authorization server issues no token for this route's API to this gateway",
        });
      }
      throw error;
    }
    if (session === undefined) return this.unauthenticated(req, res, ticket !== undefined);
    await this.forward(req, res, route, session);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    route: ProxyRoute,
    session: HotSession,
  ): Promise<void> {
    const headers = forwardedRequestHeaders(req.headers);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-proto'] = this.forwardedProto;
    headers['x-forwarded-host'] = this.forwardedHost;
    headers.authorization = session.authorization;
    const authorizationLine = 'Authorization: \r\n'.length + session.authorization.length;
    this.observeHeader(authorizationLine);
    if (authorizationLine > this.options.authorizationMaxBytes) {
      this.options.metrics.upstreamRefusals.inc({ route: route.prefix, reason: 'token_too_large' });
      this.options.warn(
        `route ${route.prefix}: not forwarded, its Authorization line would be ${authorizationLine} bytes, over GATEWAY_AUTHORIZATION_MAX_BYTES (${this.options.authorizationMaxBytes}); give the API's resource a tokenBudgetBytes`,
      );
      return sendJson(res, 502, {
        error: 'upstream_token_too_large',
        reason: "the access token for this route's API is too large to forward",
      });
    }
    const method = req.method ?? 'GET';
    const hasBody =
      !BODYLESS.has(method) ||
      req.headers['content-length'] !== undefined ||
      req.headers['transfer-encoding'] !== undefined;
    const basePath = route.upstream.pathname === '/' ? '' : route.upstream.pathname.replace(/\/$/, '');
    const started = performance.now();
    try {
      const status = await this.transport.forward(
        {
          upstream: route.upstream,
          owner: session.sidKey || session.subKey,
          method,
          path: basePath + req.url,
          headers,
          body: hasBody ? req : null,
        },
        res,
        (statusCode, upstreamHeaders) => relayedResponseHeaders(statusCode, method, upstreamHeaders),
      );
      this.observeUpstream(route.prefix, STATUS_CLASSES[Math.floor(status / 100)] ?? 'other', started);
    } catch (error) {
      if (!(error instanceof UpstreamFailed)) throw error;
      this.observeUpstream(route.prefix, error.status === 504 ? 'timeout' : 'unreachable', started);
      if (error.reason === 'request_headers_refused') {
        this.options.metrics.upstreamRefusals.inc({ route: route.prefix, reason: 'headers_refused' });
        this.options.warn(
          `route ${route.prefix}: the upstream answered 431 to a request whose Authorization line was ${authorizationLine} bytes`,
        );
      }
      if (res.headersSent || res.destroyed) return;
      sendJson(res, error.status, { error: error.error, reason: error.reason });
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
