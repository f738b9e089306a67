import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSign,
  generateKeyPairSync,
  randomUUID,
} from 'node:crypto';
import { openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { OPAQUE_RESOURCE, RP, RS } from '../support/authorization-server.js';
import { formAction, inputValue } from '../support/browser.js';
import { dumpPrefix } from '../support/redis.js';
import { GATEWAY_CLIENT_ID, LOGIN_COOKIE_PREFIX, SESSION_COOKIE } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * Hostile input against the running stack: a seeded generator of requests (the same seed and index give the
 * same request against the same prepared material) and a bounded runner that counts status codes per target.
 * Any 5xx, transport failure, or a forged credential that gets in is a failure with a reproduction line.
 */

// ---------------------------------------------------------------------------------------------- PRNG

/** mulberry32: small, fast, good enough to pick inputs; every probe gets its own stream from (seed, index). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly next: () => number;
  constructor(seed: number, index: number) {
    this.next = prng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  /** Characters a header value may carry (HTAB, visible ASCII, space, obs-text), random otherwise. */
  headerText(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = this.next();
      s += String.fromCharCode(r < 0.8 ? 0x20 + this.int(95) : r < 0.97 ? 0x80 + this.int(128) : 9);
    }
    return s;
  }
  b64url(n: number): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(64)];
    return s;
  }
  /** Any Unicode text, lone surrogates, controls and NUL included (for bodies and query strings). */
  unicode(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = this.next();
      s += String.fromCharCode(
        r < 0.5
          ? 0x20 + this.int(95)
          : r < 0.65
            ? this.int(0x20)
            : r < 0.8
              ? 0xd800 + this.int(0x800)
              : this.int(0x10000),
      );
    }
    return s;
  }
  /** Percent-encodings that do not decode to valid UTF-8, or do not decode at all. */
  oddEncoding(): string {
    return this.pick([
      '%',
      '%Z',
      '%ZZ',
      '%C3%28',
      '%E2%82',
      '%F0%28%8C%BC',
      '%C0%AF',
      '%ED%A0%80',
      '%00',
      '%FF%FE',
      '%%32%35',
      '%u0041',
      '+%2B+',
      '%0D%0A',
      encodeURIComponent(this.unicode(this.range(1, 8)).replace(/[\ud800-\udfff]/g, 'x')),
    ]);
  }
  /** A value of some hostile kind, for parameters. */
  value(): string {
    switch (this.int(9)) {
      case 0:
        return '';
      case 1:
        return this.b64url(this.range(1, 64));
      case 2:
        return this.headerText(this.range(1, 40));
      case 3:
        return 'x'.repeat(this.pick([256, 1024, 4096, 9000, 20_000]));
      case 4:
        return this.pick([
          'null',
          'undefined',
          '[]',
          '{}',
          '0',
          '-1',
          'NaN',
          'true',
          '__proto__',
          'constructor',
        ]);
      case 5:
        return this.pick([
          'https://evil.example/cb',
          'javascript:alert(1)',
          '//evil.example',
          'http://127.0.0.1:1/',
        ]);
      case 6:
        return `${this.b64url(20)}.${this.b64url(30)}.${this.b64url(40)}`;
      case 7:
        return this.unicode(this.range(1, 30)).replace(/[\ud800-\udfff]/g, '\ufffd');
      default:
        return String(this.range(-1e6, 1e12));
    }
  }
}

/** A form or query string with raw pieces kept as they are (odd encodings survive). */
function encodePairs(pairs: Array<[string, string, boolean?]>): string {
  return pairs
    .map(([k, v, raw]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
    .join('&');
}

/** Mutates a list of parameters: removes, replaces, duplicates, adds, or encodes oddly. */
function mutatePairs(g: Gen, pairs: Array<[string, string, boolean?]>, extraNames: string[]): void {
  const rounds = g.range(1, 3);
  for (let r = 0; r < rounds; r++) {
    const at = g.int(Math.max(1, pairs.length));
    switch (g.int(7)) {
      case 0:
        pairs.splice(at, 1);
        break;
      case 1:
        if (pairs[at]) pairs[at] = [pairs[at][0], g.value()];
        break;
      case 2:
        if (pairs[at]) pairs.push([pairs[at][0], g.value()]);
        break;
      case 3:
        pairs.push([g.pick(extraNames), g.value()]);
        break;
      case 4:
        if (pairs[at]) pairs[at] = [pairs[at][0], g.oddEncoding(), true];
        break;
      case 5:
        pairs.push([`${g.pick(extraNames)}[]`, g.value()]);
        break;
      default:
        // Repeated, but never past 40 KB (a request line or body that size is refused anyway).
        if (pairs[at]) pairs[at] = [pairs[at][0], pairs[at][1].repeat(g.range(2, 200)).slice(0, 40_000)];
    }
  }
}

// ---------------------------------------------------------------------------------------------- material

/** What the generators draw on: real sessions, slots, interactions, tokens, and forged ones. */
export interface Material {
  gateway: string;
  as: string;
  /** The demo API, when the stack runs one. */
  demo?: string;
  /** Sessions logged in through the gateway; must still work after the run. */
  tickets: string[];
  /** The Redis slots of those sessions (what an attacker with a dump would try). */
  slots: string[];
  /** Pending logins: their callback `state` and their login cookie (`name=secret`), single use. */
  pendingLogins: Array<{ state: string; cookie: string }>;
  /** Sign-in pages in progress at the authorization server: the cookies and the form's CSRF token. */
  interactions: Array<{ uid: string; cookie: string; csrf: string }>;
  /** alice's JWT access token as the gateway forwards it. */
  jwt: string;
  /** An opaque access token, a refresh token and an id token of the RP test client. */
  opaque: string;
  refresh: string;
  idToken: string;
  /** Logout tokens signed with the issuer's key, for random sids; the second use of each is a replay. */
  logoutTokens: string[];
  /** Logout tokens that must be refused (forged, altered, wrong claims). */
  forgedLogoutTokens: string[];
  /** Access tokens that must be refused (alg none, alg confusion, foreign key, altered). */
  forgedBearers: string[];
  issuerPublicPem: string;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** HS256 with the issuer's public key as the HMAC secret: the classic algorithm confusion. */
function hs256With(
  secret: string,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Logs in, opens sign-in pages, collects tokens and forges the hostile ones. */
export async function prepareMaterial(
  stack: Stack,
  options: { sessions?: number; interactions?: number; pendingLogins?: number; logoutTokens?: number } = {},
): Promise<Material> {
  const gateway = stack.gateways[0];
  const as = stack.asUrl;
  const tickets: string[] = [];
  for (let i = 0; i < (options.sessions ?? 3); i++) {
    const { ticket, cookie } = await stack.login(
      i % 2 ? 'power-user' : 'alice',
      i % 2 ? 'many-groups' : 'wonderland',
    );
    tickets.push(ticket);
    const response = await fetch(`${gateway}/api/whoami`, { headers: { cookie } });
    if (response.status !== 200) throw new Error(`a fresh session answered ${response.status}`);
    await response.arrayBuffer();
  }
  const jwt = stack.upstream.authorizations
    .find((a) => a.length > 0 && a.length < 4000)!
    .replace(/^Bearer /, '');
  const slots = (await dumpPrefix(stack.redis, `${stack.prefix}gw:gateway.session:`)).map((e) =>
    e.key.split(':').at(-1)!,
  );

  const pendingLogins: Material['pendingLogins'] = [];
  for (let i = 0; i < (options.pendingLogins ?? 20); i++) {
    const response = await fetch(`${gateway}/auth/login?returnTo=/`, { redirect: 'manual' });
    const line = response.headers.getSetCookie().find((l) => l.startsWith(LOGIN_COOKIE_PREFIX));
    const state = new URL(response.headers.get('location') ?? '', as).searchParams.get('state');
    if (line && state) pendingLogins.push({ state, cookie: line.split(';')[0] });
  }

  const rp = await oidc.discovery(new URL(stack.issuer), RP.client_id, RP.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  const interactions: Material['interactions'] = [];
  for (let i = 0; i < (options.interactions ?? 8); i++) {
    const authorization = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: RP.redirect_uris[0],
      scope: 'openid profile offline_access',
      prompt: 'consent',
      state: randomUUID(),
    });
    const started = await fetch(authorization, { redirect: 'manual' });
    const cookies = started.headers.getSetCookie().map((l) => l.split(';')[0]);
    const location = new URL(started.headers.get('location')!, stack.issuer);
    const page = await fetch(new URL(location.pathname, as), {
      headers: { cookie: cookies.join('; ') },
      redirect: 'manual',
    });
    const html = await page.text();
    cookies.push(...page.headers.getSetCookie().map((l) => l.split(';')[0]));
    const csrf = inputValue(html, 'csrf');
    const action = formAction(html);
    if (!csrf || !action) throw new Error(`no sign-in form (${page.status})`);
    interactions.push({ uid: location.pathname.split('/')[2], cookie: cookies.join('; '), csrf });
  }

  // RP tokens: opaque access token (introspectable) and a refresh token, through openid-client.
  const verifier = oidc.randomPKCECodeVerifier();
  const { TestBrowser } = await import('../support/browser.js');
  const { signIn } = await import('../support/authorization-server.js');
  const callback = await signIn(
    new TestBrowser(),
    oidc.buildAuthorizationUrl(rp, {
      redirect_uri: RP.redirect_uris[0],
      scope: 'openid profile offline_access orders:read',
      resource: OPAQUE_RESOURCE,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      prompt: 'consent',
    }),
    'alice',
    'wonderland',
  );
  const tokens = await oidc.authorizationCodeGrant(
    rp,
    callback,
    { pkceCodeVerifier: verifier },
    { resource: OPAQUE_RESOURCE },
  );

  const now = Math.floor(Date.now() / 1000);
  const logoutClaims = (sid: string) => ({
    iss: stack.issuer,
    aud: GATEWAY_CLIENT_ID,
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
    sid,
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
  });
  const logoutTokens: string[] = [];
  for (let i = 0; i < (options.logoutTokens ?? 100); i++) {
    logoutTokens.push(await stack.signAsIssuer(logoutClaims(`fuzz-${randomUUID()}`)));
  }
  const issuerPublicPem = createPublicKey({ key: stack.signingKey as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const issuerPublicJwk = JSON.stringify(
    createPublicKey({ key: stack.signingKey as never, format: 'jwk' }).export({ format: 'jwk' }),
  );
  const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const kid = stack.signingKey.kid;
  const signForeign = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, ...header }).sign(foreign);
  const issuerKey = createPrivateKey({ key: stack.signingKey as never, format: 'jwk' });
  // Signed with the issuer's real key, claims and headers as given (jose would refuse some of them).
  const signAsIssuer = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const input = `${b64({ alg: 'RS256', kid, ...header })}.${b64(payload)}`;
    return `${input}.${createSign('RSA-SHA256').update(input).sign(issuerKey).toString('base64url')}`;
  };
  const base = logoutClaims('fuzz-forged');
  const forgedLogoutTokens = [
    `${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64(base)}.`,
    `${b64({ alg: 'none' })}.${b64(base)}`,
    hs256With(issuerPublicPem, { kid }, base),
    hs256With(issuerPublicJwk, { kid }, base),
    await signForeign(base),
    await signForeign(base, { jku: 'http://127.0.0.1:1/jwks' }),
    await signForeign(base, { kid: '../../../../dev/null' }),
    signAsIssuer({ ...base, aud: 'someone-else', jti: randomUUID() }),
    signAsIssuer({ ...base, iss: 'http://evil.example', jti: randomUUID() }),
    signAsIssuer({ ...base, exp: now - 3600, iat: now - 7200, jti: randomUUID() }),
    signAsIssuer({ ...base, iat: now - 3600, jti: randomUUID() }),
    signAsIssuer({ ...base, nonce: 'n', jti: randomUUID() }),
    signAsIssuer({ ...base, events: undefined, jti: randomUUID() }),
    signAsIssuer({ ...base, events: { other: {} }, jti: randomUUID() }),
    signAsIssuer({ ...base, jti: undefined }),
    signAsIssuer({ ...base, jti: 42 }),
    signAsIssuer({ ...base, sid: undefined, sub: undefined, jti: randomUUID() }),
    signAsIssuer({ ...base, sid: 42, jti: randomUUID() }),
    signAsIssuer({ ...base, events: 'x', jti: randomUUID() }),
    signAsIssuer({ ...base, jti: randomUUID() }, { crit: ['x-unknown'], 'x-unknown': 1 }),
    signAsIssuer({ ...base, jti: randomUUID(), pad: 'x'.repeat(13_000) }),
  ];
  const [header, payload] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forgedBearers = [
    `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
    `${b64({ alg: 'none' })}.${payload}`,
    hs256With(issuerPublicPem, { typ: 'at+jwt', kid }, claims),
    hs256With(issuerPublicJwk, { typ: 'at+jwt', kid }, claims),
    await signForeign(claims, { typ: 'at+jwt' }),
    `${header}.${b64({ ...claims, sub: 'power-user' })}.${jwt.split('.')[2]}`,
    `${header}.${b64({ ...claims, exp: now + 10 * 365 * 86400 })}.${jwt.split('.')[2]}`,
    `${header}.${payload}.${jwt.split('.')[2].slice(0, -4)}AAAA`,
    `${header}.${b64({ ...claims, groups: Array.from({ length: 1500 }, (_, i) => `group-${i}`) })}.${jwt.split('.')[2]}`,
  ];
  return {
    gateway,
    as,
    demo: stack.demoApiUrl,
    tickets,
    slots,
    pendingLogins,
    interactions,
    jwt,
    opaque: tokens.access_token,
    refresh: tokens.refresh_token!,
    idToken: tokens.id_token!,
    logoutTokens,
    forgedLogoutTokens,
    forgedBearers,
    issuerPublicPem,
  };
}

// ---------------------------------------------------------------------------------------------- probes

export interface Probe {
  target: string;
  origin: 'gateway' | 'as' | 'demo';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Statuses that are acceptable beyond "not 5xx" (e.g. a forged session must get 401, never 200). */
  expect?: number[];
  /** No 2xx may answer this probe (a forged credential must not get in, whatever else happens). */
  deny?: boolean;
  /** A short description for the failure report (never a whole secret). */
  note: string;
}

type Generator = (g: Gen, m: Material) => Probe;

const FORM = 'application/x-www-form-urlencoded';
const SENDABLE_HEADER = /^[\t\x20-\x7e\x80-\xff]*$/;
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** A Cookie header for the gateway: never a real ticket unchanged unless `control` says so. */
function sessionCookie(g: Gen, m: Material): { cookie?: string; kind: string; bad: boolean } {
  const real = g.pick(m.tickets);
  switch (g.int(14)) {
    case 0:
      return { kind: 'none', bad: true };
    case 1:
      return {
        cookie: `${SESSION_COOKIE}=${g.headerText(g.range(0, 120)).replace(/;/g, '')}`,
        kind: 'random-text',
        bad: true,
      };
    case 2: {
      let n = g.range(0, 100);
      if (n === 43) n = 44;
      return { cookie: `${SESSION_COOKIE}=${g.b64url(n)}`, kind: 'b64url-wrong-length', bad: true };
    }
    case 3:
      return { cookie: `${SESSION_COOKIE}=${g.b64url(43)}`, kind: 'b64url-43', bad: true };
    case 4:
      return {
        cookie: `${SESSION_COOKIE}=${g.bytes(g.range(1, 64)).toString('base64url')}`,
        kind: 'b64url-of-garbage',
        bad: true,
      };
    case 5:
      return { cookie: `${SESSION_COOKIE}=${g.pick(m.slots)}`, kind: 'other-session-slot', bad: true };
    case 6: {
      const at = g.int(43);
      const c = real[at];
      const swapped = c === 'A' ? 'B' : 'A';
      return {
        cookie: `${SESSION_COOKIE}=${real.slice(0, at)}${swapped}${real.slice(at + 1)}`,
        kind: 'ticket-one-char-changed',
        bad: true,
      };
    }
    case 7:
      return {
        cookie: `${SESSION_COOKIE}=${real.slice(0, g.range(0, 42))}`,
        kind: 'ticket-truncated',
        bad: true,
      };
    case 8:
      return {
        cookie: `${SESSION_COOKIE}=${real}${g.b64url(g.range(1, 8))}`,
        kind: 'ticket-extended',
        bad: true,
      };
    case 9:
      return {
        cookie: `x${SESSION_COOKIE}=${real}; ${SESSION_COOKIE}x=${real}`,
        kind: 'ticket-under-other-names',
        bad: true,
      };
    case 10:
      return {
        cookie: `${SESSION_COOKIE}=${g.b64url(43)}; ${SESSION_COOKIE}=${real}`,
        kind: 'duplicate-name-forged-first',
        bad: true,
      };
    case 11:
      return {
        cookie: `a=${g.b64url(g.range(1000, 8000))}; ${SESSION_COOKIE}=${g.b64url(43)}; b=${'c'.repeat(g.range(0, 6000))}`,
        kind: 'big-header',
        bad: true,
      };
    case 12:
      return {
        cookie: `${SESSION_COOKIE}=${real.toUpperCase() === real ? real.toLowerCase() : real.toUpperCase()}`,
        kind: 'ticket-case-flipped',
        bad: true,
      };
    default:
      return { cookie: `${SESSION_COOKIE}=${real}`, kind: 'control-real-ticket', bad: false };
  }
}

const GATEWAY_API: Generator = (g, m) => {
  const { cookie, kind, bad } = sessionCookie(g, m);
  const headers: Record<string, string> = cookie ? { cookie } : {};
  const plain = g.chance(0.75);
  let method = 'GET';
  let path = '/api/whoami';
  if (!plain) {
    method = g.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    path = g.pick([
      '/api/whoami',
      `/api/${encodeURIComponent(g.value()).slice(0, 300)}`,
      '/api/../auth/session',
      '/api/%2e%2e/auth/session',
      '/api/.%2e/x',
      '/api\\..\\x',
      `/api?${encodePairs([['q', g.value()]])}`,
      '/api',
      '/apix',
    ]);
    if (g.chance(0.5)) headers.origin = g.pick([m.gateway, 'http://evil.example', 'null']);
    if (g.chance(0.5)) headers['x-csrf'] = g.pick(['1', '0', '']);
    if (g.chance(0.3)) headers.accept = 'text/html';
    if (g.chance(0.2)) headers.authorization = `Bearer ${g.pick(m.forgedBearers)}`;
  }
  const body =
    method === 'POST' || method === 'PUT' || method === 'PATCH' ? g.bytes(g.range(0, 2000)) : undefined;
  // A forged cookie first and the real one second is not an attack (it needs the real ticket): no verdict.
  const judged = plain && kind !== 'big-header' && kind !== 'duplicate-name-forged-first';
  const expect = judged ? (bad ? [401] : [200]) : undefined;
  // Whatever the method or path, a forged cookie never gets a 2xx from the upstream.
  const deny = bad && kind !== 'duplicate-name-forged-first';
  return {
    target: 'gateway /api (session cookie)',
    origin: 'gateway',
    method,
    path,
    headers,
    body,
    expect,
    deny,
    note: `${method} ${path.slice(0, 60)} cookie=${kind}`,
  };
};

const GATEWAY_SESSION: Generator = (g, m) => {
  const { cookie, kind, bad } = sessionCookie(g, m);
  return {
    target: 'gateway /auth/session',
    origin: 'gateway',
    method: 'GET',
    path: '/auth/session',
    headers: cookie ? { cookie } : NO_HEADERS,
    expect: kind === 'big-header' ? undefined : [200],
    note: `cookie=${kind} ${bad ? '' : '(control)'}`,
  };
};

const GATEWAY_CALLBACK: Generator = (g, m) => {
  // A real pending login (its cookie, and mostly its own state), or forged ones.
  const real = g.chance(0.3) && m.pendingLogins.length > 0 ? g.pick(m.pendingLogins) : undefined;
  const pairs: Array<[string, string, boolean?]> = [
    ['code', g.b64url(43)],
    ['state', real && g.chance(0.7) ? real.state : g.b64url(43)],
    ['iss', g.chance(0.5) ? m.as : g.value()],
  ];
  if (g.chance(0.2)) pairs.push(['error', g.pick(['access_denied', 'login_required', g.value()])]);
  mutatePairs(g, pairs, ['code', 'state', 'iss', 'error', 'error_description', 'session_state', 'response']);
  const forged = g.chance(0.5) ? g.b64url(43) : g.headerText(g.range(0, 60)).replace(/;/g, '');
  const cookies = [real ? real.cookie : `${LOGIN_COOKIE_PREFIX}${g.b64url(12)}=${forged}`];
  if (g.chance(0.3)) cookies.push(sessionCookie(g, m).cookie ?? 'x=1');
  return {
    target: 'gateway /auth/callback',
    origin: 'gateway',
    method: 'GET',
    path: `/auth/callback?${encodePairs(pairs)}`,
    headers: g.chance(0.9) ? { cookie: cookies.join('; ') } : NO_HEADERS,
    note: `callback params=${pairs.map((p) => p[0]).join(',')}`,
  };
};

const GATEWAY_LOGIN: Generator = (g) => {
  const returnTo = g.pick([
    () => g.value(),
    () => `/${g.unicode(g.range(0, 40)).replace(/[\ud800-\udfff]/g, '')}`,
    () =>
      g.pick([
        '//evil.example',
        '/\\evil.example',
        '/%2f%2fevil.example',
        'https://evil.example',
        '/\t/evil',
        '/ok?x=1#frag',
        '/%0d%0aSet-Cookie:x=1',
      ]),
    () => `/${'a'.repeat(g.range(2000, 2100))}`,
  ])();
  const raw = g.chance(0.2);
  return {
    target: 'gateway /auth/login',
    origin: 'gateway',
    method: 'GET',
    path: `/auth/login?${raw ? `returnTo=${g.oddEncoding()}` : encodePairs([['returnTo', returnTo]])}${g.chance(0.1) ? '&returnTo=/x' : ''}`,
    headers: {},
    note: 'returnTo',
  };
};

const GATEWAY_LOGOUT: Generator = (g, m) => {
  // A logout with a real ticket would end a control session: only forged cookies here.
  let cookie = sessionCookie(g, m);
  while (!cookie.bad || cookie.kind === 'duplicate-name-forged-first') cookie = sessionCookie(g, m);
  const headers: Record<string, string> = cookie.cookie ? { cookie: cookie.cookie } : {};
  if (g.chance(0.7))
    headers.origin = g.pick([m.gateway, 'http://evil.example', 'null', g.headerText(g.range(0, 60))]);
  if (g.chance(0.7)) headers['x-csrf'] = g.pick(['1', '1', 'true', '']);
  return {
    target: 'gateway /auth/logout',
    origin: 'gateway',
    method: g.pick(['POST', 'POST', 'POST', 'GET', 'DELETE']),
    path: '/auth/logout',
    headers,
    note: `logout cookie=${cookie.kind}`,
  };
};

const GATEWAY_BACKCHANNEL: Generator = (g, m) => {
  let token: string;
  let kind: string;
  let expect: number[] | undefined;
  switch (g.int(8)) {
    case 0:
      token = g.pick(m.logoutTokens);
      kind = 'signed-by-issuer (first use or replay)';
      break;
    case 1:
    case 2:
      token = g.pick(m.forgedLogoutTokens);
      kind = 'forged';
      expect = [400];
      break;
    case 3: {
      const real = g.pick(m.logoutTokens);
      token = real.slice(0, g.range(0, real.length - 1));
      kind = 'truncated';
      expect = [400];
      break;
    }
    case 4: {
      const real = g.pick(m.logoutTokens);
      const at = g.int(real.length);
      token = real.slice(0, at) + (real[at] === 'A' ? 'B' : 'A') + real.slice(at + 1);
      kind = 'one-char-changed';
      break;
    }
    case 5:
      token = `${g.b64url(g.range(0, 60))}.${g.b64url(g.range(0, 200))}.${g.b64url(g.range(0, 300))}`;
      kind = 'jwt-shaped-garbage';
      expect = [400];
      break;
    case 6:
      token = g.chance(0.5) ? 'x'.repeat(g.range(16_385, 40_000)) : g.value();
      kind = 'garbage-or-oversized';
      expect = [400, 413];
      break;
    default:
      token = `${b64({ alg: g.pick(['none', 'HS256', 'RS256', 'ES256', 'NONE', '']), kid: g.value().slice(0, 50) })}.${b64({ iss: m.as, aud: GATEWAY_CLIENT_ID, jti: g.b64url(10), sid: g.value().slice(0, 50), events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })}.${g.b64url(g.range(0, 342))}`;
      kind = 'crafted-header';
      expect = [400];
  }
  const encoding = g.int(10);
  const headers: Record<string, string> = { 'content-type': FORM };
  let body: string;
  if (encoding < 7) body = encodePairs([['logout_token', token]]);
  else if (encoding === 7) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ logout_token: token });
    expect = undefined;
  } else if (encoding === 8) {
    body = `logout_token=${encodeURIComponent(token)}&logout_token=${encodeURIComponent(token)}`;
    expect = undefined;
  } else {
    headers['content-type'] = g.pick([
      'text/plain',
      'multipart/form-data; boundary=x',
      `${FORM}; charset=utf-16`,
      '',
    ]);
    body = g.chance(0.5) ? `logout_token=${g.oddEncoding()}` : g.bytes(g.range(0, 500)).toString('latin1');
    expect = undefined;
  }
  return {
    target: 'gateway /auth/backchannel-logout',
    origin: 'gateway',
    method: 'POST',
    path: '/auth/backchannel-logout',
    headers,
    body,
    expect,
    note: `logout_token=${kind} encoding=${encoding}`,
  };
};

const AS_AUTHORIZE: Generator = (g, m) => {
  const pairs: Array<[string, string, boolean?]> = [
    ['client_id', g.pick([RP.client_id, RP.client_id, GATEWAY_CLIENT_ID, RS.client_id, g.value()])],
    ['response_type', g.pick(['code', 'code', 'token', 'id_token', 'code id_token', 'none', g.value()])],
    [
      'redirect_uri',
      g.pick([RP.redirect_uris[0], RP.redirect_uris[0], 'https://evil.example/cb', g.value()]),
    ],
    [
      'scope',
      g.pick(['openid', 'openid profile offline_access', 'openid orders:read', 'profile', g.value()]),
    ],
    ['state', g.b64url(16)],
    ['nonce', g.b64url(16)],
    ['code_challenge', g.b64url(43)],
    ['code_challenge_method', g.pick(['S256', 'S256', 'plain', g.value()])],
  ];
  mutatePairs(g, pairs, [
    'prompt',
    'max_age',
    'claims',
    'request',
    'request_uri',
    'resource',
    'ui_locales',
    'login_hint',
    'id_token_hint',
    'acr_values',
    'response_mode',
    'registration',
    'display',
    'dpop_jkt',
    'authorization_details',
  ]);
  if (g.chance(0.15))
    pairs.push([
      'request',
      g.chance(0.5)
        ? `${b64({ alg: 'none' })}.${b64({ client_id: RP.client_id, redirect_uri: 'https://evil.example' })}.`
        : g.pick(m.forgedBearers),
    ]);
  if (g.chance(0.1))
    pairs.push(['id_token_hint', g.chance(0.5) ? m.idToken.slice(0, -5) : g.pick(m.forgedBearers)]);
  const post = g.chance(0.2);
  const query = encodePairs(pairs);
  return {
    target: 'AS /auth (authorization endpoint)',
    origin: 'as',
    method: post ? 'POST' : 'GET',
    path: post ? '/auth' : `/auth?${query}`,
    headers: post ? { 'content-type': FORM } : NO_HEADERS,
    body: post ? query : undefined,
    note: `params=${pairs.map((p) => p[0]).join(',')}`,
  };
};

const AS_TOKEN: Generator = (g, m) => {
  const grant = g.pick([
    'authorization_code',
    'refresh_token',
    'client_credentials',
    'password',
    'urn:ietf:params:oauth:grant-type:device_code',
    'implicit',
    g.value(),
  ]);
  const pairs: Array<[string, string, boolean?]> = [['grant_type', grant]];
  if (grant === 'authorization_code') {
    pairs.push(
      ['code', g.b64url(43)],
      ['redirect_uri', RP.redirect_uris[0]],
      ['code_verifier', g.b64url(g.range(0, 130))],
    );
  } else if (grant === 'refresh_token') {
    pairs.push([
      'refresh_token',
      g.pick([g.b64url(43), m.refresh.slice(0, -1), `${m.refresh}x`, m.jwt, g.value()]),
    ]);
  } else if (grant === 'client_credentials') {
    pairs.push(
      ['scope', g.pick(['orders:read', 'orders:write', 'openid', g.value()])],
      ['resource', g.pick([OPAQUE_RESOURCE, 'https://evil.example', g.value()])],
    );
  } else if (grant === 'password') {
    pairs.push(['username', 'alice'], ['password', 'wonderland']);
  }
  mutatePairs(g, pairs, [
    'resource',
    'scope',
    'code',
    'client_id',
    'client_secret',
    'client_assertion',
    'client_assertion_type',
    'audience',
    'device_code',
  ]);
  const headers: Record<string, string> = { 'content-type': FORM };
  switch (g.int(8)) {
    case 0:
      headers.authorization = basic(RP.client_id, RP.client_secret);
      break;
    case 1:
      headers.authorization = basic(RS.client_id, RS.client_secret);
      break;
    case 2:
      headers.authorization = basic(RP.client_id, g.value().slice(0, 200));
      break;
    case 3:
      headers.authorization = g.pick([
        'Basic',
        'Basic ',
        `Basic ${g.b64url(20)}`,
        `Basic ${Buffer.from(g.headerText(20)).toString('base64')}`,
        `Bearer ${m.jwt}`,
        `Basic ${'QUFB'.repeat(2000)}`,
        'Digest x',
      ]);
      break;
    case 4:
      pairs.push(['client_id', RP.client_id], ['client_secret', g.value()]);
      break;
    case 5:
      pairs.push(
        ['client_id', g.value()],
        ['client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
        ['client_assertion', g.pick(m.forgedBearers)],
      );
      break;
    case 6:
      headers.authorization = basic(RP.client_id, RP.client_secret);
      pairs.push(['client_id', RP.client_id], ['client_secret', RP.client_secret]);
      break;
    default:
      break;
  }
  let body: string | Buffer = encodePairs(pairs);
  const contentType = g.int(12);
  if (contentType === 0) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(Object.fromEntries(pairs));
  } else if (contentType === 1) {
    headers['content-type'] = g.pick([
      'text/plain',
      'multipart/form-data; boundary=zz',
      `${FORM}; charset=latin1`,
      'application/x-www-form-urlencoded; charset=utf-7',
    ]);
  } else if (contentType === 2) {
    body = g.bytes(g.range(0, 3000));
  } else if (contentType === 3) {
    delete headers['content-type'];
  } else if (contentType === 4) {
    headers['content-encoding'] = g.pick(['gzip', 'deflate', 'br', 'identity, gzip']);
  }
  return {
    target: 'AS /token',
    origin: 'as',
    method: g.chance(0.95) ? 'POST' : g.pick(['GET', 'PUT', 'DELETE']),
    path: '/token',
    headers,
    body,
    // Nothing here should mint tokens except client credentials of the RS with its allowed scope.
    note: `grant_type=${grant.slice(0, 40)} content=${contentType}`,
  };
};

const AS_INTROSPECTION: Generator = (g, m) => {
  const endpoint = g.pick(['/token/introspection', '/token/revocation']);
  const token = g.pick([
    () => g.b64url(43),
    () => m.opaque.slice(0, -1),
    () => g.pick(m.forgedBearers),
    () => m.jwt,
    () => g.value(),
    () => `${m.opaque}${g.b64url(2)}`,
  ])();
  const pairs: Array<[string, string, boolean?]> = [['token', token]];
  if (g.chance(0.5))
    pairs.push(['token_type_hint', g.pick(['access_token', 'refresh_token', 'id_token', g.value()])]);
  mutatePairs(g, pairs, ['token', 'token_type_hint', 'client_id', 'client_secret']);
  const headers: Record<string, string> = { 'content-type': FORM };
  const auth = g.int(4);
  if (auth === 0) headers.authorization = basic(RS.client_id, RS.client_secret);
  else if (auth === 1) headers.authorization = basic(RP.client_id, RP.client_secret);
  else if (auth === 2) headers.authorization = basic(g.value().slice(0, 100), g.value().slice(0, 100));
  return {
    target: 'AS /token/introspection + /token/revocation',
    origin: 'as',
    method: 'POST',
    path: endpoint,
    headers,
    body: encodePairs(pairs),
    // Revoking what it never held: a random token must never make the opaque control token die.
    note: `${endpoint} auth=${auth}`,
  };
};

const AS_USERINFO: Generator = (g, m) => {
  const bearer = g.pick([
    () => g.pick(m.forgedBearers),
    () => m.jwt.slice(0, g.range(0, m.jwt.length - 1)),
    () => `${m.jwt}${'A'.repeat(g.range(1, 12_000))}`,
    () => g.b64url(43),
    () => m.opaque.slice(0, -2),
    () => g.headerText(g.range(0, 200)),
  ])();
  const headers: Record<string, string> = {};
  const scheme = g.int(6);
  if (scheme < 4) headers.authorization = `Bearer ${bearer}`;
  else if (scheme === 4)
    headers.authorization = g.pick([
      `bearer  ${bearer}`,
      'Bearer',
      `Basic ${bearer}`,
      `DPoP ${bearer}`,
      `Bearer ${bearer}, Bearer ${bearer}`,
    ]);
  if (g.chance(0.1)) headers.dpop = g.pick(m.forgedBearers);
  const method = g.pick(['GET', 'GET', 'POST']);
  const query = scheme === 5 ? `?access_token=${encodeURIComponent(bearer)}` : '';
  return {
    target: 'AS /me (userinfo, bearer tokens)',
    origin: 'as',
    method,
    path: `/me${query}`,
    headers: method === 'POST' ? { ...headers, 'content-type': FORM } : headers,
    body: method === 'POST' ? (g.chance(0.5) ? `access_token=${encodeURIComponent(bearer)}` : '') : undefined,
    expect: [400, 401, 413, 431],
    note: `userinfo scheme=${scheme}`,
  };
};

const DEMO_API_BEARER: Generator = (g, m) => {
  if (!m.demo) return AS_USERINFO(g, m);
  const control = g.chance(0.05);
  const bearer = control
    ? m.jwt
    : g.pick([
        () => g.pick(m.forgedBearers),
        () => m.jwt.slice(0, g.range(0, m.jwt.length - 1)),
        () => `${m.jwt}${g.b64url(g.range(1, 12_000))}`,
        () => g.b64url(g.pick([16, 43, 64, 200])),
        () => m.opaque,
        () => m.opaque.slice(0, -2),
        () => m.refresh,
        () => m.idToken,
        () => g.headerText(g.range(0, 200)),
      ])();
  const scheme = control ? 0 : g.int(6);
  const headers: Record<string, string> = {};
  if (scheme < 4) headers.authorization = `Bearer ${bearer}`;
  else if (scheme === 4)
    headers.authorization = g.pick([
      `bearer  ${bearer}`,
      'Bearer',
      `Basic ${bearer}`,
      `Bearer ${bearer}, Bearer ${bearer}`,
    ]);
  const path = control
    ? '/api/whoami'
    : g.pick([
        '/api/whoami',
        '/api/whoami',
        '/api/orders',
        `/api/orders/${encodeURIComponent(g.value()).slice(0, 200)}`,
      ]);
  const method = control ? 'GET' : g.pick(['GET', 'GET', 'POST', 'DELETE']);
  const json =
    method === 'POST'
      ? g.pick([
          JSON.stringify({ item: g.value(), quantity: g.range(-5, 1e9) }),
          '{"item":',
          g.bytes(g.range(0, 300)).toString('latin1'),
        ])
      : undefined;
  return {
    target: 'demo API (bearer tokens)',
    origin: 'demo',
    method,
    path,
    headers: json === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: json,
    // Only alice's own token gets in; a forged, altered or foreign token never answers 2xx.
    expect: control ? [200] : [400, 401, 403, 404, 413, 431],
    note: `${method} ${path.slice(0, 40)} scheme=${scheme}${control ? ' (control)' : ''}`,
  };
};

const AS_INTERACTION: Generator = (g, m) => {
  const interaction = g.pick(m.interactions);
  const uid = g.chance(0.85)
    ? interaction.uid
    : g.pick([g.b64url(21), g.value().slice(0, 100), '..%2f..%2fetc', '%00']);
  const step = g.pick(['login', 'login', 'login', 'confirm', 'abort', '']);
  if (step === '' || g.chance(0.1)) {
    return {
      target: 'AS /interaction (sign-in forms)',
      origin: 'as',
      method: 'GET',
      path: `/interaction/${encodeURIComponent(uid)}`,
      headers: g.chance(0.7) ? { cookie: interaction.cookie } : NO_HEADERS,
      note: 'interaction page',
    };
  }
  const csrf = g.pick([
    () => interaction.csrf,
    () => interaction.csrf,
    () => g.b64url(43),
    () => '',
    // Same length as the cookie's token, other bytes: multi-byte characters and Latin-1.
    () => `${interaction.csrf.slice(0, 41)}é`,
    () => `é${interaction.csrf.slice(1)}`,
    () => 'ñ'.repeat(43),
  ])();
  const fields: Array<[string, string, boolean?]> = [
    ['csrf', csrf],
    ['username', g.pick(['alice', 'power-user', 'nobody', g.value().slice(0, 300)])],
    ['password', g.pick(['wrong', g.value().slice(0, 1100), 'p'.repeat(g.range(1000, 1100))])],
  ];
  const oddity = g.int(10);
  let body: string;
  const headers: Record<string, string> = { 'content-type': FORM };
  if (oddity === 0) {
    fields[g.int(3)] = [fields[g.int(3)][0], g.oddEncoding(), true];
    body = encodePairs(fields);
  } else if (oddity === 1) {
    body = `${encodePairs(fields)}&${Array.from({ length: g.range(18, 40) }, (_, i) => `f${i}=1`).join('&')}`;
  } else if (oddity === 2) {
    body = `${encodePairs(fields)}&pad=${'x'.repeat(g.range(15_000, 40_000))}`;
  } else if (oddity === 3) {
    body = `username[]=a&username[]=b&password=x&csrf=${encodeURIComponent(csrf)}`;
  } else if (oddity === 4) {
    body = `${encodePairs(fields)}&username=second`;
  } else if (oddity === 5) {
    headers['content-type'] = g.pick([
      'application/json',
      `${FORM}; charset=utf-16`,
      'text/plain',
      'multipart/form-data; boundary=q',
    ]);
    body = JSON.stringify(Object.fromEntries(fields));
  } else if (oddity === 6) {
    headers['content-encoding'] = g.pick(['gzip', 'deflate', 'x-unknown']);
    body = encodePairs(fields);
  } else {
    body = encodePairs(fields);
  }
  if (g.chance(0.3)) headers.origin = g.pick([m.as, 'http://evil.example', 'null']);
  const cookieChoice = g.int(5);
  if (cookieChoice < 3) headers.cookie = interaction.cookie;
  else if (cookieChoice === 3)
    headers.cookie = `cloakroom.csrf=${g.chance(0.5) ? 'ñ'.repeat(43) : g.b64url(43)}; ${interaction.cookie.replace(/cloakroom\.csrf=[^;]*/, '')}`;
  return {
    target: 'AS /interaction (sign-in forms)',
    origin: 'as',
    method: 'POST',
    path: `/interaction/${encodeURIComponent(uid)}/${step}`,
    headers,
    body,
    note: `${step} oddity=${oddity} csrf-kind=${csrf === interaction.csrf ? 'valid' : 'other'} cookie=${cookieChoice}`,
  };
};

const AS_END_SESSION: Generator = (g, m) => {
  const pairs: Array<[string, string, boolean?]> = [];
  if (g.chance(0.7))
    pairs.push([
      'id_token_hint',
      g.pick([m.idToken.slice(0, -3), g.pick(m.forgedBearers), g.value(), m.jwt]),
    ]);
  if (g.chance(0.5))
    pairs.push([
      'post_logout_redirect_uri',
      g.pick(['https://evil.example/', RP.post_logout_redirect_uris[0], g.value()]),
    ]);
  if (g.chance(0.5)) pairs.push(['client_id', g.pick([RP.client_id, g.value()])]);
  if (g.chance(0.3)) pairs.push(['state', g.value()]);
  mutatePairs(g, pairs, ['logout_hint', 'ui_locales', 'xsrf', 'logout']);
  const confirm = g.chance(0.2);
  const path = confirm ? '/session/end/confirm' : '/session/end';
  const post = confirm || g.chance(0.3);
  return {
    target: 'AS /session/end (logout)',
    origin: 'as',
    method: post ? 'POST' : 'GET',
    path: post ? path : `${path}?${encodePairs(pairs)}`,
    headers: post ? { 'content-type': FORM } : NO_HEADERS,
    body: post
      ? encodePairs(confirm ? [['xsrf', g.value()], ['logout', 'yes'], ...pairs] : pairs)
      : undefined,
    note: `${path} params=${pairs.map((p) => p[0]).join(',')}`,
  };
};

const ANY_PATH: Generator = (g) => {
  const origin = g.pick(['gateway', 'as'] as const);
  const path = g.pick([
    () => `/${encodeURIComponent(g.value()).slice(0, 500)}`,
    () =>
      g.pick([
        '/%',
        '/%zz',
        '/..%2f..%2fetc%2fpasswd',
        '/.well-known/../auth',
        '/auth/%2e%2e/metrics',
        '//auth',
        '/auth/callback/..',
        '/jwks?x[]=1',
        '/.well-known/openid-configuration?' + 'a=1&'.repeat(500),
      ]),
    () => `/${'a/'.repeat(g.range(100, 2000))}`,
    () => `/${g.oddEncoding()}`,
  ])();
  return {
    target: 'any path (both servers)',
    origin,
    method: g.pick(['GET', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'TRACE']),
    path,
    headers: g.chance(0.2)
      ? {
          'x-forwarded-for': g.headerText(30),
          'x-forwarded-host': 'evil.example',
          host: g.pick(['evil.example', '']),
        }
      : NO_HEADERS,
    note: `${origin} path`,
  };
};

/** Targets and their weights (per mille) in the mix. */
export const TARGETS: Array<[Generator, number]> = [
  [GATEWAY_API, 230],
  [GATEWAY_SESSION, 70],
  [GATEWAY_CALLBACK, 70],
  [GATEWAY_LOGIN, 50],
  [GATEWAY_LOGOUT, 50],
  [GATEWAY_BACKCHANNEL, 110],
  [AS_AUTHORIZE, 100],
  [AS_TOKEN, 110],
  [AS_INTROSPECTION, 50],
  [AS_USERINFO, 60],
  [AS_INTERACTION, 50],
  [AS_END_SESSION, 30],
  [DEMO_API_BEARER, 60],
  [ANY_PATH, 20],
];
const WEIGHT_TOTAL = TARGETS.reduce((sum, [, w]) => sum + w, 0);

/** The probe number `index` of the run with `seed`. */
export function probe(seed: number, index: number, material: Material): Probe {
  const g = new Gen(seed, index);
  let ticket = g.int(WEIGHT_TOTAL);
  for (const [generate, weight] of TARGETS) {
    if (ticket < weight) return generate(g, material);
    ticket -= weight;
  }
  return TARGETS[0][0](g, material);
}

// ---------------------------------------------------------------------------------------------- known defects

/**
 * Defects this generator found, fixed since (1ed7045). A failure of the same shape is labelled with its
 * defect, so a regression is recognised at once; every failure still fails the run.
 *
 * - `as-csrf-multibyte`: the sign-in forms compare the CSRF token's character count, then the UTF-8 bytes
 *   with timingSafeEqual, which throws on a length mismatch (apps/authorization-server/src/interactions/csrf.ts).
 * - `as-id-over-4096`: an id, token, code or client_id over 4,096 characters reaches the sealed store, whose
 *   StoreMisuse becomes a 500 (libs/oidc-adapter/src/sealed-oidc.adapter.ts find → sealed.store.ts assertSecret).
 * - `rs-unsigned-jwt-503`: a JWT with an empty segment (`header.payload.`, alg none) is not taken for a JWT by
 *   the resource server's `auto` mode, goes to introspection, which refuses JWT-shaped tokens with 400, and
 *   every non-2xx introspection answer becomes 503 (the JWT-shape check, now isJwtShaped in libs/token-budget, and
 *   libs/resource-server/src/token-verifier.ts introspect).
 */
export function knownDefect(p: Probe, status: string): string | undefined {
  if (p.origin === 'demo' && status === '503') {
    const token = /^bearer\s+(\S*)$/i.exec(p.headers.authorization ?? '')?.[1] ?? '';
    const parts = token.split('.');
    return parts.length === 3 && parts.some((part) => part === '') ? 'rs-unsigned-jwt-503' : undefined;
  }
  if (status !== '500' || p.origin !== 'as') return undefined;
  const body = p.body === undefined ? '' : p.body.toString('latin1');
  if (
    p.target.startsWith('AS /interaction') &&
    /[\u0080-\uffff]|%[c-f][0-9a-f]/i.test(`${p.headers.cookie ?? ''}${body}`)
  ) {
    return 'as-csrf-multibyte';
  }
  const basicAuth = /^Basic (.*)$/.exec(p.headers.authorization ?? '')?.[1];
  const parts = [
    p.path,
    body,
    ...Object.values(p.headers),
    basicAuth ? Buffer.from(basicAuth, 'base64').toString('latin1') : '',
  ];
  if (parts.some((part) => part.split(/[&=?;, :/"{}]/).some((segment) => segment.length > 4096)))
    return 'as-id-over-4096';
  return undefined;
}

// ---------------------------------------------------------------------------------------------- runner

export interface Failure {
  index: number;
  target: string;
  status: string;
  note: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** A known, reported defect this failure belongs to. */
  defect?: string;
}

export interface HostileReport {
  seed: number;
  /** Probes the servers answered (or failed to answer). */
  sent: number;
  /** Probes the HTTP client would not send (invalid header bytes): not counted as inputs. */
  refusedByClient: number;
  elapsedMs: number;
  /** target → status (or transport error code) → count */
  counts: Record<string, Record<string, number>>;
  /** The first 200 failures. */
  failures: Failure[];
  /** Failures per known defect, and `unclassified` (all of them). */
  defects: Record<string, number>;
}

/**
 * Sends `total` probes with `concurrency` keep-alive connections per server, stopping early at the time
 * limit. A status ≥ 500, a transport error or a status outside `expect` is a failure.
 */
export async function runHostileInput(
  material: Material,
  options: { seed: number; total: number; concurrency: number; timeLimitMs: number; start?: number },
): Promise<HostileReport> {
  const pool = (origin: string) =>
    new Pool(origin, {
      connections: options.concurrency,
      pipelining: 1,
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
  const pools = {
    gateway: pool(material.gateway),
    as: pool(material.as),
    demo: pool(material.demo ?? material.as),
  };
  const counts: HostileReport['counts'] = {};
  const failures: Failure[] = [];
  const defects: Record<string, number> = {};
  const started = Date.now();
  // HOSTILE_TRACE=<file>: each probe's index is written before it is sent (finds a probe that hangs a server).
  const trace = process.env.HOSTILE_TRACE ? openSync(process.env.HOSTILE_TRACE, 'w') : undefined;
  let nextIndex = options.start ?? 0;
  const inFlight = new Map<number, string>();
  const ticker =
    trace === undefined
      ? undefined
      : setInterval(() => writeSync(trace, `in flight: ${JSON.stringify([...inFlight])}\n`), 1000);
  let sent = 0;
  let refused = 0;
  const count = (target: string, status: string) => {
    const row = (counts[target] ??= {});
    row[status] = (row[status] ?? 0) + 1;
  };
  const worker = async () => {
    for (;;) {
      const index = nextIndex++;
      if (index >= (options.start ?? 0) + options.total || Date.now() - started > options.timeLimitMs) return;
      const p = probe(options.seed, index, material);
      // A header value HTTP cannot carry (controls, characters beyond Latin-1) is not an input a server can see;
      // undici does not always refuse it cleanly, so it is never sent.
      if (Object.values(p.headers).some((value) => !SENDABLE_HEADER.test(value))) {
        refused++;
        continue;
      }
      if (trace !== undefined) writeSync(trace, `${index} ${p.target} ${p.method} ${p.path.slice(0, 100)}\n`);
      inFlight.set(index, p.note);
      let status: string;
      let failed = false;
      try {
        const response = await pools[p.origin].request({
          path: p.path,
          method: p.method as 'GET',
          headers: p.headers,
          body: p.body,
          // A server that neither answers nor reads the body would stall the run: every probe has a deadline.
          signal: AbortSignal.timeout(8000),
        });
        await response.body.dump({ limit: 1 << 20 }).catch(() => undefined);
        status = String(response.statusCode);
        failed =
          response.statusCode >= 500 ||
          (p.expect !== undefined && !p.expect.includes(response.statusCode)) ||
          (p.deny === true && response.statusCode >= 200 && response.statusCode < 300);
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).name;
        // undici refusing to send a header value is the client's doing, not an input the server saw.
        if (code === 'UND_ERR_INVALID_ARG') {
          refused++;
          continue;
        }
        status = `error:${code}`;
        failed = true;
      }
      inFlight.delete(index);
      sent++;
      count(p.target, status);
      const defect = failed ? knownDefect(p, status) : undefined;
      if (failed) defects[defect ?? 'unclassified'] = (defects[defect ?? 'unclassified'] ?? 0) + 1;
      // The first 200 failures, and every unclassified one (up to 200 more): those are the new findings.
      if (failed && (failures.length < 200 || (defect === undefined && failures.length < 400))) {
        failures.push({
          index,
          target: p.target,
          status,
          note: p.note,
          method: p.method,
          path: p.path.slice(0, 160),
          headers: Object.fromEntries(
            Object.entries(p.headers).map(([k, v]) => [
              k,
              v.length > 200 ? `${v.slice(0, 200)}…(${v.length})` : v,
            ]),
          ),
          body:
            p.body === undefined
              ? undefined
              : `${p.body.toString().slice(0, 200)}${p.body.length > 200 ? `…(${p.body.length})` : ''}`,
          defect,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  if (ticker) clearInterval(ticker);
  await Promise.all([pools.gateway.close(), pools.as.close(), pools.demo.close()]);
  return {
    seed: options.seed,
    sent,
    refusedByClient: refused,
    elapsedMs: Date.now() - started,
    counts,
    failures,
    defects,
  };
}

/** Both servers still answer, and the control sessions still work (nothing forged ended them). */
export async function survivors(material: Material): Promise<{ healthz: number[]; sessions: number[] }> {
  await sleep(10);
  const servers = [material.gateway, material.as, ...(material.demo ? [material.demo] : [])];
  const healthz = await Promise.all(servers.map(async (origin) => (await fetch(`${origin}/healthz`)).status));
  const sessions = await Promise.all(
    material.tickets.map(
      async (ticket) =>
        (
          await fetch(`${material.gateway}/api/whoami`, {
            headers: { cookie: `${SESSION_COOKIE}=${ticket}` },
          })
        ).status,
    ),
  );
  return { healthz, sessions };
}

/** The counts as a markdown table: one row per target, one column per status. */
export function formatReport(report: HostileReport): string {
  const statuses = [...new Set(Object.values(report.counts).flatMap((row) => Object.keys(row)))].sort();
  const lines = [
    `| target | ${statuses.join(' | ')} | total |`,
    `|---|${statuses.map(() => '---:').join('|')}|---:|`,
  ];
  for (const [target, row] of Object.entries(report.counts).sort()) {
    const total = Object.values(row).reduce((a, b) => a + b, 0);
    lines.push(`| ${target} | ${statuses.map((s) => row[s] ?? 0).join(' | ')} | ${total} |`);
  }
  const totals = statuses.map((s) =>
    Object.values(report.counts).reduce((sum, row) => sum + (row[s] ?? 0), 0),
  );
  lines.push(`| **all** | ${totals.join(' | ')} | ${report.sent} |`);
  return lines.join('\n');
}
