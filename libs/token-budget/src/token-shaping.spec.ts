import { beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey } from 'jose';
import {
  BEARER_LINE_OVERHEAD_BYTES,
  bearerLineBytes,
  groupMatcher,
  shapeAccessToken,
  signatureLength,
} from './token-shaping.js';
import type { TokenEnvelope } from './token-shaping.js';

const endpoint = 'https://as.example/claims';

function payloadWith(groups: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: 'https://as.example',
    sub: 'user-1',
    aud: 'https://orders.example',
    exp: 2_000_000_000,
    iat: 1_900_000_000,
    jti: 'j'.repeat(43),
    client_id: 'gateway',
    scope: 'openid orders:read',
    groups: Array.from({ length: groups }, (_, i) => `app-orders-group-${i}`),
    ...extra,
  };
}

describe('shapeAccessToken', () => {
  let key: CryptoKey;
  let envelope: TokenEnvelope;

  beforeAll(async () => {
    let publicKey: CryptoKey;
    ({ privateKey: key, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 }));
    const kid = (await exportJWK(publicKey)).n!.slice(0, 43);
    envelope = {
      header: { alg: 'RS256', typ: 'at+jwt', kid },
      signatureBytes: signatureLength('RS256', 256),
    };
  });

  async function line(payload: Record<string, unknown>): Promise<number> {
    const jwt = await new SignJWT(payload).setProtectedHeader(envelope.header as { alg: string }).sign(key);
    return BEARER_LINE_OVERHEAD_BYTES + jwt.length;
  }

  it('predicts the exact header line of the signed token', async () => {
    for (const groups of [0, 3, 272, 2000]) {
      const payload = payloadWith(groups);
      expect(bearerLineBytes(payload, envelope)).toBe(await line(payload));
    }
  });

  it('leaves a token that fits untouched', () => {
    const payload = payloadWith(3);
    const shaped = shapeAccessToken(payload, envelope, { budgetBytes: 4096, claimsEndpoint: endpoint });
    expect(shaped.payload).toBe(payload);
    expect(shaped.moved).toEqual([]);
    expect(shaped.fits).toBe(true);
  });

  it.each([272, 2000, 10000])('moves %i groups to a distributed source and stays under 4 KiB', async (n) => {
    const payload = payloadWith(n);
    const shaped = shapeAccessToken(payload, envelope, { budgetBytes: 4096, claimsEndpoint: endpoint });
    expect(shaped.moved).toEqual(['groups']);
    expect(shaped.movedClaims.groups).toEqual(payload.groups);
    expect(shaped.payload.groups).toBeUndefined();
    expect(shaped.payload._claim_names).toEqual({ groups: 'src1' });
    expect(shaped.payload._claim_sources).toEqual({ src1: { endpoint } });
    expect(shaped.fits).toBe(true);
    expect(await line(shaped.payload)).toBe(shaped.bytes);
    expect(shaped.bytes).toBeLessThanOrEqual(4096);
    expect(shaped.bytesBefore).toBeGreaterThan(4096);
  });

  it('moves the heaviest of the other claims when groups alone are not enough', () => {
    const payload = payloadWith(10, { feature_flags: 'f'.repeat(5000), locale: 'en' });
    const shaped = shapeAccessToken(payload, envelope, { budgetBytes: 4096, claimsEndpoint: endpoint });
    expect(shaped.moved).toEqual(['groups', 'feature_flags']);
    expect(shaped.payload.locale).toBe('en');
    expect(shaped.fits).toBe(true);
  });

  it('never moves the claims a token needs, and says when the rest alone is over budget', () => {
    const payload = payloadWith(0, { scope: 's '.repeat(3000).trim() });
    const shaped = shapeAccessToken(payload, envelope, { budgetBytes: 4096, claimsEndpoint: endpoint });
    expect(shaped.payload.scope).toBe(payload.scope);
    expect(shaped.payload.sub).toBe('user-1');
    expect(shaped.fits).toBe(false);
  });
});

describe('groupMatcher', () => {
  it('admits by exact names and * patterns', () => {
    const admits = groupMatcher(['app-orders-*', 'staff']);
    expect(['app-orders-1', 'app-orders-', 'staff'].every(admits)).toBe(true);
    expect(['app-billing-1', 'staff2', 'xapp-orders-1', 'app.orders-1'].some(admits)).toBe(false);
  });

  it('treats regular expression characters literally', () => {
    const admits = groupMatcher(['a.b(c)*']);
    expect(admits('a.b(c)d')).toBe(true);
    expect(admits('aXb(c)d')).toBe(false);
  });

  it('admits everything with *', () => {
    expect(groupMatcher(['*'])('anything at all')).toBe(true);
  });
});
