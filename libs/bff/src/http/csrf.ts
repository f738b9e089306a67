import type { IncomingHttpHeaders } from 'node:http';
import { CsrfRejected } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Unsafe methods need `X-CSRF: 1` (a custom header, which a cross-site form cannot send and a cross-site
 * fetch cannot send without a CORS preflight we never grant) and an Origin in the allow-list.
 */
export function checkCsrf(
  method: string | undefined,
  headers: IncomingHttpHeaders,
  allowedOrigins: Set<string>,
): void {
  if (SAFE_METHODS.has(method ?? 'GET')) return;
  if (headers['x-csrf'] !== '1') throw new CsrfRejected('missing_header');
  const origin = headers.origin;
  if (origin === undefined || !allowedOrigins.has(origin)) throw new CsrfRejected('origin_not_allowed');
}

/**
 * A WebSocket handshake is a GET that no CORS rule protects: a page of any site can open one and the browser adds
 * the user's cookie. Browsers always send Origin on it, so one in the allow-list is required.
 */
export function checkWebSocketOrigin(headers: IncomingHttpHeaders, allowedOrigins: Set<string>): void {
  const origin = headers.origin;
  if (origin === undefined || !allowedOrigins.has(origin)) throw new CsrfRejected('origin_not_allowed');
}

/**
 * A read that only the gateway's own pages may make: `X-CSRF: 1`, which a cross-site page cannot send (no CORS
 * preflight is ever granted), so it cannot have the answer fetched with the user's cookie.
 */
export function checkCsrfHeader(headers: IncomingHttpHeaders): void {
  if (headers['x-csrf'] !== '1') throw new CsrfRejected('missing_header');
}
