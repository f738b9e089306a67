import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { SessionCookies } from '../session/session.cookie.js';

/** Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection and never cross the gateway. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/**
 * Identity and routing fields only a trusted proxy may set: upstreams commonly believe them (client address, original
 * URL, the user an auth proxy vouched for). A client's own are dropped; the gateway sets X-Forwarded-For, -Proto and
 * -Host itself. Names ending in `-` are prefixes. README's "What reaches an upstream" lists the same names.
 */
export const CLIENT_IDENTITY_HEADERS = [
  'forwarded',
  'x-forwarded-', // -for, -host, -proto, -port, -prefix, -user, -email, -groups, -preferred-username, -access-token …
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-original-url',
  'x-original-uri',
  'x-original-host',
  'x-rewrite-url',
  'x-host',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-auth-request-',
  'x-remote-user',
  'x-remote-group',
  'remote-user',
  'x-user',
  'x-user-id',
  'x-email',
  'x-webauth-user',
  'x-amzn-oidc-',
  'x-goog-authenticated-user-',
  'x-ms-client-principal',
];

const IDENTITY_NAMES = new Set(CLIENT_IDENTITY_HEADERS.filter((name) => !name.endsWith('-')));
const IDENTITY_PREFIXES = CLIENT_IDENTITY_HEADERS.filter((name) => name.endsWith('-'));

/** Never forwarded: hop-by-hop fields, our cookie, a client's own Authorization, Expect (answered here). */
const DROPPED_REQUEST_HEADERS = new Set([
  ...HOP_BY_HOP,
  'host',
  'cookie',
  'authorization',
  'expect',
  'x-csrf',
]);

/** Names are lowercase (Node's parser and undici's both lower them). */
export function isClientIdentityHeader(name: string): boolean {
  if (IDENTITY_NAMES.has(name)) return true;
  for (const prefix of IDENTITY_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

/** The client's fields an upstream may see. */
export function forwardedRequestHeaders(incoming: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = connectionNames(incoming.connection);
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || DROPPED_REQUEST_HEADERS.has(name) || named?.has(name)) continue;
    if (isClientIdentityHeader(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The W3C Trace Context fields: a client may send them, the gateway may replace them. */
const TRACE_CONTEXT = ['traceparent', 'tracestate'];

/**
 * Puts the gateway's own trace context in place of the client's, when the gateway traces: the upstream's span is
 * then a child of the gateway's. Without tracing the client's fields go upstream like any other.
 */
export function withTraceContext(
  headers: Record<string, string | string[]>,
  trace: Record<string, string>,
): void {
  for (const name of TRACE_CONTEXT) delete headers[name];
  Object.assign(headers, trace);
}

/**
 * Fields the gateway itself sets on every proxied answer (`SESSION_EXPIRES_IN`): Node lets a field given with the head
 * win over one set before, so an upstream's of the same name would replace the gateway's value.
 */
const GATEWAY_ANSWER_FIELDS = new Set(['x-session-expires-in']);

/**
 * The upstream's fields the client may see: no hop-by-hop field nor one its Connection names, no Content-Length where
 * there is no body (204, 304, HEAD), no cookie that could stand in for the gateway's own, none the gateway sets itself.
 */
export function relayedResponseHeaders(
  status: number,
  method: string,
  upstream: Record<string, string | string[] | undefined>,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionNames(upstream.connection);
  const bodiless = status === 204 || status === 304 || method === 'HEAD';
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.includes(name) || named?.has(name)) continue;
    if (GATEWAY_ANSWER_FIELDS.has(name)) continue;
    if (bodiless && name === 'content-length') continue;
    out[name] = value;
  }
  const setCookie = out['set-cookie'];
  if (setCookie !== undefined) {
    out['set-cookie'] = (Array.isArray(setCookie) ? setCookie : [String(setCookie)]).filter(
      (line) => !SessionCookies.refusesFromUpstream(line),
    );
  }
  return out;
}

function connectionNames(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const names = new Set<string>();
  for (const line of Array.isArray(value) ? value : [value])
    for (const token of line.split(',')) names.add(token.trim().toLowerCase());
  return names;
}
