import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { HttpMetrics } from './metrics.js';

/** A request as the access log reads it: Node's, or Express's with the route it matched. */
type ObservedRequest = IncomingMessage & {
  originalUrl?: string;
  baseUrl?: string;
  route?: { path?: unknown };
};

export interface AccessLogOptions {
  logger: Logger;
  /** Where the `cloakroom_http_*` metrics go; without it, only the log line. */
  registry?: Registry;
}

/**
 * One JSON line per request, at `info`: `method`, `route`, `status`, `ms`. The route is the template the request
 * matched (`/interaction/:uid`), or its path with id-like segments as `:id`; never the query string (codes,
 * states and token hints travel there) and never a header. The same hook counts and times the request in
 * `cloakroom_http_requests_total` and `cloakroom_http_request_duration_seconds`, where a path that matched
 * nothing and got 404 is `unmatched`, so that scanners cannot add label values.
 *
 * Cheap enough for a proxy's request listener: one `finish` listener per request, and the route worked out only
 * once the response is done.
 */
export class AccessLog {
  readonly #logger: Logger;
  readonly #metrics: HttpMetrics | undefined;

  constructor({ logger, registry }: AccessLogOptions) {
    // Every field of the line is ours (method, template, status, duration), so it skips the redaction pass: with
    // the wildcard paths that pass costs far more than writing the line.
    this.#logger = logger.child({}, { redact: [] });
    this.#metrics = registry && new HttpMetrics(registry);
  }

  /** Call as the request arrives; `route` is its template when the caller already knows it. */
  observe(req: IncomingMessage, res: ServerResponse, route?: string): void {
    const started = performance.now();
    res.once('finish', () => this.#record(req as ObservedRequest, res, started, route));
  }

  #record(req: ObservedRequest, res: ServerResponse, started: number, known: string | undefined): void {
    const ms = performance.now() - started;
    const method = req.method ?? 'GET';
    const status = res.statusCode;
    const matched = known ?? matchedRoute(req);
    const logged = this.#logger.isLevelEnabled('info');
    const path = matched === undefined && (logged || status !== 404) ? pathTemplate(urlOf(req)) : undefined;
    this.#metrics?.observe(method, matched ?? (status === 404 ? 'unmatched' : path!), status, ms / 1000);
    if (logged) {
      this.#logger.info(
        { method, route: matched ?? path, status, ms: Math.round(ms * 1000) / 1000 },
        'request',
      );
    }
  }
}

/** The access log as Express (and so Nest) middleware: `app.use(accessLogMiddleware(accessLog))`, first. */
export function accessLogMiddleware(accessLog: AccessLog) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    accessLog.observe(req, res);
    next();
  };
}

/**
 * The template of an answered request, for names that must not grow with input (a span's): the route Express
 * matched, else the path with id-like segments as `:id`, and none for a 404 that matched nothing.
 */
export function routeOf(req: IncomingMessage, status: number): string | undefined {
  const matched = matchedRoute(req as ObservedRequest);
  if (matched !== undefined || status === 404) return matched;
  return pathTemplate(urlOf(req as ObservedRequest));
}

/** The route Express matched, with the path its router is mounted at. */
function matchedRoute(req: ObservedRequest): string | undefined {
  const path = req.route?.path;
  return typeof path === 'string' ? (req.baseUrl ?? '') + path : undefined;
}

/** Express rewrites `url` inside mounted routers; `originalUrl` is what the client sent. */
function urlOf(req: ObservedRequest): string {
  return req.originalUrl ?? req.url ?? '/';
}

/** Longer paths are cut: a request line of any length must not become a log line of that length. */
const MAX_PATH = 200;
const MIN_ID_LENGTH = 16;

/**
 * The request target's path, without query, with id-like segments as `:id`: a number, or 16 characters or more
 * that are not a lower-case word (`openid-configuration` stays, a uid, a base64url token or a UUID does not).
 */
export function pathTemplate(url: string): string {
  let start = 0;
  if (url.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (`GET http://host/path`), as a forward proxy would receive it
    const authority = url.indexOf('//');
    const slash = authority === -1 ? -1 : url.indexOf('/', authority + 2);
    if (slash === -1) return '/';
    start = slash;
  }
  let end = url.indexOf('?', start);
  if (end === -1) end = url.length;
  let template = '';
  let copied = start;
  for (let slash = start; slash < end;) {
    let next = url.indexOf('/', slash + 1);
    if (next === -1 || next > end) next = end;
    if (isIdLike(url, slash + 1, next)) {
      template += url.slice(copied, slash) + '/:id';
      copied = next;
    }
    slash = next;
  }
  if (copied === start) template = url.slice(start, end);
  else template += url.slice(copied, end);
  return template.length > MAX_PATH ? `${template.slice(0, MAX_PATH)}…` : template;
}

function isIdLike(url: string, from: number, to: number): boolean {
  if (to <= from) return false;
  let digits = true;
  let word = isLower(url.charCodeAt(from));
  for (let i = from; i < to && (digits || word); i++) {
    const c = url.charCodeAt(i);
    if (c < 48 || c > 57) digits = false;
    if (!(isLower(c) || c === 45 /* - */ || c === 46 /* . */ || c === 95) /* _ */) word = false;
  }
  return digits || (to - from >= MIN_ID_LENGTH && !word);
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
