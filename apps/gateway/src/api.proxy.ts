import { ServerResponse } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  BffSessions,
  type HotSession,
  type InvalidationBus,
  RefreshUnavailable,
  ResourceRefused,
} from '@cloakroom/bff-session';
import { StoreUnavailable } from '@cloakroom/sealed-store';
import { checkCsrf, checkWebSocketOrigin } from './csrf.js';
import { CsrfRejected, UpstreamFailed } from './errors.js';
import type { GatewayMetrics } from './gateway.metrics.js';
import { SessionCookies } from './session.cookie.js';
import { forwardedRequestHeaders, relayedResponseHeaders } from './upstream.headers.js';
import { UpstreamTransport, type UpstreamTransportOptions } from './upstream.transport.js';
import { WebSocketSessions } from './websocket.sessions.js';
import { isWebSocketHandshake, spliceWebSocket } from './websocket.splice.js';

export interface ProxyRoute {
  prefix: string;
  upstream: URL;
  /** The resource whose token this route forwards, when it is not the login's. */
  resource?: string;
}

export interface ApiProxyOptions {
  routes: ProxyRoute[];
  sessions: BffSessions;
  /** Carries session invalidations: open WebSockets of an ended session are closed. */
  bus: InvalidationBus;
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

/** Node 24.9+ asks the server which upgrade requests are upgrades (the typings do not have it yet). */
type UpgradeChoosing = Server & { shouldUpgradeCallback?: (req: IncomingMessage) => boolean };

const DOT_SEGMENT = /\/(\.|%2e){1,2}(\/|\?|#|%2f|%5c|\\|$)|\\|%5c/i;
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * The hot path, outside the web framework: cookie → slot → session (cache or store) → forward with the bearer token
 * through {@link UpstreamTransport}, bodies streamed both ways.
 */
export class ApiProxy {
  private readonly transport: UpstreamTransport;
  private readonly webSockets: WebSocketSessions;
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
    this.webSockets = new WebSocketSessions(options.sessions, options.bus);
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
    const session = await this.authorize(req, res, route);
    if (session !== undefined) await this.forward(req, res, route, session);
  }

  /**
   * Makes Node hand WebSocket handshakes for the proxied routes to {@link upgrade}; any other request that asks for
   * an upgrade is served as plain HTTP (Node 24.9+; older versions hand every upgrade request over).
   */
  serveUpgrades(server: Server): void {
    (server as UpgradeChoosing).shouldUpgradeCallback = (req) =>
      isWebSocketHandshake(req) && this.match(req.url) !== undefined;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node leaves an upgraded socket without an error listener: one error would end the process.
      socket.on('error', () => socket.destroy());
      this.upgrade(req, socket, head).catch((error: unknown) => {
        this.options.warn(`websocket proxy failed: ${error instanceof Error ? error.name : typeof error}`);
        socket.destroy();
      });
    });
  }

  /**
   * A WebSocket handshake: the checks of any other request, with Origin required (browsers send it on every
   * handshake, and a cross-site page may open a WebSocket with the user's cookie), then both ways byte for byte.
   * Refusals are plain HTTP answers on the socket, which is then closed.
   */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.once('finish', () => (socket as Socket).destroySoon());
    const route = this.match(req.url);
    if (route === undefined || !isWebSocketHandshake(req))
      return sendJson(res, 400, { error: 'upgrade_not_supported' });
    if (DOT_SEGMENT.test(req.url!)) return sendJson(res, 400, { error: 'invalid_path' });
    try {
      checkWebSocketOrigin(req.headers, this.allowedOrigins);
    } catch (error) {
      if (error instanceof CsrfRejected)
        return sendJson(res, 403, { error: 'csrf_check_failed', reason: error.reason });
      throw error;
    }
    const ticket = SessionCookies.find(req.headers.cookie, this.options.cookies.session)!;
    const session = await this.authorize(req, res, route);
    if (session === undefined) return;
    const prepared = this.prepare(req, res, route, session);
    if (prepared === undefined) return;
    const started = performance.now();
    try {
      await this.transport.upgrade(
        {
          upstream: route.upstream,
          owner: session.sidKey || session.subKey,
          path: prepared.path,
          headers: prepared.headers,
        },
        res,
        (status, upstreamHeaders) => relayedResponseHeaders(status, 'GET', upstreamHeaders),
        (upstreamHeaders, upstream) => {
          res.detachSocket(socket as Socket);
          spliceWebSocket(socket, head, relayedResponseHeaders(101, 'GET', upstreamHeaders), upstream, {
            idleTimeoutMs: this.options.transport.streamIdleTimeoutMs,
          });
          const untrack = this.webSockets.add({
            ticket,
            resource: route.resource,
            sidKey: session.sidKey,
            subKey: session.subKey,
            close: () => socket.destroy(),
          });
          socket.once('close', untrack);
        },
      );
      this.observeUpstream(route.prefix, '1xx', started);
    } catch (error) {
      this.failed(res, route, error, started, prepared.authorizationLine);
    }
  }

  async close(): Promise<void> {
    this.closeWebSockets();
    await this.transport.close();
  }

  /** Ends every WebSocket open through this instance; the HTTP server's close would wait for them. */
  closeWebSockets(): void {
    this.webSockets.closeAll();
  }

  /** The session for this request, or undefined when a refusal was answered. */
  private async authorize(
    req: IncomingMessage,
    res: ServerResponse,
    route: ProxyRoute,
  ): Promise<HotSession | undefined> {
    const ticket = SessionCookies.find(req.headers.cookie, this.options.cookies.session);
    let session: HotSession | undefined;
    try {
      if (BffSessions.isTicket(ticket))
        session = await this.options.sessions.authorize(ticket, route.resource);
    } catch (error) {
      if (error instanceof StoreUnavailable)
        return void sendJson(res, 503, { error: 'session_store_unavailable' });
      if (error instanceof RefreshUnavailable)
        return void sendJson(res, 503, { error: 'authorization_server_unavailable' });
      if (error instanceof ResourceRefused) {
        this.options.warn(`route ${route.prefix}: ${error.message}`);
        return void sendJson(res, 502, {
          error: 'upstream_token_unavailable',
          reason: "the authorization server issues no token for this route's API to this gateway",
        });
      }
      throw error;
    }
    if (session === undefined) this.unauthenticated(req, res, ticket !== undefined);
    return session;
  }

  /** The path and fields to send upstream, or undefined when the token is too large to forward (answered). */
  private prepare(
    req: IncomingMessage,
    res: ServerResponse,
    route: ProxyRoute,
    session: HotSession,
  ): { path: string; headers: Record<string, string | string[]>; authorizationLine: number } | undefined {
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
      sendJson(res, 502, {
        error: 'upstream_token_too_large',
        reason: "the access token for this route's API is too large to forward",
      });
      return undefined;
    }
    const basePath = route.upstream.pathname === '/' ? '' : route.upstream.pathname.replace(/\/$/, '');
    return { path: basePath + req.url, headers, authorizationLine };
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    route: ProxyRoute,
    session: HotSession,
  ): Promise<void> {
    const prepared = this.prepare(req, res, route, session);
    if (prepared === undefined) return;
    const method = req.method ?? 'GET';
    const hasBody =
      !BODYLESS.has(method) ||
      req.headers['content-length'] !== undefined ||
      req.headers['transfer-encoding'] !== undefined;
    const started = performance.now();
    try {
      const status = await this.transport.forward(
        {
          upstream: route.upstream,
          owner: session.sidKey || session.subKey,
          method,
          path: prepared.path,
          headers: prepared.headers,
          body: hasBody ? req : null,
        },
        res,
        (statusCode, upstreamHeaders) => relayedResponseHeaders(statusCode, method, upstreamHeaders),
      );
      this.observeUpstream(route.prefix, STATUS_CLASSES[Math.floor(status / 100)] ?? 'other', started);
    } catch (error) {
      this.failed(res, route, error, started, prepared.authorizationLine);
    }
  }

  private failed(
    res: ServerResponse,
    route: ProxyRoute,
    error: unknown,
    started: number,
    authorizationLine: number,
  ): void {
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

  private unauthenticated(req: IncomingMessage, res: ServerResponse, hadCookie: boolean): void {
    const clear = hadCookie ? { 'set-cookie': this.options.cookies.clearSession() } : {};
    const navigation =
      req.method === 'GET' &&
      !isWebSocketHandshake(req) &&
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
