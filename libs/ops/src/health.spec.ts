import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { GracefulShutdown, loadConfig } from '@cloakroom/config';
import { StoreConfig, createSealedStore } from '@cloakroom/sealed-store';
import type { SealedStore } from '@cloakroom/sealed-store';
import { testRedisUrl } from '../../../test/support/redis.js';
import { Health } from './health.js';
import { HealthModule } from './health.controller.js';

/** A real drain of a real (idle) server: `draining` turns true as it would on SIGTERM. */
async function drainingShutdown(): Promise<GracefulShutdown> {
  const shutdown = new GracefulShutdown(1000);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  shutdown.watch(server);
  await shutdown.drain();
  return shutdown;
}

describe(Health.name, () => {
  let up: SealedStore;
  let down: SealedStore;
  beforeAll(() => {
    up = createSealedStore(loadConfig(StoreConfig, { REDIS_URL: testRedisUrl() }));
    down = createSealedStore(
      loadConfig(StoreConfig, { REDIS_URL: 'redis://127.0.0.1:1', REDIS_COMMAND_TIMEOUT_MS: '300' }),
    );
  });
  afterAll(async () => {
    await up.close();
    await down.close();
  });

  it('is live, and ready when every check passes', async () => {
    const health = new Health(new GracefulShutdown(1000)).addCheck('store_unavailable', () => up.ping());
    expect(health.liveness()).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await health.readiness()).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('is not ready while its store does not answer, and names the check', async () => {
    const health = new Health(new GracefulShutdown(1000)).addCheck('store_unavailable', () => down.ping());
    expect(await health.readiness()).toEqual({
      status: 503,
      body: { status: 'unavailable', error: 'store_unavailable' },
    });
    expect(health.liveness().status).toBe(200);
  });

  it('reports the first failing check in registration order, a throwing one included', async () => {
    const health = new Health()
      .addCheck('first_ok', () => undefined)
      .addCheck('cache_unavailable', () => {
        throw new Error('no');
      })
      .addCheck('store_unavailable', () => down.ping());
    expect((await health.readiness()).body).toEqual({ status: 'unavailable', error: 'cache_unavailable' });
  });

  it('is not ready while draining, whatever its checks say', async () => {
    const health = new Health(await drainingShutdown()).addCheck('store_unavailable', () => up.ping());
    expect(await health.readiness()).toEqual({
      status: 503,
      body: { status: 'unavailable', error: 'shutting_down' },
    });
  });
});

describe(HealthModule.name, () => {
  let app: INestApplication | undefined;
  afterAll(async () => app?.close());

  it('serves /healthz and /readyz from the Health given, uncached', async () => {
    let storeUp = true;
    const health = new Health().addCheck('store_unavailable', () => {
      if (!storeUp) throw new Error('down');
    });
    app = await NestFactory.create(HealthModule.register(health), { logger: false });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;

    const live = await fetch(`${url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(await ready.json()).toEqual({ status: 'ready' });
    storeUp = false;
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'unavailable', error: 'store_unavailable' });
  });
});
