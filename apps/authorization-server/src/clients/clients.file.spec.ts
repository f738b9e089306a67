import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClientsFileInvalid, clientsFrom, isClientUrl, loadClients } from './clients.file.js';

const WEB = {
  client_id: 'web',
  client_secret: 'web-secret-0123456789',
  redirect_uris: ['https://app.example.com/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
};

function problemsOf(raw: unknown, options = {}): string[] {
  try {
    clientsFrom(raw, options);
  } catch (error) {
    if (error instanceof ClientsFileInvalid) return error.problems;
    throw error;
  }
  return [];
}

describe(loadClients.name, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloakroom-clients-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('turns a confidential client into oidc-provider metadata and a policy', () => {
    const { clients, policies } = clientsFrom({
      clients: [
        {
          ...WEB,
          client_name: 'Web',
          post_logout_redirect_uris: ['https://app.example.com/'],
          backchannel_logout_uri: 'https://app.example.com/logout',
          first_party: true,
          resources: ['https://api.example.com'],
          scopes: ['openid', 'orders:read'],
        },
      ],
    });
    expect(clients).toEqual([
      {
        client_id: 'web',
        client_name: 'Web',
        client_secret: 'web-secret-0123456789',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['https://app.example.com/callback'],
        post_logout_redirect_uris: ['https://app.example.com/'],
        backchannel_logout_uri: 'https://app.example.com/logout',
        backchannel_logout_session_required: true,
      },
    ]);
    expect(policies.get('web')).toEqual({
      firstParty: true,
      resources: ['https://api.example.com'],
      scopes: ['openid', 'orders:read'],
    });
  });

  it('makes a client without secret public, and a client_credentials client non-interactive', () => {
    const { clients, policies } = clientsFrom({
      clients: [
        {
          client_id: 'spa',
          redirect_uris: ['http://localhost:5173/cb'],
          grant_types: ['authorization_code'],
        },
        { client_id: 'svc', client_secret: 'svc-secret-0123456789', grant_types: ['client_credentials'] },
      ],
    });
    expect(clients[0]).toMatchObject({ token_endpoint_auth_method: 'none', response_types: ['code'] });
    expect(clients[0]).not.toHaveProperty('client_secret');
    expect(clients[1]).toMatchObject({
      response_types: [],
      redirect_uris: [],
      grant_types: ['client_credentials'],
    });
    expect(policies.get('spa')).toEqual({ firstParty: false, resources: [], scopes: [] });
  });

  it('takes secrets from the environment, with a development default', () => {
    const raw = () => ({
      clients: [
        { ...WEB, client_secret: '${WEB_SECRET}' },
        { ...WEB, client_id: 'dev', client_secret: '${DEV_SECRET:-dev-default-secret-0123}' },
      ],
    });
    const { clients } = clientsFrom(raw(), { env: { WEB_SECRET: 'from-the-environment-0123' } });
    expect(clients.map((c) => c.client_secret)).toEqual([
      'from-the-environment-0123',
      'dev-default-secret-0123',
    ]);

    expect(problemsOf(raw(), { env: {}, production: true })).toEqual([
      'clients[0].client_secret: environment variable WEB_SECRET is not set',
      "clients[1].client_secret: set DEV_SECRET (the file's default is for development only)",
    ]);
    const withAll = clientsFrom(raw(), {
      env: { WEB_SECRET: 'w'.repeat(32), DEV_SECRET: 'd'.repeat(32) },
      production: true,
    });
    expect(withAll.clients[1].client_secret).toBe('d'.repeat(32));
  });

  it('takes the back-channel logout URI from the environment too; plain http to any host only in development', () => {
    const raw = (uri: string) => ({ clients: [{ ...WEB, backchannel_logout_uri: uri }] });
    const uriOf = (uri: string, options = {}) =>
      clientsFrom(raw(uri), options).clients[0].backchannel_logout_uri;
    const fallback = '${BACKCHANNEL_URI:-http://localhost:8080/auth/backchannel-logout}';
    expect(uriOf(fallback, { env: {} })).toBe('http://localhost:8080/auth/backchannel-logout');
    // Containers: the authorization server reaches the gateway by its service name.
    const inside = { BACKCHANNEL_URI: 'http://gateway:8080/auth/backchannel-logout' };
    expect(uriOf(fallback, { env: inside })).toBe('http://gateway:8080/auth/backchannel-logout');
    expect(problemsOf(raw(fallback), { env: inside, production: true })).toEqual([
      'clients[0].backchannel_logout_uri: must be https in production (http only for localhost, 127.0.0.1, [::1])',
    ]);
    const https = { BACKCHANNEL_URI: 'https://app.example.com/auth/backchannel-logout' };
    expect(uriOf(fallback, { env: https, production: true })).toBe(https.BACKCHANNEL_URI);
    // Not a secret: its default stands in production, as long as it is https or loopback.
    expect(uriOf(fallback, { env: {}, production: true })).toBe(
      'http://localhost:8080/auth/backchannel-logout',
    );
    expect(problemsOf(raw('${MISSING_URI}'), { env: {} })).toEqual([
      'clients[0].backchannel_logout_uri: environment variable MISSING_URI is not set',
    ]);
    expect(problemsOf(raw('${BAD}'), { env: { BAD: 'ftp://gateway/logout' } })).toEqual([
      'clients[0].backchannel_logout_uri: backchannel_logout_uri must be an absolute http(s) URL without fragment or credentials',
    ]);
    expect(problemsOf(raw('http://gateway:8080/x#frag'), { env: {} })).toHaveLength(1);
  });

  it('lists every problem with its path and what is expected, and never a secret', () => {
    const problems = problemsOf({
      clients: [
        {
          client_id: 'bad id',
          client_secret: 'short',
          redirect_uris: ['http://app.example.com/cb', 'https://app.example.com/cb#frag', '/relative'],
          grant_types: ['authorization_code', 'implicit'],
          resources: ['api'],
          scopes: ['a b'],
          frist_party: true,
        },
        { client_id: 'pub', grant_types: ['client_credentials'] },
        { ...WEB, client_id: 'pub', token_endpoint_auth_method: 'none', redirect_uris: [] },
        { client_id: 'rt', client_secret: 'rt-secret-0123456789', grant_types: ['refresh_token'] },
        { ...WEB, client_id: 'ref', client_secret: 'prefix-${X}' },
      ],
      other: 1,
    }).join('\n');
    for (const expected of [
      'other: unknown field',
      'clients[0].client_id: client_id must be 1 to 128 of',
      'clients[0].client_secret: client_secret must be at least 16 characters',
      'clients[0].redirect_uris: each value in redirect_uris must be an absolute https URL',
      'clients[0].grant_types: each value in grant_types must be one of the following values',
      'clients[0].resources: each resource must be an absolute http(s) URL',
      'clients[0].scopes: each scope must be a scope token',
      'clients[0].frist_party: unknown field',
      'clients[1].grant_types: client_credentials needs a client_secret',
      'clients[2].client_id: pub is listed twice',
      'clients[2].token_endpoint_auth_method: none is for public clients',
      'clients[2].redirect_uris: at least one is required for authorization_code',
      'clients[3].grant_types: refresh_token needs authorization_code',
      'clients[4].client_secret: must be a literal secret or exactly ${NAME}',
    ]) {
      expect(problems).toContain(expected);
    }
    expect(problems).not.toContain('short');
    expect(problems).not.toContain('web-secret-0123456789');
  });

  it('reads YAML and JSON files and names an unreadable one', () => {
    const content = { clients: [WEB] };
    writeFileSync(join(dir, 'clients.json'), JSON.stringify(content));
    expect(loadClients(join(dir, 'clients.json')).clients[0].client_id).toBe('web');
    writeFileSync(join(dir, 'clients.yaml'), 'clients:\n  - client_id: [unclosed');
    expect(() => loadClients(join(dir, 'clients.yaml'))).toThrow(/cannot be parsed/);
    expect(() => loadClients(join(dir, 'missing.yaml'))).toThrow(/cannot be read: ENOENT/);
    expect(() => loadClients(join(dir, 'clients.ini'))).toThrow(ClientsFileInvalid);
  });
});

describe(isClientUrl.name, () => {
  it('accepts https anywhere and http on loopback only', () => {
    expect(isClientUrl('https://app.example.com/cb?x=1')).toBe(true);
    expect(isClientUrl('http://localhost:8080/auth/callback')).toBe(true);
    expect(isClientUrl('http://127.0.0.1/cb')).toBe(true);
    expect(isClientUrl('http://[::1]:3000/cb')).toBe(true);
    expect(isClientUrl('http://app.example.com/cb')).toBe(false);
    expect(isClientUrl('http://localhost.evil.example/cb')).toBe(false);
    expect(isClientUrl('https://user:pw@app.example.com/cb')).toBe(false);
    expect(isClientUrl('javascript:alert(1)')).toBe(false);
    expect(isClientUrl('https://app.example.com/#x')).toBe(false);
  });
});
