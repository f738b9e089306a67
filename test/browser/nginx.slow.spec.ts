import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withAllGroups } from '../support/full-token.js';
import { freePort } from '../support/ports.js';
import { SESSION_COOKIE, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { startNginx } from '../support/nginx.fixture.js';
import type { RunningNginx } from '../support/nginx.fixture.js';

const TOO_LARGE = 'Request Header Or Cookie Too Large';

/** What the test measured, printed at the end for RELIABILITY.md. */
const figures: Record<string, number | string> = {};

describe('nginx with default header buffers in front of Cloakroom', () => {
  let stack: Stack;
  let nginx: RunningNginx;
  let gatewayUrl: string;
  let issuer: string;

  beforeAll(async () => {
    const [gatewayPort, issuerPort] = [await freePort(), await freePort()];
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    issuer = `http://127.0.0.1:${issuerPort}`;
    // Browsers reach both the gateway and the authorization server through nginx only.
    stack = await startStack({ gatewayUrl, issuerUrl: issuer, api: 'demo' });
    nginx = await startNginx([
      { port: gatewayPort, upstream: stack.gateways[0] },
      { port: issuerPort, upstream: stack.asUrl },
    ]);
  });

  afterAll(async () => {
    await nginx?.stop();
    await stack?.stop();
    console.log(`nginx figures: ${JSON.stringify(figures)}`);
  });

  it('runs the whole flow through nginx: login redirects, form, callback, API call, logout', async () => {
    const { cookie, browser } = await stack.login('power-user', 'many-groups');
    figures.cookieHeaderBytes = cookie.length;
    const whoami = await browser.fetch(`${gatewayUrl}/api/whoami`);
    expect(whoami.status).toBe(200);
    const body = (await whoami.json()) as { sub: string; tokenBytes: number; via: string };
    // The demo API behind the gateway verified the token (JWKS fetched through nginx), a token under the
    // 4 KiB budget whose 272 groups the API fetched from the issuer's /claims.
    expect(body).toMatchObject({ sub: 'power-user', via: 'jwt' });
    expect(body.tokenBytes).toBeLessThanOrEqual(4096);
    figures.forwardedTokenBytes = body.tokenBytes;

    const session = (await (await browser.fetch(`${gatewayUrl}/auth/session`)).json()) as {
      authenticated: boolean;
    };
    expect(session.authenticated).toBe(true);
    const logout = await browser.fetch(`${gatewayUrl}/auth/logout`, {
      method: 'POST',
      headers: { origin: gatewayUrl, 'x-csrf': '1' },
    });
    expect(logout.status).toBe(200);
    const { endSessionUrl } = (await logout.json()) as { endSessionUrl: string };
    expect(endSessionUrl.startsWith(`${issuer}/`)).toBe(true);
    expect((await fetch(`${gatewayUrl}/api/whoami`, { headers: { cookie } })).status).toBe(401);
    // The pages were served through nginx: the access log would show them; the rejections below must not
    // have happened yet.
    expect(nginx.errorLog()).not.toContain('too large');
  });

  it('rejects the full power-user JWT carried as a cookie with 400, where the Cloakroom cookie passes', async () => {
    const { cookie } = await stack.login('power-user', 'many-groups');
    // The token the gateway forwards on this session, taken from the recording upstream behind it.
    expect((await fetch(`${gatewayUrl}/recorded/token`, { headers: { cookie } })).status).toBe(200);
    const token = withAllGroups(stack.upstream.authorizations.at(-1)!.replace(/^Bearer /, ''));
    expect(token.split('.')).toHaveLength(3);
    expect(token.length).toBeGreaterThan(8192);

    const asCookie = await fetch(`${gatewayUrl}/api/whoami`, {
      headers: { cookie: `token=${token}` },
    });
    const text = await asCookie.text();
    expect(asCookie.status).toBe(400);
    expect(text).toContain(TOO_LARGE);
    // Same through the authorization server's nginx server, and as a bearer header (a SPA holding the JWT).
    const atIssuer = await fetch(`${issuer}/me`, { headers: { cookie: `token=${token}` } });
    expect(atIssuer.status).toBe(400);
    await atIssuer.arrayBuffer();
    const asBearer = await fetch(`${gatewayUrl}/api/whoami`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(asBearer.status).toBe(400);
    await asBearer.arrayBuffer();
    // Node (16 KiB header limit) would still have taken it: the gateway answers 401, not 431.
    const direct = await fetch(`${stack.gateways[0]}/api/whoami`, { headers: { cookie: `token=${token}` } });
    expect(direct.status).toBe(401);
    await direct.arrayBuffer();
    // The 53-byte ticket next to that same cookie name passes nginx.
    const ticket = await fetch(`${gatewayUrl}/api/whoami`, { headers: { cookie: `${cookie}; other=1` } });
    expect(ticket.status).toBe(200);
    await ticket.arrayBuffer();
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);

    Object.assign(figures, {
      jwtBytes: token.length,
      jwtCookieHeaderBytes: `Cookie: token=${token}`.length,
      nginxStatusJwtCookie: asCookie.status,
      nginxStatusJwtBearer: asBearer.status,
      directGatewayStatusJwtCookie: direct.status,
      nginxStatusCloakroomCookie: ticket.status,
    });
  });
});
