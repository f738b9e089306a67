import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { startAuthorizationServer } from '../../apps/authorization-server/src/bootstrap.js';
import type { RunningAuthorizationServer } from '../../apps/authorization-server/src/bootstrap.js';
import { deletePrefix, requireRedis, testRedisUrl, uniquePrefix } from './redis.js';

export const JWT_RESOURCE = 'http://api.test/jwt';
export const OPAQUE_RESOURCE = 'http://api.test/opaque';

export interface TestAuthorizationServer {
  as: RunningAuthorizationServer;
  issuer: string;
  redis: Redis;
  prefix: string;
  stop(): Promise<void>;
}

export interface TestAuthorizationServerOptions {
  /** Clients in the clients-file format; merged over the defaults by client_id. */
  clients?: Array<Record<string, unknown>>;
  resources?: Array<Record<string, unknown>>;
  env?: Record<string, string>;
}

/** Default relying party of the tests: confidential, first-party, code + refresh. */
export const RP = {
  client_id: 'test-rp',
  client_secret: 'test-rp-secret-0123456789abcdef0123',
  redirect_uris: ['http://localhost:9/callback'],
  post_logout_redirect_uris: ['http://localhost:9/'],
  grant_types: ['authorization_code', 'refresh_token'],
  first_party: true,
  resources: [JWT_RESOURCE, OPAQUE_RESOURCE],
  scopes: ['openid', 'profile', 'email', 'groups', 'offline_access', 'orders:read', 'orders:write'],
};

/** A resource server that introspects tokens meant for it. */
export const RS = {
  client_id: 'test-rs',
  client_secret: 'test-rs-secret-0123456789abcdef0123',
  grant_types: ['client_credentials'],
  first_party: false,
  resources: [JWT_RESOURCE, OPAQUE_RESOURCE],
  scopes: ['orders:read'],
};

/** Starts the real authorization server on a free port with its own key prefix and config files. */
export async function startTestAuthorizationServer(
  options: TestAuthorizationServerOptions = {},
): Promise<TestAuthorizationServer> {
  const redis = await requireRedis();
  const prefix = uniquePrefix('as');
  const dir = mkdtempSync(join(tmpdir(), 'cloakroom-as-'));
  const clients = new Map([RP, RS].map((c) => [c.client_id, c as Record<string, unknown>]));
  for (const client of options.clients ?? []) clients.set(String(client.client_id), client);
  writeFileSync(join(dir, 'clients.yaml'), stringify({ clients: [...clients.values()] }));
  const resources = options.resources ?? [
    {
      indicator: JWT_RESOURCE,
      accessTokenFormat: 'jwt',
      scopes: ['orders:read', 'orders:write'],
      groupsClaim: true,
      introspectionClients: [RS.client_id],
    },
    {
      indicator: OPAQUE_RESOURCE,
      accessTokenFormat: 'opaque',
      scopes: ['orders:read', 'orders:write'],
      introspectionClients: [RS.client_id],
    },
  ];
  writeFileSync(join(dir, 'resources.yaml'), stringify({ resources }));
  const as = await startAuthorizationServer({
    PORT: '0',
    LOG_LEVEL: 'silent',
    LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '1000000',
    // Wrong client secrets by the thousand (hostile input) are answered at once; the delay has tests of its own.
    CLIENT_AUTH_DELAY_MAX_MS: '0',
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: prefix,
    USERS_FILE: 'config/demo/users.yaml',
    CLIENTS_FILE: join(dir, 'clients.yaml'),
    RESOURCES_FILE: join(dir, 'resources.yaml'),
    ...options.env,
  });
  return {
    as,
    issuer: as.url,
    redis,
    prefix,
    stop: async () => {
      await as.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh authorization request of the test relying party (fixed PKCE challenge): it leads to the sign-in form. */
export function authorizationRequest(issuer: string, state?: string): URL {
  const authorize = new URL(`${issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: RP.client_id,
    response_type: 'code',
    redirect_uri: RP.redirect_uris[0],
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    ...(state ? { state } : {}),
  }).toString();
  return authorize;
}

/** Where a sign-in of the test relying party ends: its redirect URI, with the code. */
export function isRpCallback(url: URL): boolean {
  return url.href.startsWith(RP.redirect_uris[0]);
}
