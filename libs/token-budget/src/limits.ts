/**
 * The size limits a token meets on its way through browsers, proxies and servers. Each limit says
 * what exactly it measures, because the same token is counted differently by each of them: a browser
 * counts one cookie's name and value, nginx the whole header line with its CRLF, Apache the line
 * without it, Node.js every header of the request together.
 */
export type LimitScope = 'cookie' | 'header-line' | 'all-headers';

export interface Limit {
  readonly id: string;
  readonly title: string;
  readonly bytes: number;
  readonly scope: LimitScope;
  /** What is counted against `bytes`. */
  readonly measures: string;
  /** What happens when the limit is exceeded. */
  readonly consequence: string;
  /** The official documentation of the limit. */
  readonly source: string;
}

export const BROWSER_COOKIE_LIMIT: Limit = {
  id: 'browser-cookie',
  title: 'Browser cookie (RFC 6265bis, Chromium, Firefox)',
  bytes: 4096,
  scope: 'cookie',
  measures: "one cookie's name + value (the '=' and attributes not counted)",
  consequence: 'the browser silently ignores the Set-Cookie: login loops',
  // RFC 6265 §6.1 asks for "at least 4096 bytes per cookie"; RFC 6265bis §5.4 turns it into the
  // rule browsers implement: a cookie whose name and value together exceed 4096 octets is ignored.
  source: 'https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-5.4',
};

export const NGINX_HEADER_LINE_LIMIT: Limit = {
  id: 'nginx-header-line',
  title: 'nginx large_client_header_buffers 4 8k (default)',
  bytes: 8192,
  scope: 'header-line',
  measures: "the header line 'Name: value' with its CRLF, which must fit one 8 KiB buffer",
  consequence: '400 Bad Request (Request Header Or Cookie Too Large)',
  source: 'https://nginx.org/en/docs/http/ngx_http_core_module.html#large_client_header_buffers',
};

export const APACHE_FIELD_LIMIT: Limit = {
  id: 'apache-field',
  title: 'Apache httpd LimitRequestFieldSize 8190 (default)',
  bytes: 8190,
  scope: 'header-line',
  // httpd reads limit + 2 bytes for the CRLF and compares the line without it.
  measures: "the header field 'Name: value' without its CRLF",
  consequence: '400 Bad Request (Size of a request header field exceeds server limit)',
  source: 'https://httpd.apache.org/docs/2.4/mod/core.html#limitrequestfieldsize',
};

export const NODE_HEADERS_LIMIT: Limit = {
  id: 'node-headers',
  title: 'Node.js --max-http-header-size 16 KiB (default)',
  bytes: 16384,
  scope: 'all-headers',
  measures: 'all request headers together; this header line with its CRLF is a lower bound',
  consequence: '431 Request Header Fields Too Large',
  source: 'https://nodejs.org/api/cli.html#--max-http-header-sizesize',
};

export const LOAD_BALANCER_HEADER_LIMIT: Limit = {
  id: 'load-balancer-header',
  title: 'Load balancers and CDNs: commonly 16 KB per header (AWS ALB, Vercel)',
  bytes: 16384,
  scope: 'header-line',
  measures: "one header 'Name: value'",
  consequence: 'the request is rejected before it reaches the service (400/431/494)',
  // AWS ALB: "Single header 16 K" (whole request headers 64 K); Vercel: 16 KB per header, 32 KB in
  // total (https://vercel.com/docs/errors/REQUEST_HEADER_TOO_LARGE). Other providers differ.
  source: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html',
};

/** Every limit a request header line is measured against. */
export const HEADER_LIMITS: readonly Limit[] = [
  NGINX_HEADER_LINE_LIMIT,
  APACHE_FIELD_LIMIT,
  NODE_HEADERS_LIMIT,
  LOAD_BALANCER_HEADER_LIMIT,
];

export const ALL_LIMITS: readonly Limit[] = [BROWSER_COOKIE_LIMIT, ...HEADER_LIMITS];

export interface Verdict {
  readonly limitId: string;
  readonly limit: string;
  readonly limitBytes: number;
  readonly source: string;
  /** What was measured, e.g. "cookie session" or "header Authorization". */
  readonly subject: string;
  readonly measuredBytes: number;
  readonly fits: boolean;
  /** Bytes left before the limit; negative when over it. */
  readonly headroomBytes: number;
  readonly consequence: string;
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function verdict(limit: Limit, subject: string, measuredBytes: number): Verdict {
  return {
    limitId: limit.id,
    limit: limit.title,
    limitBytes: limit.bytes,
    source: limit.source,
    subject,
    measuredBytes,
    fits: measuredBytes <= limit.bytes,
    headroomBytes: limit.bytes - measuredBytes,
    consequence: limit.consequence,
  };
}

/** One cookie against the browser limit: name + value. */
export function evaluateCookie(name: string, value: string): Verdict {
  return verdict(BROWSER_COOKIE_LIMIT, `cookie ${name}`, byteLength(name) + byteLength(value));
}

/**
 * One request header line against every header limit, each counting it its own way. For a bearer
 * token pass ('Authorization', 'Bearer ' + jwt): the scheme counts too.
 */
export function evaluateHeaderLine(name: string, value: string): Verdict[] {
  const field = byteLength(name) + 2 + byteLength(value); // "Name: value"
  const withCrlf = field + 2;
  return [
    verdict(NGINX_HEADER_LINE_LIMIT, `header ${name}`, withCrlf),
    verdict(APACHE_FIELD_LIMIT, `header ${name}`, field),
    // Node.js counts every header of the request: this line alone is only a lower bound.
    verdict(NODE_HEADERS_LIMIT, `all headers (${name} alone)`, withCrlf),
    verdict(LOAD_BALANCER_HEADER_LIMIT, `header ${name}`, field),
  ];
}
