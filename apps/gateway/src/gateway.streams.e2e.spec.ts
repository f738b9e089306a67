import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebSocket } from 'undici';
import { freePort } from '../../../test/support/ports.js';
import { startGateway } from './bootstrap.js';
import type { StartedGateway } from './bootstrap.js';
import { TestBrowser as CookieJar } from '../../../test/support/browser.js';
import {
  FIXTURE_CLIENT_SECRET,
  FIXTURE_RESOURCE,
  FIXTURE_SCOPES,
  startFixtureProvider,
} from '../../../test/support/openid-provider.fixture.js';
import type { FixtureProvider } from '../../../test/support/openid-provider.fixture.js';
import { startStreamsUpstream } from '../../../test/support/streams-upstream.fixture.js';
import type { StreamsUpstream } from '../../../test/support/streams-upstream.fixture.js';

const TIMEOUT_MS = 500;
const STREAM_IDLE_MS = 2500;

interface Answer {
  status: number;
  body: string;
}

/** A WebSocket handshake sent as is, its answer read as HTTP (a WebSocket client reports no status on failure). */
function handshake(url: string, headers: Record<string, string>, rawPath?: string): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.hostname,
      port: target.port,
      path: rawPath ?? target.pathname,
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket through the gateway; resolves once open, rejects if it never opens. */
function open(url: string, headers: Record<string, string>): Promise<WebSocket> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers });
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(socket));
    socket.addEventListener('error', () => reject(new Error('websocket failed')));
  });
}

function nextMessage(socket: WebSocket): Promise<unknown> {
  return new Promise((resolve) =>
    socket.addEventListener('message', (event) => resolve(event.data), { once: true }),
  );
}

describe('gateway streams: WebSockets and event streams', () => {
  let op: FixtureProvider;
  let upstream: StreamsUpstream;
  let gateway: StartedGateway;
  let deadPort: number;
  let cookie: string;

  beforeAll(async () => {
    const port = await freePort();
    deadPort = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    op = await startFixtureProvider({ gatewayUrl: publicUrl, accessTokenTtlSeconds: 600 });
    upstream = await startStreamsUpstream();
    gateway = await startGateway({
      NODE_ENV: 'test',
      PORT: String(port),
      MANAGEMENT_PORT: '0',
      ISSUER_URL: op.issuer,
      GATEWAY_CLIENT_SECRET: FIXTURE_CLIENT_SECRET,
      GATEWAY_PUBLIC_URL: publicUrl,
      GATEWAY_ROUTES: `/api=${upstream.url},/down=http://127.0.0.1:${deadPort}`,
      GATEWAY_API_RESOURCE: FIXTURE_RESOURCE,
      GATEWAY_SCOPES: FIXTURE_SCOPES,
      GATEWAY_COOKIE_INSECURE_DEV: 'true',
      GATEWAY_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
      GATEWAY_STREAM_IDLE_TIMEOUT_MS: String(STREAM_IDLE_MS),
      LOG_LEVEL: 'silent',
    });
    const jar = new CookieJar();
    await jar.follow(
      `${gateway.url}/auth/login`,
      (next) => next.origin === gateway.url && next.pathname === '/',
    );
    cookie = `cloakroom=${jar.get(gateway.url, 'cloakroom')!}`;
  });

  afterAll(async () => {
    await gateway?.close();
    await op?.close();
    await upstream?.close();
  });

  it('relays WebSocket messages both ways, with the bearer token upstream and no cookie', async () => {
    const socket = await open(`${gateway.url}/api/ws`, { origin: gateway.url, cookie });
    socket.binaryType = 'arraybuffer';
    try {
      for (const text of ['hello', 'x'.repeat(70_000)]) {
        const echoed = nextMessage(socket);
        socket.send(text);
        expect(await echoed).toBe(text);
      }
      const binary = nextMessage(socket);
      socket.send(new Uint8Array([1, 2, 3]));
      expect(Buffer.from((await binary) as ArrayBuffer)).toEqual(Buffer.from([1, 2, 3]));
    } finally {
      socket.close();
    }
    const seen = upstream.handshakes.at(-1)!;
    expect(seen.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(seen.cookie).toBeUndefined();
    expect(seen.upgrade).toBe('websocket');
    expect(seen['x-forwarded-host']).toBe(new URL(gateway.url).host);
  });

  it("closes a session's WebSockets when it logs out", async () => {
    const jar = new CookieJar();
    await jar.follow(
      `${gateway.url}/auth/login`,
      (next) => next.origin === gateway.url && next.pathname === '/',
    );
    const own = `cloakroom=${jar.get(gateway.url, 'cloakroom')!}`;
    const mine = await open(`${gateway.url}/api/ws`, { origin: gateway.url, cookie: own });
    const other = await open(`${gateway.url}/api/ws`, { origin: gateway.url, cookie });
    const closed = new Promise((resolve) => mine.addEventListener('close', resolve));
    const logout = await jar.fetch(`${gateway.url}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf': '1', origin: gateway.url },
    });
    expect(logout.status).toBe(200);
    await closed;
    // Another session's socket stays open and working.
    const echoed = nextMessage(other);
    other.send('still here');
    expect(await echoed).toBe('still here');
    other.close();
  });

  it('closes a WebSocket silent both ways for GATEWAY_STREAM_IDLE_TIMEOUT_MS', async () => {
    const socket = await open(`${gateway.url}/api/ws`, { origin: gateway.url, cookie });
    const started = performance.now();
    await new Promise((resolve) => socket.addEventListener('close', resolve));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(STREAM_IDLE_MS - 50);
    expect(elapsed).toBeLessThan(STREAM_IDLE_MS * 2);
  });

  it('refuses a handshake without a session: 401', async () => {
    const before = upstream.handshakes.length;
    const answer = await handshake(`${gateway.url}/api/ws`, { origin: gateway.url });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toEqual({ error: 'unauthenticated', reason: 'no_session' });
    expect(upstream.handshakes.length).toBe(before);
  });

  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['no Origin', {} as Record<string, string>],
  ])('refuses a handshake with %s: 403', async (_label, headers) => {
    const before = upstream.handshakes.length;
    const answer = await handshake(`${gateway.url}/api/ws`, { ...headers, cookie });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: 'csrf_check_failed', reason: 'origin_not_allowed' });
    expect(upstream.handshakes.length).toBe(before);
  });

  it('refuses a handshake with dot segments in its path: 400', async () => {
    const answer = await handshake(gateway.url, { origin: gateway.url, cookie }, '/api/%2e%2e/admin');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_path' });
  });

  it('answers 502 when the upstream is down, and keeps serving', async () => {
    const answer = await handshake(`${gateway.url}/down/ws`, { origin: gateway.url, cookie });
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toEqual({ error: 'upstream_unavailable', reason: 'connect_failed' });
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  });

  it("relays the upstream's refusal of a handshake", async () => {
    const answer = await handshake(`${gateway.url}/api/refuse`, { origin: gateway.url, cookie });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({ error: 'no_such_channel' });
  });

  it('answers 504 when the upstream does not answer the handshake within GATEWAY_UPSTREAM_TIMEOUT_MS', async () => {
    const started = performance.now();
    const answer = await handshake(`${gateway.url}/api/hang`, { origin: gateway.url, cookie });
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toEqual({ error: 'upstream_timeout', reason: 'response_head_timeout' });
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 3);
  });

  it('answers a handshake as plain HTTP outside the proxied routes, as before', async () => {
    const answer = await handshake(`${gateway.url}/healthz`, { origin: gateway.url });
    expect(answer.status).toBe(200);
  });

  it('keeps an event stream open through a silence longer than GATEWAY_UPSTREAM_TIMEOUT_MS', async () => {
    const started = performance.now();
    const response = await fetch(`${gateway.url}/api/events?quiet=${TIMEOUT_MS * 3}`, {
      headers: { cookie },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    // Relayed as it comes, not held until the stream ends.
    expect(decoder.decode(first.value)).toBe('data: first\n\n');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 2);
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += decoder.decode(chunk.value);
    expect(rest).toBe('data: second\n\n');
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS * 3);
  });

  it('still cuts any other body silent for longer than GATEWAY_UPSTREAM_TIMEOUT_MS', async () => {
    const response = await fetch(`${gateway.url}/api/stall?quiet=${TIMEOUT_MS * 4}`, { headers: { cookie } });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });
});
