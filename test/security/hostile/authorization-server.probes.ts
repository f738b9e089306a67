import { OPAQUE_RESOURCE, RP, RS } from '../../support/authorization-server.js';
import { GATEWAY_CLIENT_ID } from '../../support/stack.js';
import { FORM, NO_HEADERS, b64, basic } from './hostile.probe.js';
import type { Probe, ProbeGenerator } from './hostile.probe.js';
import { encodePairs, mutatePairs } from './seeded.generator.js';

// The authorization server's probes: the authorization, token, introspection, revocation, userinfo and logout
// endpoints, and the sign-in forms.

export const AS_AUTHORIZE: ProbeGenerator = (g, m) => {
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

export const AS_TOKEN: ProbeGenerator = (g, m) => {
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

export const AS_INTROSPECTION: ProbeGenerator = (g, m) => {
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

export const AS_USERINFO: ProbeGenerator = (g, m) => {
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

export const AS_INTERACTION: ProbeGenerator = (g, m) => {
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

export const AS_END_SESSION: ProbeGenerator = (g, m) => {
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

/**
 * Defects the generator found at the authorization server, fixed since (1ed7045); a 500 of the same shape is
 * labelled with its defect, so a regression is recognised at once.
 *
 * - `as-csrf-multibyte`: the sign-in forms compare the CSRF token's character count, then the UTF-8 bytes
 *   with timingSafeEqual, which throws on a length mismatch (apps/authorization-server/src/interactions/csrf.ts).
 * - `as-id-over-4096`: an id, token, code or client_id over 4,096 characters reaches the sealed store, whose
 *   StoreMisuse becomes a 500 (libs/oidc-adapter/src/sealed-oidc.adapter.ts find → sealed.store.ts assertSecret).
 */
export function authorizationServerDefect(p: Probe, status: string): string | undefined {
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
