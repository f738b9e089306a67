import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { dpopKey, dpopProof } from './support/dpop-proof.builder.js';
import { startDemoApi } from '../apps/demo-api/src/bootstrap.js';
import type { RunningDemoApi } from '../apps/demo-api/src/bootstrap.js';
import { TestBrowser } from './support/browser.js';
import {
  JWT_RESOURCE,
  OPAQUE_RESOURCE,
  RP,
  RS,
  isRpCallback,
  startTestAuthorizationServer,
} from './support/authorization-server.js';
import type { TestAuthorizationServer } from './support/authorization-server.js';

describe('demo API with the real authorization server', () => {
  let server: TestAuthorizationServer;
  let rp: oidc.Configuration;
  let opaqueApi: RunningDemoApi;
  let jwtApi: RunningDemoApi;

  const apiFor = (audience: string, cacheSeconds: string) =>
    startDemoApi({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ISSUER_URL: server.issuer,
      RESOURCE_AUDIENCE: audience,
      INTROSPECTION_CLIENT_ID: RS.client_id,
      INTROSPECTION_CLIENT_SECRET: RS.client_secret,
      INTROSPECTION_CACHE_MAX_SECONDS: cacheSeconds,
    });

  /** Alice signs in through the form; the relying party redeems the code for a token for `resource`. */
  async function tokenFor(resource: string, DPoP?: oidc.DPoPHandle): Promise<string> {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: RP.redirect_uris[0],
      scope: 'openid orders:read orders:write',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource,
    });
    const callback = await new TestBrowser().signIn(url, 'alice', 'wonderland', isRpCallback);
    const tokens = await oidc.authorizationCodeGrant(
      rp,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state },
      { resource },
      DPoP ? { DPoP } : undefined,
    );
    return tokens.access_token;
  }

  const whoami = (api: RunningDemoApi, token: string) =>
    fetch(`${api.url}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    server = await startTestAuthorizationServer();
    rp = await oidc.discovery(new URL(server.issuer), RP.client_id, RP.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    opaqueApi = await apiFor(OPAQUE_RESOURCE, '1');
    jwtApi = await apiFor(JWT_RESOURCE, '30');
  });
  afterAll(async () => {
    await opaqueApi?.close();
    await jwtApi?.close();
    await server?.stop();
  });

  it('accepts an opaque access token through introspection', async () => {
    const token = await tokenFor(OPAQUE_RESOURCE);
    const response = await whoami(opaqueApi, token);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: 'alice', via: 'introspection' });
  });

  it('accepts a JWT access token through the JWKS, with the groups', async () => {
    const token = await tokenFor(JWT_RESOURCE);
    const response = await whoami(jwtApi, token);
    expect(await response.json()).toMatchObject({ sub: 'alice', via: 'jwt', groupsCount: 3 });
    const write = await fetch(`${jwtApi.url}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'tea', quantity: 1 }),
    });
    expect(write.status).toBe(201);
  });

  it('refuses a revoked opaque token within the cache ceiling', async () => {
    const token = await tokenFor(OPAQUE_RESOURCE);
    expect((await whoami(opaqueApi, token)).status).toBe(200);
    await oidc.tokenRevocation(rp, token);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // INTROSPECTION_CACHE_MAX_SECONDS=1
    const refused = await whoami(opaqueApi, token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a token issued for another audience, on both paths', async () => {
    const jwt = await tokenFor(JWT_RESOURCE);
    const opaque = await tokenFor(OPAQUE_RESOURCE);
    expect((await whoami(opaqueApi, jwt)).status).toBe(401);
    expect((await whoami(jwtApi, opaque)).status).toBe(401);
  });

  it('accepts a DPoP-bound token only with a fresh proof by its key, through the JWKS and through introspection', async () => {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(rp, keys);
    const publicJwk = await exportJWK(keys.publicKey);
    const key = {
      alg: 'ES256',
      privateKey: keys.privateKey,
      publicJwk,
      jkt: await calculateJwkThumbprint(publicJwk),
    };
    for (const [resource, api, via] of [
      [JWT_RESOURCE, jwtApi, 'jwt'],
      [OPAQUE_RESOURCE, opaqueApi, 'introspection'],
    ] as const) {
      const token = await tokenFor(resource, DPoP);
      const url = new URL(`${api.url}/api/whoami`);
      // openid-client makes the proof, as a real client would.
      const response = await oidc.fetchProtectedResource(rp, token, url, 'GET', undefined, undefined, {
        DPoP,
      });
      expect({ via, status: response.status }).toEqual({ via, status: 200 });
      expect(await response.json()).toMatchObject({ sub: 'alice', via });

      const asBearer = await whoami(api, token);
      expect({ via, status: asBearer.status }).toEqual({ via, status: 401 });
      expect(asBearer.headers.get('www-authenticate')).toContain('error="invalid_token"');

      const proof = await dpopProof(key, { htm: 'GET', htu: url.href, token });
      const once = () => fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
      expect((await once()).status).toBe(200);
      const replay = await once();
      expect({ via, status: replay.status }).toEqual({ via, status: 401 });
      expect(replay.headers.get('www-authenticate')).toMatch(
        /DPoP [^,]+, algs="[^"]+", error="invalid_dpop_proof"/,
      );

      const stranger = await dpopKey();
      const stolen = await fetch(url, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await dpopProof(stranger, { htm: 'GET', htu: url.href, token }),
        },
      });
      expect({ via, status: stolen.status }).toEqual({ via, status: 401 });
    }
  });

  it('makes one introspection call for 200 concurrent requests with a new opaque token', async () => {
    const token = await tokenFor(OPAQUE_RESOURCE);
    const before = opaqueApi.verifiers.auto.introspections;
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => (await whoami(opaqueApi, token)).status),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(opaqueApi.verifiers.auto.introspections - before).toBe(1);
  });
});
