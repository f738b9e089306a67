import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportSPKI, importJWK } from 'jose';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { ConfigInvalid, checkConfig, loadConfig } from '@cloakroom/config';
import { TracingConfig, startTracing } from '@cloakroom/ops';
import { ResourceServerConfig } from './resource-server.config.js';
import { AuthorizationServerUnavailable, InvalidDpopProof, InvalidToken } from './resource-server.errors.js';
import { TokenVerifier } from './token-verifier.js';
import { FakeIssuer } from '../../../test/support/fake-issuer.fixture.js';
import { dpopKey, dpopProof } from '../../../test/support/dpop-proof.builder.js';
import type { DpopKey } from '../../../test/support/dpop-proof.builder.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe(TokenVerifier.name, () => {
  let issuer: FakeIssuer;
  const config = (env: Record<string, string> = {}) =>
    loadConfig(ResourceServerConfig, {
      ISSUER_URL: issuer.url,
      RESOURCE_AUDIENCE: 'http://api.test',
      INTROSPECTION_CLIENT_ID: 'rs',
      INTROSPECTION_CLIENT_SECRET: 'rs-secret',
      JWKS_MIN_REFETCH_SECONDS: '1',
      ...env,
    });
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (e: Error) => e,
    );

  beforeAll(async () => {
    issuer = await FakeIssuer.start();
  });
  afterAll(async () => issuer?.close());
  beforeEach(() => {
    issuer.down = false;
    issuer.introspectionDelayMs = 0;
  });

  describe('JWT access tokens', () => {
    it('accepts a valid token and reads the principal from it', async () => {
      const token = await issuer.token({ scope: 'orders:read orders:write', groups: ['a', 'b'] });
      const principal = await new TokenVerifier(config()).verify(token);
      expect(principal).toMatchObject({
        sub: 'alice',
        scopes: ['orders:read', 'orders:write'],
        groups: ['a', 'b'],
        via: 'jwt',
      });
      expect(principal.tokenBytes).toBe(token.length);
    });

    it('refuses alg none, HS256 keyed with the public key, typ other than at+jwt, expired, not yet valid, other audience or issuer', async () => {
      const verifier = new TokenVerifier(config());
      const good = await issuer.token();
      const [, payload] = good.split('.');
      const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`;
      // Algorithm confusion: the RSA public key (PEM) used as an HMAC secret.
      const pem = await exportSPKI(
        (await importJWK(issuer.keys[0].publicJwk, 'RS256', { extractable: true })) as never,
      );
      const confusedInput = `${b64({ alg: 'HS256', kid: issuer.keys[0].kid, typ: 'at+jwt' })}.${payload}`;
      const confused = `${confusedInput}.${createHmac('sha256', pem).update(confusedInput).digest('base64url')}`;
      const now = Math.floor(Date.now() / 1000);
      const cases: Array<[string, string]> = [
        ['none', none],
        ['unsigned', `${b64({ alg: 'RS256', kid: issuer.keys[0].kid })}.${payload}.`],
        ['confused', confused],
        ['expired', await issuer.token({ exp: now - 120 })],
        ['future', await issuer.token({ nbf: now + 600 })],
        ['audience', await issuer.token({ aud: 'http://other.test' })],
        ['issuer', await issuer.token({ iss: 'http://evil.test' })],
        ['tampered', `${good.slice(0, -4)}AAAA`],
        // An id token or any other JWT of the issuer is not an access token (RFC 9068 §4).
        ['typ JWT', await issuer.token({}, issuer.keys[0], 'JWT')],
      ];
      for (const [name, token] of cases) {
        const outcome = await refusal(verifier.verify(token));
        expect({ name, outcome: outcome instanceof InvalidToken }).toEqual({ name, outcome: true });
      }
    });

    it('tolerates small clock skew', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await issuer.token({ exp: now - 10 });
      await expect(
        new TokenVerifier(config({ JWT_CLOCK_TOLERANCE_SECONDS: '30' })).verify(token),
      ).resolves.toBeDefined();
    });

    it('refetches the JWKS for a new key after rotation, at most once per interval', async () => {
      const verifier = new TokenVerifier(config({ JWKS_MIN_REFETCH_SECONDS: '1' }));
      await verifier.verify(await issuer.token());
      const fetchesBefore = issuer.jwksFetches;
      const rotated = await issuer.addKey(`key-${Date.now()}`);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await verifier.verify(await issuer.token({}, rotated))).sub).toBe('alice');
      // An attacker's unknown kids do not make us hammer the issuer.
      const unknown = `${b64({ alg: 'RS256', kid: 'nope', typ: 'at+jwt' })}.${(await issuer.token()).split('.')[1]}.AAAA`;
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => refusal(verifier.verify(unknown))));
      expect(outcomes.every((o) => o instanceof InvalidToken)).toBe(true);
      expect(issuer.jwksFetches - fetchesBefore).toBeLessThanOrEqual(2);
    });
  });

  describe('introspection', () => {
    const active = (extra: Record<string, unknown> = {}) => ({
      active: true,
      sub: 'alice',
      scope: 'orders:read',
      client_id: 'gateway',
      aud: 'http://api.test',
      exp: Math.floor(Date.now() / 1000) + 300,
      ...extra,
    });

    it('accepts an active token for this audience and refuses an inactive one or one for another audience', async () => {
      const verifier = new TokenVerifier(config({ TOKEN_VALIDATION: 'introspection' }));
      issuer.answers.set('opaque-ok', active());
      issuer.answers.set('opaque-other', active({ aud: 'http://other.test' }));
      expect(await verifier.verify('opaque-ok')).toMatchObject({ sub: 'alice', via: 'introspection' });
      expect(await refusal(verifier.verify('opaque-other'))).toBeInstanceOf(InvalidToken);
      expect(await refusal(verifier.verify('opaque-unknown'))).toBeInstanceOf(InvalidToken);
    });

    it('in auto mode, refuses what is shaped like a JWT on the JWT path and introspects the rest', async () => {
      const verifier = new TokenVerifier(config({ TOKEN_VALIDATION: 'auto' }));
      const payload = (await issuer.token()).split('.')[1];
      const before = issuer.introspections;
      for (const attempt of [
        `${b64({ alg: 'RS256', typ: 'at+jwt' })}.${payload}.`,
        `${b64({ typ: 'at+jwt' })}.${payload}.AAAA`,
      ]) {
        expect(await refusal(verifier.verify(attempt))).toBeInstanceOf(InvalidToken);
      }
      expect(issuer.introspections).toBe(before);
      issuer.answers.set('opaque.auto.mode', active());
      expect(await verifier.verify('opaque.auto.mode')).toMatchObject({ via: 'introspection' });
      expect(issuer.introspections).toBe(before + 1);
    });

    it('coalesces 200 concurrent requests with one new token into one call', async () => {
      const verifier = new TokenVerifier(config({ TOKEN_VALIDATION: 'auto' }));
      issuer.answers.set('opaque-burst', active());
      issuer.introspectionDelayMs = 50;
      const before = issuer.introspections;
      const principals = await Promise.all(
        Array.from({ length: 200 }, () => verifier.verify('opaque-burst')),
      );
      expect(principals.every((p) => p.sub === 'alice')).toBe(true);
      expect(issuer.introspections - before).toBe(1);
    });

    it('caches answers no longer than the ceiling nor the token, and inactive ones briefly', async () => {
      let now = Date.now();
      const verifier = new TokenVerifier(
        config({
          TOKEN_VALIDATION: 'introspection',
          INTROSPECTION_CACHE_MAX_SECONDS: '30',
          INTROSPECTION_NEGATIVE_CACHE_SECONDS: '5',
        }),
        () => now,
      );
      issuer.answers.set('opaque-cached', active({ exp: Math.floor(now / 1000) + 10 }));
      const before = issuer.introspections;
      await verifier.verify('opaque-cached');
      await verifier.verify('opaque-cached');
      expect(issuer.introspections - before).toBe(1);
      // Revoked at the server: refused once the cached answer lapses with the token's exp (10 s < 30 s).
      issuer.answers.set('opaque-cached', { active: false });
      now += 11_000;
      expect(await refusal(verifier.verify('opaque-cached'))).toBeInstanceOf(InvalidToken);
      expect(issuer.introspections - before).toBe(2);
      await refusal(verifier.verify('opaque-cached'));
      expect(issuer.introspections - before).toBe(2); // negative cache
      now += 6_000;
      await refusal(verifier.verify('opaque-cached'));
      expect(issuer.introspections - before).toBe(3);
    });

    it('answers AuthorizationServerUnavailable, not InvalidToken, when the issuer is down or refuses our credentials', async () => {
      issuer.answers.set('opaque-down', active());
      issuer.down = true;
      expect(
        await refusal(new TokenVerifier(config({ TOKEN_VALIDATION: 'introspection' })).verify('opaque-down')),
      ).toBeInstanceOf(AuthorizationServerUnavailable);
      issuer.down = false;
      const wrongSecret = new TokenVerifier(
        config({ TOKEN_VALIDATION: 'introspection', INTROSPECTION_CLIENT_SECRET: 'x' }),
      );
      expect(await refusal(wrongSecret.verify('opaque-down'))).toBeInstanceOf(AuthorizationServerUnavailable);
      const nowhere = new TokenVerifier(
        loadConfig(ResourceServerConfig, {
          ISSUER_URL: 'http://127.0.0.1:1',
          AUTHORIZATION_SERVER_TIMEOUT_MS: '500',
        }),
      );
      expect(await refusal(nowhere.verify(await issuer.token()))).toBeInstanceOf(
        AuthorizationServerUnavailable,
      );
    });
  });

  describe('behind ISSUER_INTERNAL_URL (containers: a public issuer, reached at another address inside)', () => {
    let inside: FakeIssuer;
    let outside: { url: string; hits: string[]; close(): Promise<void> };
    const internalConfig = (env: Record<string, string> = {}) =>
      loadConfig(ResourceServerConfig, {
        ISSUER_URL: outside.url,
        ISSUER_INTERNAL_URL: inside.url,
        RESOURCE_AUDIENCE: 'http://api.test',
        INTROSPECTION_CLIENT_ID: 'rs',
        INTROSPECTION_CLIENT_SECRET: 'rs-secret',
        AUTHORIZATION_SERVER_TIMEOUT_MS: '1000',
        ...env,
      });
    const withClaimsAt = (endpoint: string) =>
      inside.token({ _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint } } });

    beforeAll(async () => {
      // The public address: what browsers reach, and what this API must not ask (it answers nothing useful).
      const hits: string[] = [];
      const server = createServer((req, res) => {
        hits.push(req.url ?? '');
        res.writeHead(502).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      outside = {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        hits,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
      inside = await FakeIssuer.start();
      inside.publicUrl = outside.url;
    });
    afterAll(async () => {
      await inside?.close();
      await outside?.close();
    });

    it('fetches discovery, the JWKS, introspection and distributed claims at the internal address only', async () => {
      const verifier = new TokenVerifier(internalConfig());
      const jwt = await inside.token({ groups: ['a'] });
      expect(await verifier.verify(jwt)).toMatchObject({ sub: 'alice', groups: ['a'], via: 'jwt' });

      const heavy = await withClaimsAt(`${outside.url}/claims`);
      inside.claims.set(heavy, { sub: 'alice', aud: 'http://api.test', groups: ['g1', 'g2'] });
      expect(await verifier.verify(heavy)).toMatchObject({ groups: ['g1', 'g2'] });
      expect(inside.claimsFetches).toBe(1);

      inside.answers.set('opaque-inside', {
        active: true,
        sub: 'bob',
        aud: 'http://api.test',
        exp: Math.floor(Date.now() / 1000) + 300,
      });
      expect(await verifier.verify('opaque-inside')).toMatchObject({ sub: 'bob', via: 'introspection' });
      expect(inside.introspections).toBe(1);
      expect(inside.jwksFetches).toBeGreaterThan(0);
      expect(outside.hits).toEqual([]);
    });

    it('still holds tokens to the public issuer: the internal address as `iss` or as a claims source is refused', async () => {
      const verifier = new TokenVerifier(internalConfig());
      const wrongIssuer = await refusal(verifier.verify(await inside.token({ iss: inside.url })));
      expect(wrongIssuer).toBeInstanceOf(InvalidToken);
      expect((wrongIssuer as InvalidToken).reason).toBe("the token's iss claim is not acceptable");

      const fetchesBefore = inside.claimsFetches;
      const insideSource = await withClaimsAt(`${inside.url}/claims`);
      inside.claims.set(insideSource, { sub: 'alice', aud: 'http://api.test', groups: ['g1'] });
      const refused = await refusal(verifier.verify(insideSource));
      expect(refused).toBeInstanceOf(InvalidToken);
      expect((refused as InvalidToken).reason).toBe('the token names a claim source outside its issuer');
      expect(inside.claimsFetches).toBe(fetchesBefore);
      expect(outside.hits).toEqual([]);
    });

    it('refuses a discovery document that names the internal address as the issuer', async () => {
      inside.publicUrl = inside.url;
      try {
        const outcome = await refusal(new TokenVerifier(internalConfig()).verify(await inside.token()));
        expect(outcome).toBeInstanceOf(AuthorizationServerUnavailable);
        expect((outcome as Error).message).toMatch(/names issuer/);
      } finally {
        inside.publicUrl = outside.url;
      }
    });

    it('without it, asks the public address', async () => {
      const config = internalConfig();
      delete config.ISSUER_INTERNAL_URL;
      const outcome = await refusal(new TokenVerifier(config).verify(await inside.token()));
      expect(outcome).toBeInstanceOf(AuthorizationServerUnavailable);
      expect(outside.hits).toContain('/.well-known/openid-configuration');
      outside.hits.length = 0;
    });

    it('takes an origin only: a path, query or other scheme is a configuration error', () => {
      for (const value of ['http://authorization-server:3000/oidc', 'http://as:3000?x=1', 'ftp://as']) {
        expect(() => internalConfig({ ISSUER_INTERNAL_URL: value })).toThrow(ConfigInvalid);
      }
      for (const value of ['http://authorization-server:3000', 'https://as.internal/']) {
        expect(internalConfig({ ISSUER_INTERNAL_URL: value }).ISSUER_INTERNAL_URL).toBe(value);
      }
    });
  });

  describe('with tracing', () => {
    it("makes introspection and distributed-claims calls client spans, each request carrying its span's traceparent; without tracing, none", async () => {
      const exporter = new InMemorySpanExporter();
      const on = checkConfig(TracingConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }).config;
      const tracing = (await startTracing(on, { serviceName: 'api', exporter }))!;
      const heavy = await issuer.token({
        _claim_names: { groups: 'src1' },
        _claim_sources: { src1: { endpoint: `${issuer.url}/claims` } },
      });
      issuer.claims.set(heavy, { sub: 'alice', aud: 'http://api.test', groups: ['g1'] });
      const exp = Math.floor(Date.now() / 1000) + 300;
      issuer.answers.set('opaque-traced', { active: true, sub: 'bob', aud: 'http://api.test', exp });
      issuer.traceparents = [];

      const verifier = new TokenVerifier(config(), Date.now, undefined, tracing);
      await tracing.span('request', {}, async () => {
        expect(await verifier.verify(heavy)).toMatchObject({ groups: ['g1'] });
        expect(await verifier.verify('opaque-traced')).toMatchObject({ sub: 'bob', via: 'introspection' });
      });

      const spans = exporter.getFinishedSpans();
      await tracing.shutdown();
      const request = spans.find((s) => s.name === 'request')!;
      for (const [name, path] of [
        ['distributed claims', '/claims'],
        ['introspection', '/introspect'],
      ]) {
        const span = spans.find((s) => s.name === name)!;
        expect(span.kind).toBe(SpanKind.CLIENT);
        expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
        expect(span.attributes).toMatchObject({
          'server.address': '127.0.0.1',
          'http.response.status_code': 200,
        });
        const { traceId, spanId } = span.spanContext();
        expect(issuer.traceparents.filter((r) => r.path === path).map((r) => r.traceparent)).toEqual([
          `00-${traceId}-${spanId}-01`,
        ]);
      }

      issuer.traceparents = [];
      issuer.answers.set('opaque-untraced', { active: true, sub: 'bob', aud: 'http://api.test', exp });
      await new TokenVerifier(config()).verify('opaque-untraced');
      expect(issuer.traceparents.filter((r) => r.path === '/introspect')).toEqual([
        { path: '/introspect', traceparent: undefined },
      ]);
    });
  });

  describe('DPoP-bound tokens (RFC 9449 §7)', () => {
    const API = 'https://api.example';
    const at = { method: 'GET', path: '/api/orders' };
    const htu = `${API}/api/orders`;
    let key: DpopKey;
    let other: DpopKey;
    const dpopConfig = (env: Record<string, string> = {}) =>
      config({ RESOURCE_PUBLIC_URL: `${API}/`, ...env });

    beforeAll(async () => {
      key = await dpopKey();
      other = await dpopKey();
      issuer.answers.set('opaque-bound', {
        active: true,
        sub: 'alice',
        scope: 'orders:read',
        aud: 'http://api.test',
        exp: Math.floor(Date.now() / 1000) + 300,
        token_type: 'DPoP',
        cnf: { jkt: '' },
      });
    });

    it('accepts a bound JWT or introspected token with a proof by its key, and refuses either as Bearer', async () => {
      (issuer.answers.get('opaque-bound')!.cnf as { jkt: string }).jkt = key.jkt;
      const jwt = await issuer.token({ cnf: { jkt: key.jkt } });
      for (const mode of ['jwt', 'introspection'] as const) {
        const verifier = new TokenVerifier(dpopConfig({ TOKEN_VALIDATION: mode }));
        const token = mode === 'jwt' ? jwt : 'opaque-bound';
        const proof = await dpopProof(key, { htm: 'GET', htu, token });
        const principal = await verifier.authenticate({ scheme: 'DPoP', token, proof }, at);
        expect(principal).toMatchObject({ sub: 'alice', jkt: key.jkt, via: mode });
        const asBearer = await refusal(verifier.authenticate({ scheme: 'Bearer', token }, at));
        expect(asBearer).toBeInstanceOf(InvalidToken);
        expect((asBearer as InvalidToken).reason).toMatch(/bound to a DPoP key/);
      }
    });

    it('refuses a proof by another key, a replayed proof, a proof for another request, and an unbound token under DPoP', async () => {
      const verifier = new TokenVerifier(dpopConfig());
      const token = await issuer.token({ cnf: { jkt: key.jkt } });
      const wrongKey = await refusal(
        verifier.authenticate(
          { scheme: 'DPoP', token, proof: await dpopProof(other, { htm: 'GET', htu, token }) },
          at,
        ),
      );
      expect(wrongKey).toBeInstanceOf(InvalidDpopProof);
      expect((wrongKey as InvalidDpopProof).reason).toMatch(/not the one the token is bound to/);

      const proof = await dpopProof(key, { htm: 'GET', htu, token });
      await verifier.authenticate({ scheme: 'DPoP', token, proof }, at);
      const replay = await refusal(verifier.authenticate({ scheme: 'DPoP', token, proof }, at));
      expect((replay as InvalidDpopProof).reason).toBe('the proof has already been used');

      const fresh = await dpopProof(key, { htm: 'GET', htu, token });
      const post = await refusal(
        verifier.authenticate({ scheme: 'DPoP', token, proof: fresh }, { ...at, method: 'POST' }),
      );
      expect(post).toBeInstanceOf(InvalidDpopProof);
      // The proof was not used up by the refused request: it still works for its own.
      await verifier.authenticate({ scheme: 'DPoP', token, proof: fresh }, at);

      const unbound = await issuer.token();
      const outcome = await refusal(
        verifier.authenticate(
          {
            scheme: 'DPoP',
            token: unbound,
            proof: await dpopProof(key, { htm: 'GET', htu, token: unbound }),
          },
          at,
        ),
      );
      expect(outcome).toBeInstanceOf(InvalidToken);
      expect(
        await refusal(verifier.authenticate({ scheme: 'DPoP', token, proof: undefined }, at)),
      ).toBeInstanceOf(InvalidDpopProof);
    });

    it('lets exactly one of 20 concurrent requests with one proof through', async () => {
      const verifier = new TokenVerifier(dpopConfig({ TOKEN_VALIDATION: 'introspection' }));
      (issuer.answers.get('opaque-bound')!.cnf as { jkt: string }).jkt = key.jkt;
      issuer.introspectionDelayMs = 20;
      const proof = await dpopProof(key, { htm: 'GET', htu, token: 'opaque-bound' });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          verifier.authenticate({ scheme: 'DPoP', token: 'opaque-bound', proof }, at),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    });
  });
});
