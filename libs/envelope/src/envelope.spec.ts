import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  Envelope,
  SEALED_OVERHEAD,
  SealedValueInvalid,
  isDek,
  newSecret,
  open,
  seal,
  sealWithIv,
} from './envelope.js';

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const IV = Buffer.from(Array.from({ length: 12 }, (_, i) => 0xa0 + i));

// Pinned bytes, cross-checked with an independent AES-GCM / HMAC / HKDF implementation when written.
// If one of these changes, stored values written before the change no longer open.
describe('known answers', () => {
  it('seals a fixed plaintext to fixed bytes (version 1, IV, ciphertext, tag)', () => {
    expect(sealWithIv(KEY, IV, Buffer.from('cloakroom'), 'slot').toString('hex')).toBe(
      '01a0a1a2a3a4a5a6a7a8a9aaab8574134c2eb96dd00f6e1a14e70da1680b6f9cc969a3aa9436',
    );
  });

  it('seals an empty plaintext to version, IV and tag only', () => {
    const sealed = sealWithIv(KEY, IV, Buffer.alloc(0), '');
    expect(sealed.toString('hex')).toBe('01a0a1a2a3a4a5a6a7a8a9aaabaab70c9d092f9006fea72c9c4e4eaff4');
    expect(sealed.length).toBe(SEALED_OVERHEAD);
    expect(open(KEY, sealed, '').length).toBe(0);
  });

  it('derives slots with HMAC-SHA256 under the public key, or under the pepper', () => {
    expect(new Envelope().slotOf('gateway.session', 'secret-1')).toBe(
      '8YCwM5lmvBFdQlDxPmakm2qn7kNmyoHBPsSSyW1fKiU',
    );
    expect(new Envelope({ pepper: 'p'.repeat(32) }).slotOf('gateway.session', 'secret-1')).toBe(
      'xWNHa5Z5sY9jYZGXRxP3gfvFb0fzuMZ0iwjTL4HermI',
    );
  });

  it('derives keys of non-DEK secrets with HKDF-SHA256, salted by the pepper', () => {
    expect(new Envelope().keyOf('oidc.AccessToken', 'token-id').toString('hex')).toBe(
      'ccbb725c13d87508628502db1dddbfc4e8d00d854b99151bb81c6f4ccc32069b',
    );
    expect(
      new Envelope({ pepper: 'p'.repeat(32) }).keyOf('oidc.AccessToken', 'token-id').toString('hex'),
    ).toBe('5c60ed9320a7d46b48b92b56b6f884f145bc395e4de3d06151d80716ffee4822');
  });
});

describe('newSecret', () => {
  it('gives 43 base64url characters of 32 random bytes, different every time', () => {
    const secrets = new Set(Array.from({ length: 1000 }, newSecret));
    expect(secrets.size).toBe(1000);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(isDek(secret)).toBe(true);
    }
  });
});

describe(Envelope.name, () => {
  const envelope = new Envelope();

  it('uses a DEK as the key itself, and HKDF for any other secret', () => {
    const dek = newSecret();
    expect(envelope.keyOf('gateway.session', dek)).toEqual(Buffer.from(dek, 'base64url'));
    expect(envelope.keyOf('oidc.Session', 'short-id')).toHaveLength(32);
    expect(envelope.keyOf('oidc.Session', 'short-id')).not.toEqual(envelope.keyOf('oidc.Grant', 'short-id'));
  });

  it('gives different slots for different namespaces, secrets and peppers, never containing the secret', () => {
    const secret = newSecret();
    const slots = [
      envelope.slotOf('a', secret),
      envelope.slotOf('b', secret),
      envelope.slotOf('a', newSecret()),
      new Envelope({ pepper: randomBytes(32) }).slotOf('a', secret),
    ];
    expect(new Set(slots).size).toBe(4);
    for (const slot of slots) expect(slot).not.toContain(secret);
  });

  it('refuses namespaces that could make the hashed encoding ambiguous', () => {
    expect(() => envelope.slotOf('a\0b', 'x')).toThrow(TypeError);
    expect(() => envelope.slotOf('', 'x')).toThrow(TypeError);
  });
});

describe('seal and open', () => {
  const aad = 'gateway.session:{slot}';

  it('round-trips empty, small and 1 MiB plaintexts with a fresh IV each time', () => {
    for (const size of [0, 1, 8192, 1024 * 1024]) {
      const plaintext = randomBytes(size);
      const a = seal(KEY, plaintext, aad);
      const b = seal(KEY, plaintext, aad);
      expect(a.length).toBe(size + SEALED_OVERHEAD);
      expect(a.equals(b)).toBe(false);
      expect(open(KEY, a, aad).equals(plaintext)).toBe(true);
    }
  });

  it('never repeats an IV, across many batches of them', () => {
    const ivs = new Set<string>();
    const count = 2000;
    for (let i = 0; i < count; i++) ivs.add(seal(KEY, Buffer.alloc(0), aad).subarray(1, 13).toString('hex'));
    expect(ivs.size).toBe(count);
  });

  it('fails with one typed error on a wrong key, a wrong AAD or an unknown version', () => {
    const sealed = seal(KEY, Buffer.from('secret claims'), aad);
    expect(() => open(randomBytes(32), sealed, aad)).toThrow(SealedValueInvalid);
    expect(() => open(KEY, sealed, 'gateway.session:{other}')).toThrow(SealedValueInvalid);
    const relabelled = Buffer.from(sealed);
    relabelled[0] = 2;
    expect(() => open(KEY, relabelled, aad)).toThrow(SealedValueInvalid);
  });

  it('detects a flipped bit in every byte of every region (version, IV, ciphertext, tag)', () => {
    const sealed = seal(KEY, Buffer.from('{"sub":"alice"}'), aad);
    for (let i = 0; i < sealed.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const altered = Buffer.from(sealed);
        altered[i] ^= bit;
        expect(() => open(KEY, altered, aad)).toThrow(SealedValueInvalid);
      }
    }
  });

  it('rejects every truncation and extension without returning partial data', () => {
    const sealed = seal(KEY, randomBytes(64), aad);
    for (let length = 0; length < sealed.length; length++) {
      expect(() => open(KEY, sealed.subarray(0, length), aad)).toThrow(SealedValueInvalid);
    }
    expect(() => open(KEY, Buffer.concat([sealed, Buffer.of(0)]), aad)).toThrow(SealedValueInvalid);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => seal(randomBytes(16), Buffer.alloc(1), aad)).toThrow(TypeError);
  });
});
