import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSign,
  generateKeyPairSync,
  randomUUID,
} from 'node:crypto';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { OPAQUE_RESOURCE, RP, isRpCallback } from '../../support/authorization-server.js';
import { TestBrowser, formAction, inputValue } from '../../support/browser.js';
import { dumpPrefix } from '../../support/redis.js';
import { GATEWAY_CLIENT_ID, LOGIN_COOKIE_PREFIX } from '../../support/stack.js';
import type { Stack } from '../../support/stack.js';
import { b64 } from './hostile.probe.js';

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
  const callback = await new TestBrowser().signIn(
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
    isRpCallback,
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
