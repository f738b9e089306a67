import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../../../test/support/ports.js';
import { connectionRefused, openRaw, until } from '../../../test/support/raw-http.js';
import { startGateway } from './bootstrap.js';
import { TestBrowser as CookieJar } from '../../../test/support/browser.js';
import {
  FIXTURE_CLIENT_SECRET,
  FIXTURE_RESOURCE,
  FIXTURE_SCOPES,
  startFixtureProvider,
} from '../../../test/support/openid-provider.fixture.js';
import type { FixtureProvider } from '../../../test/support/openid-provider.fixture.js';
import { startFixtureUpstream } from '../../../test/support/recording-upstream.fixture.js';

const MAIN = 'apps/gateway/dist/main.js';

describe('gateway shutdown', () => {
  let port: number;
  let publicUrl: string;
  let op: FixtureProvider;
  let upstream: Awaited<ReturnType<typeof startFixtureUpstream>>;
  const env = () => ({
    NODE_ENV: 'test',
    PORT: String(port),
    MANAGEMENT_PORT: '0',
    ISSUER_URL: op.issuer,
    GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
    GATEWAY_PUBLIC_URL: publicUrl,
    GATEWAY_ROUTES: `/api=${upstream.url}`,
    GATEWAY_API_RESOURCE: FIXTURE_RESOURCE,
    GATEWAY_SCOPES: FIXTURE_SCOPES,
    GATEWAY_COOKIE_INSECURE_DEV: 'true',
    GATEWAY_UPSTREAM_TIMEOUT_MS: '10000',
    LOG_LEVEL: 'silent',
  });

  async function login(): Promise<string> {
    const jar = new CookieJar();
    await jar.follow(`${publicUrl}/auth/login`, (next) => next.origin === publicUrl && next.pathname === '/');
    return `cloakroom=${jar.get(publicUrl, 'cloakroom')!}`;
  }

  /** A proxied request to the upstream's 2-second path, on a raw connection, once the upstream has it. */
  async function slowRequest(cookie: string) {
    const before = upstream.seen.length;
    const connection = await openRaw(publicUrl);
    connection.write(`GET /api/slow HTTP/1.1\r\nHost: gateway\r\nCookie: ${cookie}\r\n\r\n`);
    await until(() => upstream.seen.slice(before).some((seen) => seen.url === '/api/slow'));
    return connection;
  }

  beforeAll(async () => {
    port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    op = await startFixtureProvider({ gatewayUrl: publicUrl, accessTokenTtlSeconds: 600 });
    upstream = await startFixtureUpstream();
  });

  afterAll(async () => {
    await op?.close();
    await upstream?.close();
  });

  it('close(): a proxied request in flight completes with 200, new connections are refused, /readyz answers 503', async () => {
    const gateway = await startGateway(env());
    try {
      const cookie = await login();
      const idle = await openRaw(publicUrl);
      idle.write('GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n');
      await until(() => idle.received().endsWith('{"status":"ok"}'));
      const slow = await slowRequest(cookie);
      // A probe that has begun on a kept-alive connection: it is answered during the drain.
      const probe = await openRaw(publicUrl);
      probe.write('GET /readyz HTTP/1.1\r\nHost: gateway\r\n');
      await new Promise((resolve) => setTimeout(resolve, 50));

      const started = performance.now();
      const closed = gateway.close();
      expect(await idle.closed).toBeGreaterThan(0);
      expect(await connectionRefused(publicUrl)).toBe(true);
      probe.write('\r\n');
      await probe.closed;
      expect(probe.received()).toMatch(/^HTTP\/1\.1 503 /);
      expect(probe.received()).toMatch(/\r\nConnection: close\r\n/i);
      expect(probe.received()).toContain('"error":"shutting_down"');

      await slow.closed;
      expect(slow.received()).toMatch(/^HTTP\/1\.1 200 /);
      expect(slow.received()).toMatch(/\r\nConnection: close\r\n/i);
      expect(slow.received().endsWith('late')).toBe(true);
      await closed;
      expect(performance.now() - started).toBeLessThan(4000);
    } finally {
      await gateway.close();
    }
  });

  it('SIGTERM on the built gateway: drains, then exits 0 within the grace period when a request never finishes', async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', ...env(), SHUTDOWN_GRACE_MS: '400' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until(() => stderr.includes('listening on'), 20_000);
      const slow = await slowRequest(await login());

      const started = performance.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const elapsed = performance.now() - started;
      // The upstream answers after 2 s: the gateway cut the request at the end of its 400 ms grace period.
      expect(elapsed).toBeGreaterThanOrEqual(390);
      expect(elapsed).toBeLessThan(1500);
      await slow.closed;
      expect(slow.received()).not.toContain('late');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
