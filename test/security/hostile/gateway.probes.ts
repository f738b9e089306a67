import { GATEWAY_CLIENT_ID, LOGIN_COOKIE_PREFIX, SESSION_COOKIE } from '../../support/stack.js';
import type { Material } from './hostile.material.js';
import { FORM, NO_HEADERS, b64 } from './hostile.probe.js';
import type { ProbeGenerator } from './hostile.probe.js';
import { encodePairs, mutatePairs } from './seeded.generator.js';
import type { SeededGenerator } from './seeded.generator.js';

// The gateway's probes: session cookies at /api and /auth/session, the login, callback and logout routes, and
// logout tokens at the back channel.

/** A Cookie header for the gateway: never a real ticket unchanged unless `control` says so. */
function sessionCookie(g: SeededGenerator, m: Material): { cookie?: string; kind: string; bad: boolean } {
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

export const GATEWAY_API: ProbeGenerator = (g, m) => {
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

export const GATEWAY_SESSION: ProbeGenerator = (g, m) => {
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

export const GATEWAY_CALLBACK: ProbeGenerator = (g, m) => {
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

export const GATEWAY_LOGIN: ProbeGenerator = (g) => {
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

export const GATEWAY_LOGOUT: ProbeGenerator = (g, m) => {
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

export const GATEWAY_BACKCHANNEL: ProbeGenerator = (g, m) => {
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
