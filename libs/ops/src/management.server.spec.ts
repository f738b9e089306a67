import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Counter } from 'prom-client';
import { GracefulShutdown, loadConfig } from '@cloakroom/config';
import { StoreConfig, createSealedStore } from '@cloakroom/sealed-store';
import type { SealedStore } from '@cloakroom/sealed-store';
import { connectionRefused, openRaw } from '../../../test/support/raw-http.js';
import { testRedisUrl } from '../../../test/support/redis.js';
import { Health } from './health.js';
import { ManagementPortUnavailable, startManagementServer } from './management.server.js';
import type { ManagementServer } from './management.server.js';
import { createRegistry } from './metrics.js';

describe(startManagementServer.name, () => {
  const registry = createRegistry();
  new Counter({ name: 'cloakroom_test_things_total', help: 'Things.', registers: [registry] }).inc(3);
  let store: SealedStore;
  let storeDown = false;
  let app: Server;
  const shutdown = new GracefulShutdown(1000);
  let management: ManagementServer;

  beforeAll(async () => {
    store = createSealedStore(loadConfig(StoreConfig, { REDIS_URL: testRedisUrl() }));
    const deadStore = createSealedStore(
      loadConfig(StoreConfig, { REDIS_URL: 'redis://127.0.0.1:1', REDIS_COMMAND_TIMEOUT_MS: '300' }),
    );
    const health = new Health(shutdown).addCheck('store_unavailable', async () => {
      if (storeDown) await deadStore.ping().finally(() => deadStore.close());
      else await store.ping();
    });
    // The app whose drain the management port reports.
    app = createServer((_req, res) => res.end('app'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    shutdown.watch(app);
    management = await startManagementServer({ host: '127.0.0.1', port: 0, registry, health });
  });
  afterAll(async () => {
    await management?.close();
    await shutdown.drain();
    await store?.close();
  });

  it('listens where it says', () => {
    expect(management.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(management.url).not.toBe(`http://127.0.0.1:${(app.address() as AddressInfo).port}`);
  });

  it('GET /healthz: 200 {status:"ok"}', async () => {
    const response = await fetch(`${management.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz: 200 {status:"ready"} while the store answers', async () => {
    const response = await fetch(`${management.url}/readyz?probe=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ status: 'ready' });
  });

  it('GET /metrics: the registry in Prometheus text, process metrics under their standard names, never cached', async () => {
    const response = await fetch(`${management.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    expect(text).toContain('cloakroom_test_things_total 3');
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  it('HEAD answers like GET, without a body', async () => {
    const response = await fetch(`${management.url}/metrics`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it.each(['/', '/metrics/', '/admin', '/healthz/../metrics', '/%2e%2e/metrics'])(
    'GET %s: 404 JSON',
    async (path) => {
      const connection = await openRaw(management.url);
      connection.write(`GET ${path} HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n`);
      await connection.closed;
      const [head, body] = connection.received().split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 404 /);
      expect(head).toMatch(/\r\ncontent-type: application\/json/i);
      expect(JSON.parse(body)).toMatchObject({ error: 'not_found' });
    },
  );

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS'])('%s /metrics: 405 naming GET', async (method) => {
    const response = await fetch(`${management.url}/metrics`, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(await response.json()).toMatchObject({ error: 'method_not_allowed' });
  });

  it('GET /readyz: 503 store_unavailable while the store does not answer', async () => {
    storeDown = true;
    try {
      const response = await fetch(`${management.url}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'unavailable', error: 'store_unavailable' });
      expect((await fetch(`${management.url}/healthz`)).status).toBe(200);
    } finally {
      storeDown = false;
    }
  });

  it('refuses a port already taken with a sentence naming the settings', async () => {
    const taken = Number(new URL(management.url).port);
    const error = await startManagementServer({
      host: '127.0.0.1',
      port: taken,
      registry,
      health: new Health(),
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ManagementPortUnavailable);
    expect((error as Error).message).toBe(
      `the management server cannot listen on 127.0.0.1:${taken} (EADDRINUSE): set MANAGEMENT_PORT and MANAGEMENT_HOST`,
    );
  });

  // Last: the drain is one-way.
  it('GET /readyz: 503 shutting_down while the app drains, /healthz still 200', async () => {
    await shutdown.drain();
    const response = await fetch(`${management.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', error: 'shutting_down' });
    expect((await fetch(`${management.url}/healthz`)).status).toBe(200);
  });

  it('close() ends kept-alive scraper connections and stops listening', async () => {
    const server = await startManagementServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      health: new Health(),
    });
    const scraper = await openRaw(server.url);
    scraper.write('GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(scraper.received()).toMatch(/^HTTP\/1\.1 200 /);
    await server.close();
    await scraper.closed;
    expect(await connectionRefused(server.url)).toBe(true);
  });
});
