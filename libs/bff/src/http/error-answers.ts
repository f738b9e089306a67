import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HttpException, Logger } from '@nestjs/common';
import accepts from 'accepts';
import { StoreUnavailable } from '@cloakroom/sealed-store';
import {
  CsrfRejected,
  InvalidPath,
  IssuerUnavailable,
  LoginFailed,
  LogoutTokenInvalid,
  PendingLoginUnknown,
  RefreshUnavailable,
  ResourceRefused,
  SessionNotFound,
  Unauthenticated,
  UpgradeNotSupported,
  UpstreamFailed,
  UpstreamTokenTooLarge,
} from '../errors.js';
import { ERROR_PAGE_SECURITY_POLICY, PAGES, renderErrorPage } from './error-page.js';
import type { ErrorPage } from './error-page.js';

/** How one failure is answered: status, JSON body for scripts, page for a person, and whether it is logged. */
export interface ErrorAnswer {
  status: number;
  body: { error: string; reason?: string };
  page: ErrorPage;
  /** Logged with the error's message (which never holds a secret); expected refusals are not. */
  log?: 'warn' | 'error';
}

type Rule<E extends Error = Error> = [new (...args: never[]) => E, (error: E) => ErrorAnswer];

const rule = <E extends Error>(type: new (...args: never[]) => E, answer: (error: E) => ErrorAnswer): Rule =>
  [type, answer] as unknown as Rule;

/**
 * The one table from typed errors to HTTP, for the gateway's own endpoints (the exception filter) and the proxied
 * routes alike. The first matching class wins.
 */
const TABLE: Rule[] = [
  rule(Unauthenticated, (e) => ({
    status: 401,
    body: { error: 'unauthenticated', reason: e.reason },
    page: PAGES.unauthenticated,
  })),
  rule(CsrfRejected, (e) => ({
    status: 403,
    body: { error: 'csrf_check_failed', reason: e.reason },
    page: PAGES.csrf,
  })),
  rule(LoginFailed, () => ({
    status: 400,
    body: { error: 'login_failed' },
    page: PAGES.loginFailed,
    log: 'warn',
  })),
  rule(PendingLoginUnknown, () => ({
    status: 400,
    body: { error: 'login_failed' },
    page: PAGES.loginUnknown,
    log: 'warn',
  })),
  rule(LogoutTokenInvalid, (e) => ({
    status: 400,
    body: { error: 'invalid_request', reason: e.reason },
    page: PAGES.badRequest,
    log: 'warn',
  })),
  rule(SessionNotFound, (e) =>
    e.current
      ? {
          status: 400,
          body: { error: 'invalid_request', reason: 'this_session_ends_with_logout' },
          page: PAGES.badRequest,
        }
      : { status: 404, body: { error: 'session_not_found' }, page: PAGES.notFound },
  ),
  rule(InvalidPath, () => ({ status: 400, body: { error: 'invalid_path' }, page: PAGES.badRequest })),
  rule(UpgradeNotSupported, () => ({
    status: 400,
    body: { error: 'upgrade_not_supported' },
    page: PAGES.badRequest,
  })),
  rule(StoreUnavailable, () => ({
    status: 503,
    body: { error: 'session_store_unavailable' },
    page: PAGES.storeUnavailable,
    log: 'warn',
  })),
  rule(IssuerUnavailable, () => ({
    status: 503,
    body: { error: 'authorization_server_unavailable' },
    page: PAGES.issuerUnavailable,
    log: 'warn',
  })),
  rule(RefreshUnavailable, () => ({
    status: 503,
    body: { error: 'authorization_server_unavailable' },
    page: PAGES.issuerUnavailable,
    log: 'warn',
  })),
  rule(ResourceRefused, () => ({
    status: 502,
    body: {
      error: 'upstream_token_unavailable',
      reason: "the authorization server issues no token for this route's API to this gateway",
    },
    page: PAGES.upstreamUnavailable,
    log: 'warn',
  })),
  rule(UpstreamTokenTooLarge, () => ({
    status: 502,
    body: {
      error: 'upstream_token_too_large',
      reason: "the access token for this route's API is too large to forward",
    },
    page: PAGES.upstreamUnavailable,
    log: 'warn',
  })),
  rule(UpstreamFailed, (e) => ({
    status: e.status,
    body: { error: e.error, reason: e.reason },
    page: e.status === 400 ? PAGES.badRequest : PAGES.upstreamUnavailable,
  })),
  rule(HttpException, (e) =>
    e.getStatus() === 404
      ? { status: 404, body: { error: 'not_found' }, page: PAGES.notFound }
      : { status: e.getStatus(), body: { error: 'bad_request' }, page: PAGES.badRequest },
  ),
];

const INTERNAL: ErrorAnswer = {
  status: 500,
  body: { error: 'internal_error' },
  page: PAGES.internal,
  log: 'error',
};

/** Where a navigation whose login is not in progress goes: a new login, marked as a restart. */
export const RESTART_LOGIN = '/auth/login?returnTo=%2F&restart=1';

const logger = new Logger('Gateway');
/** When each warning was last logged: an outage answers every request, its log line once a minute is enough. */
const warned = new Map<string, number>();
const WARN_EVERY_MS = 60_000;

function warnOnce(message: string): void {
  const now = Date.now();
  if (now - (warned.get(message) ?? -Infinity) < WARN_EVERY_MS) return;
  if (warned.size > 1000) warned.clear();
  warned.set(message, now);
  logger.warn(message);
}

export function answerOf(error: unknown): ErrorAnswer {
  for (const [type, answer] of TABLE) if (error instanceof type) return answer(error);
  return INTERNAL;
}

/**
 * Answers a failure: JSON for scripts, a page with a sentence and a link for a person's browser, a new login for a
 * navigation whose sign-in is gone. Messages never carry a secret; `headers` go with any answer (cookies to clear).
 */
export function respond(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const answer = answerOf(error);
  if (answer.log === 'error')
    logger.error(`unexpected ${error instanceof Error ? error.name : typeof error}`);
  else if (answer.log === 'warn') warnOnce((error as Error).message);
  if (res.headersSent || res.destroyed) {
    // The head went out: the only thing left to say is that the answer is broken.
    res.destroy();
    return;
  }
  if (error instanceof PendingLoginUnknown && error.restartable && prefersHtml(req)) {
    return redirect(res, RESTART_LOGIN, headers);
  }
  if (error instanceof Unauthenticated && isPageNavigation(req)) {
    return redirect(res, `/auth/login?returnTo=${encodeURIComponent(req.url ?? '/')}`, headers);
  }
  if (prefersHtml(req)) {
    const html = renderErrorPage(answer.status, answer.page);
    res.writeHead(answer.status, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      'cache-control': 'no-store',
      'content-security-policy': ERROR_PAGE_SECURITY_POLICY,
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : html);
    return;
  }
  sendJson(res, answer.status, answer.body, headers);
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

function redirect(res: ServerResponse, location: string, headers: OutgoingHttpHeaders): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', ...headers });
  res.end();
}

/**
 * True when the request comes from a person's browser rather than a script: it prefers HTML over JSON
 * (a navigation's Accept), or it is a navigation that did not ask for JSON. API callers (fetch with
 * `*\/*`, `Accept: application/json`) keep their JSON.
 */
export function prefersHtml(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (accepts(req).type(['application/json', 'text/html']) === 'text/html') return true;
  return req.headers['sec-fetch-mode'] === 'navigate' && !(req.headers.accept ?? '').includes('json');
}

/** A page load (not a script, not a WebSocket): it may be sent to sign in and come back. */
function isPageNavigation(req: IncomingMessage): boolean {
  if (req.method !== 'GET' || req.headers.upgrade !== undefined) return false;
  const mode = req.headers['sec-fetch-mode'];
  return mode === 'navigate' || (mode === undefined && (req.headers.accept ?? '').includes('text/html'));
}
