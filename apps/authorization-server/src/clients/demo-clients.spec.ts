import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ClientsFileInvalid, loadClients } from './clients.file.js';

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
      resources: ['http://localhost:4000'],
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
      resources: ['http://localhost:4000'],
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
});
