import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { FakeIssuer } from '../../../test/support/fake-issuer.fixture.js';
import { dpopKey, dpopProof } from '../../../test/support/dpop-proof.builder.js';
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
    expect(none.headers.get('www-authenticate')).toBe(
      'Bearer realm="http://api.test", DPoP realm="http://api.test", algs="ES256 ES384 ES512 PS256 RS256 EdDSA Ed25519"',
    );
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

  it('accepts a DPoP-bound token with a proof for this URL, and refuses it as Bearer or with a bad proof (RFC 9449 §7)', async () => {
    const key = await dpopKey();
    const token = await issuer.token({ cnf: { jkt: key.jkt } });
    const htu = `${api.url}/api/whoami`;
    const withProof = async (proof: string, scheme = 'DPoP') =>
      call('/api/whoami?page=1', undefined, {
        headers: { authorization: `${scheme} ${token}`, dpop: proof },
      });

    const accepted = await withProof(await dpopProof(key, { htm: 'GET', htu, token }));
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ sub: 'alice', via: 'jwt' });

    const asBearer = await call('/api/whoami', token);
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="http:\/\/api.test", error="invalid_token"/,
    );

    const proof = await dpopProof(key, { htm: 'GET', htu, token });
    expect((await withProof(proof)).status).toBe(200);
    const replayed = await withProof(proof);
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'the proof has already been used',
    });
    expect(replayed.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="http:\/\/api.test", DPoP realm="http:\/\/api.test", algs="ES256 [^"]*", error="invalid_dpop_proof", error_description="the proof has already been used"$/,
    );
    const missing = await call('/api/whoami', undefined, { headers: { authorization: `DPoP ${token}` } });
    expect((await missing.json()) as object).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it("checks a proof's htu against the configured URL, never the Host header", async () => {
    const key = await dpopKey();
    const token = await issuer.token({ cnf: { jkt: key.jkt } });
    const { port } = new URL(api.url);
    const send = (htu: string, host: string) =>
      dpopProof(key, { htm: 'GET', htu, token }).then(
        (proof) =>
          new Promise<number>((resolve, reject) => {
            request(
              {
                host: '127.0.0.1',
                port,
                path: '/api/whoami',
                headers: { host, authorization: `DPoP ${token}`, dpop: proof },
              },
              (res) => resolve(res.resume().statusCode!),
            )
              .on('error', reject)
              .end();
          }),
      );
    expect(await send('http://evil.example/api/whoami', 'evil.example')).toBe(401);
    expect(await send(`${api.url}/api/whoami`, 'evil.example')).toBe(200);
  });

  it('refuses a body nested deeper than 32 levels with 400 and the reason, before any parsing', async () => {
    const writer = await issuer.token({ scope: 'orders:read orders:write' });
    const deep = '['.repeat(30_000) + ']'.repeat(30_000);
    expect(Buffer.byteLength(deep)).toBeLessThan(64 * 1024);
    for (const body of [deep, `{"item":${'{"a":'.repeat(40)}1${'}'.repeat(40)},"quantity":1}`]) {
      const response = await call('/api/orders', writer, { method: 'POST', body });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'invalid_request',
        error_description: 'the body nests objects or arrays deeper than 32 levels',
      });
    }
    // Brackets inside strings are not nesting.
    const fine = await call('/api/orders', writer, {
      method: 'POST',
      body: JSON.stringify({ item: '['.repeat(100), quantity: 1 }),
    });
    expect(fine.status).toBe(201);
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

  it('serves /healthz and /readyz on both ports, /metrics on the management port only', async () => {
    for (const base of [api.url, api.managementUrl]) {
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    }
    const response = await fetch(`${api.managementUrl}/metrics`);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const metrics = await response.text();
    expect(metrics).toMatch(/^cloakroom_resource_server_introspections_total [1-9]/m);
    expect(metrics).toMatch(/^cloakroom_resource_server_introspection_cache_hits_total \d+/m);
    expect(metrics).toMatch(
      /^cloakroom_http_requests_total\{method="GET",route="\/api\/whoami",status="200"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^cloakroom_http_request_duration_seconds_count\{method="GET",route="\/api\/whoami"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^cloakroom_resource_server_dpop_proofs_remembered [1-9]/m); // the DPoP test's proofs
    expect(metrics).not.toContain('demo_api_');

    const publicMetrics = await fetch(`${api.url}/metrics`);
    expect(publicMetrics.status).toBe(404);
    expect(await publicMetrics.text()).not.toContain('cloakroom_');
  });

  it('refuses a management port that is its own port, naming the setting', async () => {
    await expect(
      startDemoApi({ PORT: '9400', ISSUER_URL: issuer.url, RESOURCE_AUDIENCE: 'http://api.test' }),
    ).rejects.toMatchObject({
      name: 'ConfigInvalid',
      problems: ['MANAGEMENT_PORT: 9400 is also PORT; the management server needs a port of its own'],
    });
  });
});
