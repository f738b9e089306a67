import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, generateKeyPair } from 'jose';
import {
  SessionEncodingInvalid,
  decodeHotSession,
  decodeSession,
  encodeSession,
  hotSessionFor,
} from './session.codec.js';
import type { SessionRecord } from './session.codec.js';

/** A token set like the demo power-user's: an access JWT over 8 KB of groups, an id token, a refresh token. */
export async function powerUserTokenSet(groups = 280): Promise<SessionRecord> {
  const { privateKey } = await generateKeyPair('RS256');
  const groupNames = Array.from(
    { length: groups },
    (_, i) =>
      `team-${['platform', 'payments', 'search', 'identity'][i % 4]}-${randomBytes(3).toString('hex')}`,
  );
  const now = Math.floor(Date.now() / 1000);
  const accessToken = await new SignJWT({
    scope: 'openid profile email offline_access',
    client_id: 'gateway',
    groups: groupNames,
    jti: randomBytes(16).toString('base64url'),
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'key-1' })
    .setIssuer('http://localhost:3000')
    .setSubject('power-user')
    .setAudience('http://localhost:4000')
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
  const idToken = await new SignJWT({
    name: 'Power User',
    email: 'power-user@example.com',
    groups: groupNames.slice(0, 40),
    sid: 'sid-1',
    nonce: randomBytes(16).toString('base64url'),
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
    .setIssuer('http://localhost:3000')
    .setSubject('power-user')
    .setAudience('gateway')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  return {
    accessToken,
    accessExpiresAt: now + 300,
    refreshToken: randomBytes(32).toString('base64url'),
    idToken,
    sid: 'sid-1',
    scope: 'openid profile email offline_access',
    user: { sub: 'power-user', name: 'Power User', email: 'power-user@example.com', groupsCount: groups },
    createdAt: now,
    createdAtMs: now * 1000,
    absoluteExpiresAt: now + 43_200,
  };
}

const KEYS = { sidKey: 'k'.repeat(43), subKey: 's'.repeat(43) };

describe('session codec', () => {
  let record: SessionRecord;
  beforeAll(async () => {
    record = await powerUserTokenSet();
  });

  it('round-trips the whole session exactly', () => {
    const bytes = encodeSession(record, KEYS);
    expect(decodeSession(bytes)).toEqual(record);
  });

  it('round-trips the tokens of other resources and hands each out as its own hot session', () => {
    const withResources: SessionRecord = {
      ...record,
      resourceTokens: {
        'https://orders.test': { accessToken: 'orders.token.value', accessExpiresAt: 1_900_000_000 },
      },
    };
    const bytes = encodeSession(withResources, KEYS);
    const decoded = decodeSession(bytes);
    expect(decoded).toEqual(withResources);
    const hot = decodeHotSession(bytes);
    expect(hotSessionFor(hot, decoded, 'https://orders.test')).toEqual({
      ...hot,
      authorization: 'Bearer orders.token.value',
      accessExpiresAt: 1_900_000_000,
    });
    expect(hotSessionFor(hot, decoded, 'https://billing.test')).toBeUndefined();
    const unsafe = { ...withResources, resourceTokens: { x: { accessToken: 'a\r\nb', accessExpiresAt: 1 } } };
    expect(hotSessionFor(hot, unsafe, 'x')).toBeUndefined();
  });

  it('decodes the hot part alone: the bearer header, expiry, index keys', () => {
    const hot = decodeHotSession(encodeSession(record, KEYS));
    expect(hot).toEqual({
      authorization: `Bearer ${record.accessToken}`,
      accessExpiresAt: record.accessExpiresAt,
      absoluteExpiresAt: record.absoluteExpiresAt,
      createdAtMs: record.createdAtMs,
      ...KEYS,
    });
  });

  it('keeps a token set of about 9.5 KB (access JWT over 8 KB) under 3 KB before sealing', () => {
    const total = record.accessToken.length + record.idToken!.length + record.refreshToken!.length;
    expect(record.accessToken.length).toBeGreaterThan(8192);
    expect(total).toBeGreaterThan(9500);
    const bytes = encodeSession(record, KEYS);
    expect(bytes.length).toBeLessThan(3072);
  });

  it('keeps opaque and non-canonical tokens verbatim', () => {
    const odd = {
      ...record,
      accessToken: 'opaque-token_value',
      idToken: 'a.b.c=',
      refreshToken: undefined,
      sid: undefined,
      refreshExpiresAt: undefined,
    };
    const bytes = encodeSession(odd, { sidKey: '', subKey: KEYS.subKey });
    expect(decodeSession(bytes)).toEqual(odd);
    expect(decodeHotSession(bytes).authorization).toBe('Bearer opaque-token_value');
  });

  it('never hands out an access token that could break out of its header field', () => {
    for (const accessToken of ['abc\r\nx-injected: 1', 'with space', 'tab\tinside', 'caf\u00e9']) {
      const bytes = encodeSession({ ...record, accessToken }, KEYS);
      expect(() => decodeHotSession(bytes)).toThrow(SessionEncodingInvalid);
    }
  });

  it('answers altered, truncated and random bytes with SessionEncodingInvalid only', () => {
    const bytes = encodeSession(record, KEYS);
    const candidates = [
      Buffer.alloc(0),
      randomBytes(64),
      bytes.subarray(0, 20),
      bytes.subarray(0, bytes.length - 10),
      Buffer.concat([Buffer.of(9), bytes.subarray(1)]),
    ];
    for (let i = 0; i < 200; i++) {
      const altered = Buffer.from(bytes);
      altered[Math.floor(Math.random() * altered.length)] ^= 0xff;
      candidates.push(altered);
    }
    for (const candidate of candidates) {
      for (const decode of [decodeSession, decodeHotSession]) {
        try {
          decode(candidate);
        } catch (error) {
          expect(error).toBeInstanceOf(SessionEncodingInvalid);
        }
      }
    }
  });
});
