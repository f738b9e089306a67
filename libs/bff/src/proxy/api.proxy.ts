import { ServerResponse } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import type { BffObserver } from '../bff.observer.js';
import type { BffTracing } from '../bff.tracing.js';
import type { InvalidationBus } from '../coordination/invalidation.bus.js';
import {
  InvalidPath,
  Unauthenticated,
  UpgradeNotSupported,
  UpstreamFailed,
  UpstreamTokenTooLarge,
} from '../errors.js';
import { checkCsrf, checkWebSocketOrigin } from '../http/csrf.js';
import { respond } from '../http/error-answers.js';
import { BffSessions } from '../session/bff-sessions.js';
import type { HotSession } from '../session/session.codec.js';
import { SessionCookies } from '../session/session.cookie.js';
import { forwardedRequestHeaders, relayedResponseHeaders, withTraceContext } from './upstream.headers.js';
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
  allowedOrigins: string[];
  publicUrl: URL;
  headerBudgetBytes: number;
  /** A forwarded `Authorization` line above this is not sent at all. */
  authorizationMaxBytes: number;
  transport: UpstreamTransportOptions;
}

/** What goes upstream: the path, the header fields, and the size of the Authorization line among them. */
interface PreparedRequest {
  path: string;
  headers: Record<string, string | string[]>;
  authorizationLine: number;
}

/** Node 24.9+ asks the server which upgrade requests are upgrades (the typings do not have it yet). */
type UpgradeChoosing = Server & { shouldUpgradeCallback?: (req: IncomingMessage) => boolean };

/** Seconds the session has left if it is not used again, on every answer that had one: an app can warn in time. */
export const SESSION_EXPIRES_IN = 'x-session-expires-in';

const DOT_SEGMENT = /\/(\.|%2e){1,2}(\/|\?|#|%2f|%5c|\\|$)|\\|%5c/i;
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * The hot path, outside the web framework: cookie → slot → session (cache or store) → forward with the bearer token
 * through {@link UpstreamTransport}, bodies streamed both ways. Refusals and failures are typed errors, answered
 * through the same table as the gateway's own endpoints.
 */
export class ApiProxy {
  private readonly transport: UpstreamTransport;
  private readonly webSockets: WebSocketSessions;
  private readonly allowedOrigins: Set<string>;
  private readonly forwardedProto: string;
  private readonly forwardedHost: string;
  private readonly logger = new Logger('Gateway');
  private lastBudgetWarning = 0;

  constructor(
    private readonly options: ApiProxyOptions,
    private readonly sessions: BffSessions,
    private readonly cookies: SessionCookies,
    private readonly observer: BffObserver,
    /** Carries session invalidations: open WebSockets of an ended session are closed. */
    bus: InvalidationBus,
    /** With it, each upstream exchange is a client span, and its request carries that span's `traceparent`. */
    private readonly tracing?: BffTracing,
  ) {
    this.allowedOrigins = new Set(options.allowedOrigins);
    this.forwardedProto = options.publicUrl.protocol.slice(0, -1);
    this.forwardedHost = options.publicUrl.host;
    this.transport = new UpstreamTransport(options.transport);
    this.webSockets = new WebSocketSessions(sessions, bus);
  }

  get routes(): readonly ProxyRoute[] {
    return this.options.routes;
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

  /** Serves one proxied request; never rejects: every failure is answered. */
  async handle(req: IncomingMessage, res: ServerResponse, route: ProxyRoute): Promise<void> {
    const ticket = SessionCookies.find(req.headers.cookie, this.cookies.session);
    try {
      // Dot segments could make an upstream that normalises paths serve something outside the route.
      if (DOT_SEGMENT.test(req.url!)) throw new InvalidPath();
      checkCsrf(req.method, req.headers, this.allowedOrigins);
      const session = await this.authorize(ticket, route, res);
      await this.forward(req, res, route, session);
    } catch (error) {
      respond(req, res, error, this.clearing(error, ticket));
    }
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
      void this.upgrade(req, socket, head);
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
    const ticket = SessionCookies.find(req.headers.cookie, this.cookies.session);
    const route = this.match(req.url);
    let started = 0;
    let authorizationLine = 0;
    try {
      if (route === undefined || !isWebSocketHandshake(req)) throw new UpgradeNotSupported();
      if (DOT_SEGMENT.test(req.url!)) throw new InvalidPath();
      checkWebSocketOrigin(req.headers, this.allowedOrigins);
      const session = await this.authorize(ticket, route, res);
      const prepared = this.prepare(req, route, session);
      authorizationLine = prepared.authorizationLine;
      started = performance.now();
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
            ticket: ticket!,
            resource: route.resource,
            sidKey: session.sidKey,
            subKey: session.subKey,
            close: () => socket.destroy(),
          });
          socket.once('close', untrack);
        },
      );
      this.observer.upstreamAnswered(route.prefix, '1xx', (performance.now() - started) / 1000);
    } catch (error) {
      if (route !== undefined && error instanceof UpstreamFailed)
        this.upstreamFailed(route, error, started, authorizationLine);
      respond(req, res, error, this.clearing(error, ticket));
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

  /**
   * The session for this request; throws Unauthenticated when there is none. The answer will tell the app how long
   * the session has left unused.
   */
  private async authorize(
    ticket: string | undefined,
    route: ProxyRoute,
    res: ServerResponse,
  ): Promise<HotSession> {
    if (!BffSessions.isTicket(ticket)) throw new Unauthenticated('no_session');
    const authorized = await this.sessions.authorizeRequest(ticket, route.resource);
    if (authorized === undefined) throw new Unauthenticated('session_expired');
    res.setHeader(SESSION_EXPIRES_IN, authorized.expiresInSeconds);
    return authorized.session;
  }

  /** A refused session's cookie is cleared, so the browser stops sending it. */
  private clearing(error: unknown, ticket: string | undefined) {
    return error instanceof Unauthenticated && ticket !== undefined
      ? { 'set-cookie': this.cookies.clearSession() }
      : {};
  }

  /** The path and fields to send upstream; throws when the token is too large to forward. */
  private prepare(req: IncomingMessage, route: ProxyRoute, session: HotSession): PreparedRequest {
    const headers = forwardedRequestHeaders(req.headers);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-proto'] = this.forwardedProto;
    headers['x-forwarded-host'] = this.forwardedHost;
    headers.authorization = session.authorization;
    const authorizationLine = 'Authorization: \r\n'.length + session.authorization.length;
    this.observeHeader(authorizationLine);
    if (authorizationLine > this.options.authorizationMaxBytes) {
      this.observer.upstreamRefused(route.prefix, 'token_too_large');
      throw new UpstreamTokenTooLarge(route.prefix, authorizationLine, this.options.authorizationMaxBytes);
    }
    const basePath = route.upstream.pathname === '/' ? '' : route.upstream.pathname.replace(/\/$/, '');
    return { path: basePath + req.url, headers, authorizationLine };
  }

  /** Throws at once when the request cannot be sent (its token is too large); else settles with the exchange. */
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    route: ProxyRoute,
    session: HotSession,
  ): Promise<unknown> {
    const prepared = this.prepare(req, route, session);
    const tracing = this.tracing;
    if (tracing === undefined) return this.send(req, res, route, session, prepared);
    const method = req.method ?? 'GET';
    const upstream = route.upstream;
    return tracing.span(
      `upstream ${method} ${route.prefix}/*`,
      {
        kind: 'client',
        attributes: {
          'http.request.method': method,
          'url.template': `${route.prefix}/*`,
          'server.address': upstream.hostname,
          'server.port': Number(upstream.port || (upstream.protocol === 'https:' ? 443 : 80)),
        },
      },
      async (span) => {
        // The API's span is a child of this one, not of whatever the client claims.
        withTraceContext(prepared.headers, tracing.headers());
        try {
          span.setAttribute('http.response.status_code', await this.send(req, res, route, session, prepared));
        } catch (error) {
          if (error instanceof UpstreamFailed) span.setAttribute('cloakroom.upstream.failure', error.reason);
          throw error;
        }
      },
    );
  }

  /** One exchange with the upstream; resolves with its status once the answer is being relayed. */
  private async send(
    req: IncomingMessage,
    res: ServerResponse,
    route: ProxyRoute,
    session: HotSession,
    prepared: PreparedRequest,
  ): Promise<number> {
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
      const outcome = STATUS_CLASSES[Math.floor(status / 100)] ?? 'other';
      this.observer.upstreamAnswered(route.prefix, outcome, (performance.now() - started) / 1000);
      return status;
    } catch (error) {
      if (error instanceof UpstreamFailed)
        this.upstreamFailed(route, error, started, prepared.authorizationLine);
      throw error;
    }
  }

  private upstreamFailed(
    route: ProxyRoute,
    error: UpstreamFailed,
    started: number,
    authorizationLine: number,
  ): void {
    const outcome = error.status === 504 ? 'timeout' : 'unreachable';
    this.observer.upstreamAnswered(route.prefix, outcome, (performance.now() - started) / 1000);
    if (error.reason === 'request_headers_refused') {
      this.observer.upstreamRefused(route.prefix, 'headers_refused');
      this.logger.warn(
        `route ${route.prefix}: the upstream answered 431 to a request whose Authorization line was ${authorizationLine} bytes`,
      );
    }
  }

  private observeHeader(bytes: number): void {
    this.observer.authorizationForwarded(bytes);
    if (bytes > this.options.headerBudgetBytes) {
      const now = Date.now();
      // One line a minute is enough to act on; one per request would flood the log.
      if (now - this.lastBudgetWarning > 60_000) {
        this.lastBudgetWarning = now;
        this.logger.warn(
          `forwarded Authorization header is ${bytes} bytes, over the ${this.options.headerBudgetBytes}-byte budget (GATEWAY_HEADER_BUDGET_BYTES): upstream proxies with default limits may reject it`,
        );
      }
    }
  }
}
