import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { freePort } from '../../../test/support/ports.js';
import { startGateway } from './bootstrap.js';
import type { StartedGateway } from './bootstrap.js';
import {
  FIXTURE_CLIENT_SECRET,
  FIXTURE_RESOURCE,
  FIXTURE_SCOPES,
  startFixtureProvider,
} from '../../../test/support/openid-provider.fixture.js';
import type { FixtureProvider } from '../../../test/support/openid-provider.fixture.js';
import { startFixtureUpstream } from '../../../test/support/recording-upstream.fixture.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Slow suite (a real browser), not part of `npm test`: `npm run test:browser`.
describe('the demo page in Chromium', () => {
  let op: FixtureProvider;
  let upstream: Awaited<ReturnType<typeof startFixtureUpstream>>;
  let gateway: StartedGateway;
  let browser: Browser;
  let gatewayUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    // `localhost` is a secure context: the real __Host- cookie (Secure) works over plain http there.
    gatewayUrl = `http://localhost:${port}`;
    op = await startFixtureProvider({ gatewayUrl, accessTokenTtlSeconds: 60, groups: 12 });
    upstream = await startFixtureUpstream();
    gateway = await startGateway({
      PORT: String(port),
      MANAGEMENT_PORT: '0',
      ISSUER_URL: op.issuer,
      GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
      GATEWAY_PUBLIC_URL: gatewayUrl,
      GATEWAY_ROUTES: `/api=${upstream.url}`,
      GATEWAY_API_RESOURCE: FIXTURE_RESOURCE,
      GATEWAY_SCOPES: FIXTURE_SCOPES,
      LOG_LEVEL: 'silent',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await op?.close();
    await upstream?.close();
  });

  it('logs in, shows who and the sizes, calls /api/whoami, logs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${gatewayUrl}/`);
    await page.waitForSelector('text=Nobody is signed in.');

    await Promise.all([page.waitForURL(`${gatewayUrl}/`), page.click('#login')]);
    await page.waitForSelector('text=Signed in as Fixture alice');
    // The page's hop measurement may already have called the upstream, which sets a cookie of its own.
    const cookies = (await context.cookies(gatewayUrl)).filter((c) => c.name !== 'upstream-pref');
    expect(cookies.map((c) => c.name)).toEqual(['__Host-cloakroom']);
    expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    expect(await page.textContent('#size-cookie')).toBe(String('__Host-cloakroom'.length + 1 + 43));
    expect(Number((await page.textContent('#size-access'))!.replace(/\D/g, ''))).toBeGreaterThan(500);
    // Both ends of the session, the store in use, and what the cookie's bytes are.
    const expiry = (await page.textContent('#expiry'))!;
    expect(expiry).toMatch(
      /^Without activity the session ends at .+; in any case it ends at .+, its absolute limit\.$/,
    );
    expect(expiry).not.toContain('Invalid Date');
    expect(await page.textContent('#sizes')).toContain('the gateway’s memory, encrypted');
    expect(await page.textContent('#sizes')).not.toContain('Redis');
    expect(await page.textContent('#cookie-note')).toContain(
      'the name __Host-cloakroom (16) + "=" (1) + the ticket (43)',
    );

    // Every hop's largest header line: the Cookie the browser sends, the Authorization each route forwards.
    await page.waitForSelector('#hop-table >> text=gateway → /api');
    const hops = (await page.textContent('#hop-table'))!;
    expect(hops).toContain(`browser → gatewayCookie${'Cookie: __Host-cloakroom='.length + 43 + 2}`);

    await page.click('#whoami');
    await page.waitForSelector('#answer:has-text("200")');
    const answer = (await page.textContent('#answer'))!;
    expect(answer).toContain('"sawCookie": false');
    // The session cookie is invisible to scripts; an upstream cannot set one of the gateway's names.
    expect(await page.evaluate('document.cookie')).toBe('upstream-pref=1');

    await page.click('#logout');
    await page.waitForURL((url) => url.href.startsWith(op.issuer));
    const after = await fetch(`${gatewayUrl}/api/whoami`, {
      headers: { cookie: `__Host-cloakroom=${cookies[0].value}` },
    });
    expect(after.status).toBe(401);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('says the session store is unavailable during an outage, with or without a session', async () => {
    const port = await freePort();
    const downUrl = `http://localhost:${port}`;
    const down = await startGateway({
      PORT: String(port),
      MANAGEMENT_PORT: '0',
      ISSUER_URL: op.issuer,
      GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
      GATEWAY_PUBLIC_URL: downUrl,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      REDIS_COMMAND_TIMEOUT_MS: '200',
      LOG_LEVEL: 'silent',
    });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const sentence = 'The session store is unavailable right now';
      expect((await page.goto(`${downUrl}/`))?.status()).toBe(503);
      await page.waitForLoadState('networkidle');
      expect(await page.textContent('#who')).toContain(sentence);
      expect(await page.isHidden('#login')).toBe(true);
      // With a session cookie, /auth/user itself answers 503: the script says so, not "Nobody is signed in."
      // (set from the page: localhost is a secure context, where a __Host- cookie may be written over http)
      await page.evaluate(`document.cookie = '__Host-cloakroom=${'A'.repeat(43)}; Secure; Path=/'`);
      const [answer, reloaded] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/auth/user')),
        page.reload(),
      ]);
      expect(reloaded?.status()).toBe(503);
      expect(answer.status()).toBe(503);
      await page.waitForLoadState('networkidle');
      expect(await page.textContent('#who')).toContain(sentence);
      // A navigation that fails gets a page with a way back, not JSON.
      const login = await page.goto(`${downUrl}/auth/login`);
      expect(login?.status()).toBe(503);
      expect(await page.textContent('body')).toContain(sentence);
      expect(await page.getAttribute('a', 'href')).toBe('/');
    } finally {
      await context.close();
      await down.close();
    }
  });
});
