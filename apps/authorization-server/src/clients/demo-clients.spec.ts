import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import Provider from 'oidc-provider';
import type { Adapter } from 'oidc-provider';
import { generateJwk } from '../keys/jwks.js';
import { ClientsFileInvalid, clientsFrom, loadClients } from './clients.file.js';

const DEMO = fileURLToPath(new URL('../../../../config/demo/clients.yaml', import.meta.url));

describe('config/demo/clients.yaml', () => {
  it('loads: the gateway is a first-party code client, the demo API a client_credentials client', () => {
    const { clients, policies } = loadClients(DEMO, { env: {} });
    const gateway = clients.find((c) => c.client_id === 'gateway');
    expect(gateway).toMatchObject({
      client_secret: 'gateway-dev-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['http://localhost:8080/auth/callback'],
      post_logout_redirect_uris: ['http://localhost:8080/'],
      backchannel_logout_uri: 'http://localhost:8080/auth/backchannel-logout',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    });
    expect(policies.get('gateway')).toEqual({
      firstParty: true,
      resources: ['http://localhost:4000', 'http://localhost:4001'],
      scopes: ['openid', 'profile', 'email', 'groups', 'offline_access', 'orders:read', 'orders:write'],
    });
    expect(clients.find((c) => c.client_id === 'demo-api')).toMatchObject({
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      client_secret: 'demo-api-dev-secret',
    });
    expect(policies.get('demo-api')).toEqual({
      firstParty: false,
      resources: ['http://localhost:4000', 'http://localhost:4001'],
      scopes: [],
    });
  });

  it('takes real secrets from the environment and refuses the defaults in production', () => {
    const env = { GATEWAY_CLIENT_SECRET: 'g'.repeat(40), DEMO_API_CLIENT_SECRET: 'd'.repeat(40) };
    const { clients } = loadClients(DEMO, { env, production: true });
    expect(clients.map((c) => c.client_secret)).toEqual([
      env.GATEWAY_CLIENT_SECRET,
      env.DEMO_API_CLIENT_SECRET,
    ]);
    expect(() => loadClients(DEMO, { env: {}, production: true })).toThrow(ClientsFileInvalid);
  });

  it("posts logout tokens to GATEWAY_BACKCHANNEL_LOGOUT_URI when set (compose: the gateway's service name)", () => {
    const env = { GATEWAY_BACKCHANNEL_LOGOUT_URI: 'http://gateway:8080/auth/backchannel-logout' };
    const gateway = loadClients(DEMO, { env }).clients.find((c) => c.client_id === 'gateway');
    expect(gateway?.backchannel_logout_uri).toBe('http://gateway:8080/auth/backchannel-logout');
  });

  it.each([
    ['the default', {}, 'http://localhost:8080/auth/backchannel-logout'],
    [
      "compose's",
      { GATEWAY_BACKCHANNEL_LOGOUT_URI: 'http://gateway:8080/auth/backchannel-logout' },
      'http://gateway:8080/auth/backchannel-logout',
    ],
  ])(
    'is accepted by oidc-provider with %s back-channel logout URI, as is a public client',
    async (_, env, uri) => {
      const { clients } = loadClients(DEMO, { env });
      const spa = clientsFrom({
        clients: [
          {
            client_id: 'spa',
            redirect_uris: ['http://localhost:5173/cb'],
            grant_types: ['authorization_code'],
          },
        ],
      }).clients;
      // Static clients never reach the adapter; this one only keeps the provider from warning about its default.
      class NoStorage implements Adapter {
        async upsert() {}
        async find() {
          return undefined;
        }
        async findByUserCode() {
          return undefined;
        }
        async findByUid() {
          return undefined;
        }
        async consume() {}
        async destroy() {}
        async revokeByGrantId() {}
      }
      const provider = new Provider('http://localhost:3000', {
        clients: [...clients, ...spa],
        adapter: NoStorage,
        jwks: { keys: [(await generateJwk('RS256')) as never] },
        features: {
          devInteractions: { enabled: false },
          clientCredentials: { enabled: true },
          backchannelLogout: { enabled: true },
          rpInitiatedLogout: { enabled: true },
        },
      });
      for (const id of ['gateway', 'demo-api', 'spa']) {
        expect((await provider.Client.find(id))?.clientId).toBe(id);
      }
      expect((await provider.Client.find('spa'))?.clientAuthMethod).toBe('none');
      expect((await provider.Client.find('gateway'))?.backchannelLogoutUri).toBe(uri);
    },
  );
});
