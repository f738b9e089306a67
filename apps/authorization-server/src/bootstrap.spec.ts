import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { testRedisUrl } from '../../../test/support/redis.js';
import { startAuthorizationServer } from './bootstrap.js';

const dir = mkdtempSync(join(tmpdir(), 'cloakroom-boot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startupError(env: Record<string, string>): Promise<Error> {
  try {
    const server = await startAuthorizationServer({ PORT: '0', LOG_LEVEL: 'silent', ...env });
    await server.close();
  } catch (error) {
    return error as Error;
  }
  throw new Error('the server started');
}

describe(startAuthorizationServer.name, () => {
  it('refuses to start in production with development cookie keys, no signing keys and an http issuer, naming each', async () => {
    const error = await startupError({ NODE_ENV: 'production', ISSUER: 'http://localhost:3000' });
    expect(error.name).toBe('ConfigInvalid');
    expect(error.message).toMatch(/COOKIE_KEYS/);
    expect(error.message).toMatch(/JWKS_FILE/);
    expect(error.message).toMatch(/ISSUER: must be https/);
  });

  it('refuses an invalid clients file with every problem listed', async () => {
    const clients = join(dir, 'clients.yaml');
    writeFileSync(
      clients,
      'clients:\n  - client_id: a\n    redirect_uris: [ftp://x]\n    grant_types: [password]\n  - client_secret: 1\n',
    );
    const error = await startupError({ REDIS_URL: testRedisUrl(), CLIENTS_FILE: clients });
    expect(error.name).toBe('ClientsFileInvalid');
    expect(error.message).toMatch(/redirect_uris/);
    expect(error.message).toMatch(/grant_types/);
    expect(error.message).toMatch(/client_id/);
  });

  it('refuses an invalid resources file', async () => {
    const resources = join(dir, 'resources.yaml');
    writeFileSync(resources, 'resources:\n  - indicator: not a url\n    accessTokenFormat: paseto\n');
    const error = await startupError({ REDIS_URL: testRedisUrl(), RESOURCES_FILE: resources });
    expect(error.name).toBe('ResourcesFileInvalid');
    expect(error.message).toMatch(/indicator/);
    expect(error.message).toMatch(/accessTokenFormat/);
  });

  it('is connected to the store before its first request', async () => {
    const server = await startAuthorizationServer({
      PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_URL: testRedisUrl(),
    });
    try {
      const first = await fetch(`${server.url}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('demo-api:demo-api-dev-secret').toString('base64')}`,
        },
        body: 'token=abc.def',
      });
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ active: false });
    } finally {
      await server.close();
    }
  });

  it('answers /healthz, /readyz and /metrics', async () => {
    const server = await startAuthorizationServer({
      PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_URL: testRedisUrl(),
    });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready' });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toContain('cloakroom_store_operation_seconds');
      expect(metrics).toContain('cloakroom_login_failures_total');
    } finally {
      await server.close();
    }
  });

  it('reports not ready, and answers 503 instead of 500, while the store is unreachable', async () => {
    const server = await startAuthorizationServer({
      PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_COMMAND_TIMEOUT_MS: '300',
    });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      const token = await fetch(`${server.url}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('demo-api:demo-api-dev-secret').toString('base64')}`,
        },
        body: 'token=abc',
      });
      expect(token.status).toBe(503);
      expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await server.close();
    }
  });
});
