import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { connectionRefused, openRaw } from '../../../test/support/raw-http.js';
import { testRedisUrl } from '../../../test/support/redis.js';
import { hashPassword } from './accounts/password.hasher.js';
import { StartupInvalid, startAuthorizationServer } from './bootstrap.js';
import { generateJwk } from './keys/jwks.js';

// Production refuses weak hashes of nothing: these parameters only keep the test quick.
const FAST_HASH = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

async function jwksFile(): Promise<string> {
  const path = join(dir, 'jwks.json');
  writeFileSync(path, JSON.stringify({ keys: [await generateJwk('ES256')] }), { mode: 0o600 });
  return path;
}

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
  it('refuses to start in production on development settings and the demo files, listing every problem at once', async () => {
    const error = (await startupError({
      NODE_ENV: 'production',
      ISSUER: 'http://localhost:3000',
      REDIS_URL: 'localhost:6379',
    })) as StartupInvalid;
    expect(error.name).toBe('StartupInvalid');
    const lines = error.problems.join('\n');
    for (const expected of [
      /^COOKIE_KEYS: required in production/m,
      /^JWKS_FILE: required in production/m,
      /^ISSUER: must be https/m,
      /^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/m,
      /^USERS_FILE: config\/demo\/users.yaml is the public demo's users file, refused in production/m,
      /^CLIENTS_FILE: config\/demo\/clients.yaml is the public demo's clients file/m,
      /^RESOURCES_FILE: config\/demo\/resources.yaml is the public demo's resources file/m,
      /^USERS_FILE: user alice has a password hash of the public demo/m,
      /^CLIENTS_FILE config\/demo\/clients.yaml: clients\[0\].client_secret: set GATEWAY_CLIENT_SECRET/m,
    ]) {
      expect(lines).toMatch(expected);
    }
    expect(error.message.split('\n')[0]).toBe('the authorization server cannot start:');
    expect(error.message).not.toContain('gateway-dev-secret');
  });

  it('in production, requires STORE_PEPPER and refuses copies of the demo files, demo secrets and demo passwords', async () => {
    const copy = (name: string) => {
      const path = join(dir, `copy-of-${name}`);
      copyFileSync(`config/demo/${name}`, path);
      return path;
    };
    const production = {
      NODE_ENV: 'production',
      ISSUER: 'https://login.example',
      COOKIE_KEYS: 'k'.repeat(32),
      JWKS_FILE: await jwksFile(),
      REDIS_URL: testRedisUrl(),
      GATEWAY_CLIENT_SECRET: 'gateway-dev-secret',
      DEMO_API_CLIENT_SECRET: 'a-secret-of-its-own-0123',
    };
    const copied = (await startupError({
      ...production,
      USERS_FILE: copy('users.yaml'),
      CLIENTS_FILE: copy('clients.yaml'),
      RESOURCES_FILE: copy('resources.yaml'),
    })) as StartupInvalid;
    const lines = copied.problems.join('\n');
    expect(lines).toMatch(/^STORE_PEPPER: required in production/m);
    for (const kind of ['users', 'clients', 'resources']) {
      expect(lines).toContain(`is a copy of the public demo's ${kind} file, refused in production`);
    }
    expect(lines).toContain('USERS_FILE: user power-user has a password hash of the public demo');
    expect(lines).toContain('CLIENTS_FILE: client gateway has a public demo secret');
    expect(lines).not.toContain('client demo-api');

    // The demo's password under a fresh hash is still the demo's password.
    const users = join(dir, 'users.yaml');
    writeFileSync(
      users,
      `users:\n  alice:\n    passwordHash: '${await hashPassword('wonderland', FAST_HASH)}'\n    groups: []\n  bob:\n    passwordHash: '${await hashPassword('a-real-password', FAST_HASH)}'\n    groups: []\n`,
    );
    const clients = join(dir, 'clients-production.yaml');
    writeFileSync(
      clients,
      'clients:\n  - client_id: api\n    client_secret: ${API_SECRET}\n    grant_types: [client_credentials]\n',
    );
    const resources = join(dir, 'resources-production.yaml');
    writeFileSync(resources, 'resources:\n  - indicator: https://api.example\n');
    const files = { USERS_FILE: users, CLIENTS_FILE: clients, RESOURCES_FILE: resources };
    const rehashed = (await startupError({
      ...production,
      ...files,
      STORE_PEPPER: 'p'.repeat(32),
      API_SECRET: 'gateway-dev-secret',
    })) as StartupInvalid;
    expect(rehashed.problems).toEqual([
      "USERS_FILE: user alice has the public demo's password; set a new password",
      'CLIENTS_FILE: client api has a public demo secret; set a secret of its own',
    ]);

    writeFileSync(
      users,
      `users:\n  bob:\n    passwordHash: '${await hashPassword('a-real-password', FAST_HASH)}'\n    groups: []\n`,
    );
    const server = await startAuthorizationServer({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...production,
      ...files,
      STORE_PEPPER: 'p'.repeat(32),
      API_SECRET: 'an-api-secret-0123456789',
    });
    await server.close();
  });

  it('refuses an invalid clients file with every problem listed', async () => {
    const clients = join(dir, 'clients.yaml');
    writeFileSync(
      clients,
      'clients:\n  - client_id: a\n    redirect_uris: [ftp://x]\n    grant_types: [password]\n  - client_secret: 1\n',
    );
    const error = await startupError({ REDIS_URL: testRedisUrl(), CLIENTS_FILE: clients });
    expect(error.name).toBe('StartupInvalid');
    expect(error.message).toContain(`CLIENTS_FILE ${clients}: clients[0].redirect_uris`);
    expect(error.message).toMatch(/redirect_uris/);
    expect(error.message).toMatch(/grant_types/);
    expect(error.message).toMatch(/client_id/);
  });

  it('refuses an invalid resources file', async () => {
    const resources = join(dir, 'resources.yaml');
    writeFileSync(resources, 'resources:\n  - indicator: not a url\n    accessTokenFormat: paseto\n');
    const error = await startupError({ REDIS_URL: testRedisUrl(), RESOURCES_FILE: resources });
    expect(error.name).toBe('StartupInvalid');
    expect(error.message).toContain(`RESOURCES_FILE ${resources}: resources[0].indicator`);
    expect(error.message).toMatch(/indicator/);
    expect(error.message).toMatch(/accessTokenFormat/);
  });

  it('refuses a JWKS file in which no key is active yet, and one with a bad activation time, naming the key', async () => {
    const jwks = join(dir, 'future-jwks.json');
    const [future, broken] = [await generateJwk('ES256'), await generateJwk('ES256')];
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...future, activatesAt: '2999-01-01T00:00:00Z' }] }), {
      mode: 0o600,
    });
    const notYet = await startupError({ REDIS_URL: testRedisUrl(), JWKS_FILE: jwks });
    expect(notYet.name).toBe('StartupInvalid');
    expect(notYet.message).toContain(
      `  - JWKS_FILE ${jwks}: no key is active yet, so nothing can sign: the first, ${future.kid}, activates at 2999-01-01T00:00:00Z`,
    );
    writeFileSync(jwks, JSON.stringify({ keys: [future, { ...broken, activatesAt: '01/02/2030' }] }));
    const badDate = await startupError({ REDIS_URL: testRedisUrl(), JWKS_FILE: jwks });
    expect(badDate.message).toContain(
      `  - JWKS_FILE ${jwks}: keys[1].activatesAt (key ${broken.kid}): must be`,
    );
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

  it('close(): drains requests begun before it (discovery 200, /readyz 503), refuses new connections', async () => {
    const server = await startAuthorizationServer({
      PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_URL: testRedisUrl(),
    });
    try {
      const begun = async (path: string) => {
        const connection = await openRaw(server.listenUrl);
        connection.write(`GET ${path} HTTP/1.1\r\nHost: as\r\n`);
        return connection;
      };
      const discovery = await begun('/.well-known/openid-configuration');
      const probe = await begun('/readyz');
      await new Promise((resolve) => setTimeout(resolve, 100));

      const closed = server.close();
      expect(await connectionRefused(server.listenUrl)).toBe(true);
      // The management port says the same while the drain lasts.
      const management = await fetch(`${server.managementUrl}/readyz`);
      expect(management.status).toBe(503);
      expect(await management.json()).toEqual({ status: 'unavailable', error: 'shutting_down' });
      for (const connection of [discovery, probe]) connection.write('\r\n');
      await Promise.all([discovery.closed, probe.closed]);
      expect(discovery.received()).toMatch(/^HTTP\/1\.1 200 /);
      expect(discovery.received()).toMatch(/\r\nConnection: close\r\n/i);
      expect(discovery.received()).toContain('"issuer"');
      expect(probe.received()).toMatch(/^HTTP\/1\.1 503 /);
      expect(probe.received()).toContain('{"status":"unavailable","error":"shutting_down"}');
      await closed;
    } finally {
      await server.close();
    }
  });

  it('answers /healthz and /readyz on both ports, /metrics on the management port only', async () => {
    const server = await startAuthorizationServer({
      PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_URL: testRedisUrl(),
    });
    try {
      expect(server.managementUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.managementUrl).not.toBe(server.listenUrl);
      for (const base of [server.url, server.managementUrl]) {
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
      }
      // A sign-in page request, so that the route template shows in the metrics.
      expect((await fetch(`${server.url}/interaction/Zk3q2V6d9xYbLmN0pQr7sT?x=1`)).status).toBeLessThan(500);

      const response = await fetch(`${server.managementUrl}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const metrics = await response.text();
      expect(metrics).toContain('cloakroom_store_operation_seconds_count{operation="ping"}');
      expect(metrics).toContain('# TYPE cloakroom_authorization_server_login_failures_total counter');
      expect(metrics).toContain('# TYPE cloakroom_authorization_server_tokens_issued_total counter');
      expect(metrics).toContain('# TYPE cloakroom_authorization_server_oversized_tokens_total counter');
      expect(metrics).toMatch(
        /^cloakroom_http_requests_total\{method="GET",route="\/readyz",status="200"\} 1$/m,
      );
      expect(metrics).toMatch(
        /^cloakroom_http_requests_total\{method="GET",route="\/interaction\/:uid",status="\d+"\} 1$/m,
      );
      expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
      expect(metrics).not.toMatch(/Zk3q2V6d9xYbLmN0pQr7sT|x=1/);

      // The public port no longer serves metrics: the usual 404 of an unknown path.
      const publicMetrics = await fetch(`${server.url}/metrics`);
      expect(publicMetrics.status).toBe(404);
      expect(await publicMetrics.text()).not.toContain('cloakroom_');
    } finally {
      await server.close();
    }
    expect(await connectionRefused(server.managementUrl)).toBe(true);
  });

  it('refuses a MANAGEMENT_PORT equal to PORT, and a management port already taken', async () => {
    const error = (await startupError({ PORT: '3999', MANAGEMENT_PORT: '3999' })) as StartupInvalid;
    expect(error.problems).toContain(
      'MANAGEMENT_PORT: 3999 is also PORT; the management server needs a port of its own',
    );
    const first = await startAuthorizationServer({
      PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_URL: testRedisUrl(),
    });
    try {
      const taken = new URL(first.managementUrl).port;
      const refused = await startupError({ REDIS_URL: testRedisUrl(), MANAGEMENT_PORT: taken });
      expect(refused.name).toBe('ManagementPortUnavailable');
      expect(refused.message).toContain(`127.0.0.1:${taken} (EADDRINUSE)`);
    } finally {
      await first.close();
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
      for (const base of [server.url, server.managementUrl]) {
        const ready = await fetch(`${base}/readyz`);
        expect(ready.status).toBe(503);
        expect(await ready.json()).toEqual({ status: 'unavailable', error: 'store_unavailable' });
      }
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

describe('the authorization server process', () => {
  it('prints every startup problem as sentences, without a stack trace, and exits 1', () => {
    const result = spawnSync(process.execPath, ['apps/authorization-server/dist/main.js'], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', REDIS_URL: 'localhost:6379', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^the authorization server cannot start:\n/);
    expect(result.stderr).toContain('  - REDIS_URL: must be a redis:// or rediss:// URL');
    expect(result.stderr).toContain('  - JWKS_FILE: required in production');
    expect(result.stderr).toContain('  - STORE_PEPPER: required in production');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('npm start names a REDIS_URL that is not a redis:// URL instead of crashing', () => {
    const result = spawnSync(process.execPath, ['scripts/start-stack.mjs'], {
      env: { PATH: process.env.PATH, REDIS_URL: 'localhost:6379' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'REDIS_URL=localhost:6379 is not a Redis URL: write it as redis://host:port (rediss:// for TLS), e.g. redis://127.0.0.1:6379.',
    );
  });

  it('npm start never prints the password a REDIS_URL carries', () => {
    const run = (url: string) =>
      spawnSync(process.execPath, ['scripts/start-stack.mjs'], {
        env: { PATH: process.env.PATH, REDIS_URL: url },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const unreachable = run('redis://app:s3cret-pw@127.0.0.1:1');
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain('No Redis answers at REDIS_URL=redis://app:***@127.0.0.1:1.');
    const unparsable = run('redis://:s3cret-pw@');
    expect(unparsable.status).toBe(1);
    expect(unparsable.stderr).toContain('REDIS_URL=redis://:***@ is not a Redis URL');
    for (const result of [unreachable, unparsable])
      expect(result.stdout + result.stderr).not.toContain('s3cret');
  });
});
