import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import { Registry } from 'prom-client';
import { AccessLog, accessLogMiddleware, pathTemplate } from './access-log.js';
import { capturedLogger } from '../../../test/support/captured-logger.fixture.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The value of one sample of a registry's metric, by labels. */
async function sample(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name.replace(/_count$/, ''));
  return (metric?.values as Array<{ metricName?: string; labels: object; value: number }> | undefined)?.find(
    (v) => (v.metricName ?? metric!.name) === name && JSON.stringify(v.labels) === JSON.stringify(labels),
  )?.value;
}

const CREDENTIALS = {
  cookie: 'cloakroom=ticket-value-0123456789',
  authorization: 'Bearer eyJ-access-token-value',
  dpop: 'eyJ-proof-value',
};

describe(AccessLog.name, () => {
  it('logs one line per request from a plain node:http listener: method, path template, status, duration; no query, no header value', async () => {
    const { lines, logger, entries } = capturedLogger();
    const registry = new Registry();
    const accessLog = new AccessLog({ logger, registry });
    const url = await serve((req, res) => {
      accessLog.observe(req, res);
      res.statusCode = 302;
      res.end();
    });

    const response = await fetch(
      `${url}/callback/Zk3q2V6d9xYbLmN0pQr7sT/12345?code=the-code&state=s&token=tok`,
      { headers: CREDENTIALS, redirect: 'manual' },
    );
    await response.arrayBuffer();

    expect(entries()).toEqual([
      {
        level: 30,
        time: expect.any(Number),
        pid: process.pid,
        hostname: expect.any(String),
        name: 'test-service',
        method: 'GET',
        route: '/callback/:id/:id',
        status: 302,
        ms: expect.any(Number),
        msg: 'request',
      },
    ]);
    const line = lines.join('\n');
    for (const secret of ['the-code', 'tok', 'ticket-value', 'eyJ-access-token', 'eyJ-proof', '?']) {
      expect(line).not.toContain(secret);
    }
    expect(
      await sample(registry, 'cloakroom_http_requests_total', {
        method: 'GET',
        route: '/callback/:id/:id',
        status: '302',
      }),
    ).toBe(1);
  });

  it('takes the route template from the caller when it knows it', async () => {
    const { logger, entries } = capturedLogger();
    const accessLog = new AccessLog({ logger });
    const url = await serve((req, res) => {
      accessLog.observe(req, res, '/api/*');
      res.end('proxied');
    });
    await (await fetch(`${url}/api/orders/42?page=2`)).text();
    expect(entries()[0]).toMatchObject({ method: 'GET', route: '/api/*', status: 200 });
  });

  it('as Express middleware logs the matched route template, with its mount path, and times the request', async () => {
    const { logger, entries } = capturedLogger();
    const registry = new Registry();
    const app = express();
    app.use(accessLogMiddleware(new AccessLog({ logger, registry })));
    const interactions = express.Router();
    interactions.post('/:uid/login', (_req, res) => {
      setTimeout(() => res.status(303).end(), 20);
    });
    app.use('/interaction', interactions);
    app.get('/api/orders/:id', (_req, res) => res.json({ ok: true }));
    const url = await serve(app);

    const login = await fetch(`${url}/interaction/Zk3q2V6d9xYbLmN0pQr7sT/login?x=1`, {
      method: 'POST',
      headers: CREDENTIALS,
      body: 'username=alice&password=wonderland',
      redirect: 'manual',
    });
    await login.arrayBuffer();
    await (await fetch(`${url}/api/orders/7`)).json();

    const [first, second] = entries();
    expect(first).toMatchObject({ method: 'POST', route: '/interaction/:uid/login', status: 303 });
    expect(first.ms).toBeGreaterThanOrEqual(15);
    expect(JSON.stringify(first)).not.toMatch(/wonderland|alice|ticket-value|eyJ/);
    expect(second).toMatchObject({ method: 'GET', route: '/api/orders/:id', status: 200 });
    expect(
      await sample(registry, 'cloakroom_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/interaction/:uid/login',
      }),
    ).toBe(1);
  });

  it('counts paths that matched nothing and got 404 as `unmatched`, and logs their template', async () => {
    const { logger, entries } = capturedLogger();
    const registry = new Registry();
    const app = express();
    app.use(accessLogMiddleware(new AccessLog({ logger, registry })));
    const url = await serve(app);
    for (let i = 0; i < 3; i++) await (await fetch(`${url}/probe-${i}/wp-admin.php`)).text();
    expect(entries().map((e) => e.route)).toEqual([
      '/probe-0/wp-admin.php',
      '/probe-1/wp-admin.php',
      '/probe-2/wp-admin.php',
    ]);
    expect(
      await sample(registry, 'cloakroom_http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status: '404',
      }),
    ).toBe(3);
    const routes = (await registry.getSingleMetric('cloakroom_http_requests_total')!.get()).values.map(
      (v) => v.labels.route,
    );
    expect(routes).toEqual(['unmatched']);
  });

  it('stops adding route labels after 200 of them: the rest count as `other`', async () => {
    const { logger } = capturedLogger('silent');
    const registry = new Registry();
    const accessLog = new AccessLog({ logger, registry });
    const url = await serve((req, res) => {
      accessLog.observe(req, res);
      res.statusCode = 400;
      res.end();
    });
    for (let i = 0; i < 205; i++) await (await fetch(`${url}/x${i}`)).arrayBuffer();
    const routes = new Set(
      (await registry.getSingleMetric('cloakroom_http_requests_total')!.get()).values.map(
        (v) => v.labels.route,
      ),
    );
    expect(routes.size).toBe(201);
    expect(
      await sample(registry, 'cloakroom_http_requests_total', {
        method: 'GET',
        route: 'other',
        status: '400',
      }),
    ).toBe(5);
  });

  it('writes nothing at a level above info, and still counts', async () => {
    const { lines, logger } = capturedLogger('warn');
    const registry = new Registry();
    const accessLog = new AccessLog({ logger, registry });
    const url = await serve((req, res) => {
      accessLog.observe(req, res);
      res.end();
    });
    await (await fetch(`${url}/healthz`)).text();
    expect(lines).toEqual([]);
    expect(
      await sample(registry, 'cloakroom_http_requests_total', {
        method: 'GET',
        route: '/healthz',
        status: '200',
      }),
    ).toBe(1);
  });
});

describe(pathTemplate.name, () => {
  it.each([
    ['/', '/'],
    ['/healthz?verbose=1', '/healthz'],
    ['/.well-known/openid-configuration', '/.well-known/openid-configuration'],
    ['/token/introspection', '/token/introspection'],
    ['/interaction/Zk3q2V6d9xYbLmN0pQr7sT', '/interaction/:id'],
    ['/interaction/Zk3q2V6d9xYbLmN0pQr7sT/login', '/interaction/:id/login'],
    ['/api/orders/42', '/api/orders/:id'],
    ['/users/3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b/groups', '/users/:id/groups'],
    ['/session/eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl', '/session/:id'],
    ['/auth/abc', '/auth/abc'],
    ['http://example.test/auth/Zk3q2V6d9xYbLmN0pQr7sT?x=1', '/auth/:id'],
    ['/a//b', '/a//b'],
  ])('%s → %s', (url, template) => {
    expect(pathTemplate(url)).toBe(template);
  });

  it('cuts a very long path', () => {
    const template = pathTemplate(`/${'a/'.repeat(500)}`);
    expect(template).toHaveLength(201);
    expect(template.endsWith('…')).toBe(true);
  });
});
