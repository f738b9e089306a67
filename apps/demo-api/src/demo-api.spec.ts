import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeIssuer } from '../../../libs/resource-server/src/testing/fake-issuer.js';
import { startDemoApi } from './bootstrap.js';
import type { RunningDemoApi } from './bootstrap.js';

describe('demo API (guards in a real Nest app, against a stand-in issuer)', () => {
  let issuer: FakeIssuer;
  let api: RunningDemoApi;
  const call = (path: string, token?: string, init: RequestInit = {}) =>
    fetch(`${api.url}${path}`, {
      ...init,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });

  beforeAll(async () => {
    issuer = await FakeIssuer.start();
    api = await startDemoApi({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ISSUER_URL: issuer.url,
      RESOURCE_AUDIENCE: 'http://api.test',
      INTROSPECTION_CLIENT_ID: 'rs',
      INTROSPECTION_CLIENT_SECRET: 'rs-secret',
    });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('tells who calls, through the JWT path and through introspection', async () => {
    const jwt = await issuer.token({ groups: ['a', 'b', 'c'] });
    const viaJwt = await call('/api/whoami', jwt);
    expect(viaJwt.status).toBe(200);
    expect(await viaJwt.json()).toMatchObject({
      sub: 'alice',
      groupsCount: 3,
      via: 'jwt',
      tokenBytes: jwt.length,
    });

    issuer.answers.set('opaque-whoami', {
      active: true,
      sub: 'bob',
      scope: 'orders:read',
      aud: 'http://api.test',
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    const viaIntrospection = await call('/api/whoami', 'opaque-whoami');
    expect(await viaIntrospection.json()).toMatchObject({ sub: 'bob', via: 'introspection', tokenBytes: 13 });
  });

  it('answers 401 with an RFC 6750 challenge: none without a token, invalid_token with a bad one', async () => {
    const none = await call('/api/whoami');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="http://api.test"');
    const bad = await call('/api/whoami', 'not-a-known-token');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="http:\/\/api.test", error="invalid_token"/,
    );
    const malformed = await call('/api/whoami', undefined, { headers: { authorization: 'Basic abc' } });
    expect(malformed.status).toBe(401);
    const body = JSON.stringify(await bad.json());
    expect(body).not.toContain('not-a-known-token');
  });

  it('needs orders:write to create an order (403 insufficient_scope) and validates the body', async () => {
    const reader = await issuer.token({ scope: 'orders:read' });
    const refused = await call('/api/orders', reader, {
      method: 'POST',
      body: JSON.stringify({ item: 'tea', quantity: 1 }),
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(
      /error="insufficient_scope", scope="orders:write"/,
    );

    const writer = await issuer.token({ scope: 'orders:read orders:write' });
    const created = await call('/api/orders', writer, {
      method: 'POST',
      body: JSON.stringify({ item: 'tea', quantity: 2 }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ item: 'tea', quantity: 2, by: 'alice' });
    const listed = (await (await call('/api/orders', reader)).json()) as { orders: Array<{ item: string }> };
    expect(listed.orders[0].item).toBe('tea');

    for (const body of [
      '{"item":"","quantity":1}',
      '{"item":"x","quantity":0}',
      '{"item":"x"}',
      '{broken',
      '[]',
    ]) {
      const response = await call('/api/orders', writer, { method: 'POST', body });
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
    }
    const oversized = await call('/api/orders', writer, {
      method: 'POST',
      body: JSON.stringify({ item: 'x'.repeat(100_000), quantity: 1 }),
    });
    expect(oversized.status).toBe(413);
  });

  it('answers 503, not 401, while the issuer cannot be asked', async () => {
    issuer.down = true;
    try {
      const response = await call('/api/whoami', 'opaque-while-down');
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: 'authorization_server_unavailable' });
    } finally {
      issuer.down = false;
    }
  });

  it('serves /healthz and /metrics', async () => {
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/demo_api_introspections_total \d+/);
    expect(metrics).toContain('demo_api_requests_total');
  });
});
