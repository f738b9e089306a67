import { beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { exportJWK } from 'jose';
import { DpopProofVerifier } from './dpop-proof.verifier.js';
import { DpopReplayCacheFull, InvalidDpopProof } from './resource-server.errors.js';
import { dpopKey, dpopProof } from '../../../test/support/dpop-proof.builder.js';
import type { DpopKey } from '../../../test/support/dpop-proof.builder.js';

const URL_ = 'https://api.example/api/orders';
const TOKEN = 'an-access-token';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe(DpopProofVerifier.name, () => {
  let key: DpopKey;
  let now = Date.now();
  const verifier = (maxEntries = 1000) =>
    new DpopProofVerifier({ algorithms: ['ES256', 'EdDSA'], windowSeconds: 60, maxEntries }, () => now);
  const request = { method: 'GET', url: URL_, accessToken: TOKEN };
  const reason = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (e: Error) => (e instanceof InvalidDpopProof ? e.reason : `${e.name}: ${e.message}`),
    );

  beforeAll(async () => {
    key = await dpopKey();
  });

  it("accepts a proof for this method, URL and token, and gives the key's thumbprint", async () => {
    now = Date.now();
    const proof = await dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN });
    const checked = await verifier().check(proof, request);
    expect(checked.jkt).toBe(key.jkt);
    // Case of scheme and host and the default port do not matter (RFC 3986 §6.2.2, §6.2.3).
    const variant = await dpopProof(key, {
      htm: 'GET',
      htu: 'HTTPS://API.example:443/api/orders',
      token: TOKEN,
    });
    expect((await verifier().check(variant, request)).jkt).toBe(key.jkt);
  });

  it('accepts a proof once: a replay within the window is refused, also after 59 s', async () => {
    now = Date.now();
    const v = verifier();
    const proof = await dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN, iat: Math.floor(now / 1000) });
    v.consume(await v.check(proof, request));
    expect(await reason(v.check(proof, request).then((c) => v.consume(c)))).toBe(
      'the proof has already been used',
    );
    now += 59_000;
    expect(await reason(v.check(proof, request).then((c) => v.consume(c)))).toBe(
      'the proof has already been used',
    );
    now += 2_000; // out of the window: refused by its iat, and forgotten
    expect(await reason(v.check(proof, request))).toMatch(/iat is more than 60 s off/);
  });

  it('refuses a wrong htm or htu, a stale or future iat, a wrong ath, and missing claims', async () => {
    now = Date.now();
    const s = Math.floor(now / 1000);
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['htm', dpopProof(key, { htm: 'POST', htu: URL_, token: TOKEN }), /htm is not GET/],
      ['htu path', dpopProof(key, { htm: 'GET', htu: `${URL_}/1`, token: TOKEN }), /htu is not/],
      [
        'htu host',
        dpopProof(key, { htm: 'GET', htu: 'https://evil.example/api/orders', token: TOKEN }),
        /htu/,
      ],
      [
        'htu scheme',
        dpopProof(key, { htm: 'GET', htu: 'http://api.example/api/orders', token: TOKEN }),
        /htu/,
      ],
      ['stale iat', dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN, iat: s - 61 }), /iat/],
      ['future iat', dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN, iat: s + 61 }), /iat/],
      ['ath', dpopProof(key, { htm: 'GET', htu: URL_, token: 'another-token' }), /ath is not the hash/],
      ['no ath', dpopProof(key, { htm: 'GET', htu: URL_ }), /ath claim is missing/],
      ['no jti', dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN, claims: { jti: undefined } }), /jti/],
      ['long jti', dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN, jti: 'j'.repeat(300) }), /jti/],
    ];
    const v = verifier();
    for (const [name, proof, expected] of cases) {
      const outcome = await reason(v.check(await proof, request));
      expect({ name, outcome: expected.test(outcome) ? 'refused' : outcome }).toEqual({
        name,
        outcome: 'refused',
      });
    }
    // Within the window either way: ±59 s passes.
    for (const iat of [s - 59, s + 59]) {
      await v.check(await dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN, iat }), request);
    }
  });

  it('refuses a proof of the wrong type, algorithm or key, a private key in the header, and a bad signature', async () => {
    now = Date.now();
    const rsa = await dpopKey('RS256');
    const other = await dpopKey();
    const good = await dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN });
    const [h, p] = good.split('.');
    const hmacInput = `${b64({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.publicJwk })}.${p}`;
    const cases: Array<[string, string, RegExp]> = [
      [
        'typ JWT',
        await dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN, typ: 'JWT' }),
        /typ must be dpop\+jwt/,
      ],
      ['RS256 not allowed', await dpopProof(rsa, { htm: 'GET', htu: URL_, token: TOKEN }), /algorithm/],
      ['alg none', `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${p}.`, /one compact JWS/],
      [
        'HS256',
        `${hmacInput}.${createHmac('sha256', 'k').update(hmacInput).digest('base64url')}`,
        /algorithm/,
      ],
      [
        'private jwk',
        await dpopProof(key, {
          htm: 'GET',
          htu: URL_,
          token: TOKEN,
          jwk: await exportJWK(key.privateKey),
        }),
        /public key/,
      ],
      [
        'header names another key',
        await dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN, jwk: other.publicJwk }),
        /signature does not verify/,
      ],
      ['tampered', `${h}.${p}.${good.split('.')[2].slice(0, -4)}AAAA`, /signature|valid/],
      ['two headers', `${good}, ${good}`, /exactly one DPoP header/],
      ['not a JWS', 'not-a-proof', /exactly one DPoP header/],
    ];
    for (const [name, proof, expected] of cases) {
      const outcome = await reason(verifier().check(proof, request));
      expect({ name, outcome: expected.test(outcome) ? 'refused' : outcome }).toEqual({
        name,
        outcome: 'refused',
      });
    }
  });

  it('refuses a new proof rather than forget a live one when the replay cache is full, and makes room as proofs expire', async () => {
    now = Date.now();
    const v = verifier(100);
    const proof = () => dpopProof(key, { htm: 'GET', htu: URL_, token: TOKEN, iat: Math.floor(now / 1000) });
    for (let i = 0; i < 100; i++) v.consume(await v.check(await proof(), request));
    const extra = await v.check(await proof(), request);
    expect(() => v.consume(extra)).toThrow(DpopReplayCacheFull);
    now += 61_000;
    v.consume(await v.check(await proof(), request));
    expect(v.remembered).toBe(1);
  });
});
