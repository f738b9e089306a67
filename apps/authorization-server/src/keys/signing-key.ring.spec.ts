import { beforeAll, describe, expect, it } from '@jest/globals';
import { generateJwk } from './jwks.js';
import type { PrivateJwk } from './jwks.js';
import { isoSeconds } from './key-schedule.js';
import { SigningKeyRing } from './signing-key.ring.js';

const T = Date.parse('2030-01-01T00:00:00Z');

describe(SigningKeyRing.name, () => {
  let old: PrivateJwk;
  let next: PrivateJwk;
  beforeAll(async () => {
    [old, next] = await Promise.all([generateJwk('RS256'), generateJwk('ES256')]);
  });

  it('publishes a key before its time without letting oidc-provider sign with it, then puts it first', () => {
    let now = T;
    const ring = new SigningKeyRing(
      { keys: [{ ...next, activatesAt: isoSeconds(T + 60_000) }, old] },
      () => now,
    );
    const before = ring.current;
    expect(before.signing.kid).toBe(old.kid);
    expect(before.provider.keys.map((key) => [key.kid, key.key_ops])).toEqual([
      [old.kid, undefined],
      [next.kid, ['verify']],
    ]);
    expect(before.published.map((key) => key.kid)).toEqual([next.kid, old.kid]);
    expect(before.until).toBe(T + 60_000);
    // Nothing of the file's own member reaches oidc-provider or the published keys; no private part is published.
    for (const key of [...before.provider.keys, ...before.published, before.signing]) {
      expect(key).not.toHaveProperty('activatesAt');
    }
    for (const key of before.published) expect(key).not.toHaveProperty('d');

    now = T + 59_999;
    expect(ring.current).toBe(before);
    now = T + 60_000;
    const after = ring.current;
    expect(after).not.toBe(before);
    expect(after.signing.kid).toBe(next.kid);
    expect(after.provider.keys.map((key) => [key.kid, key.key_ops])).toEqual([
      [next.kid, undefined],
      [old.kid, undefined],
    ]);
    expect(after.until).toBeUndefined();
    expect(ring.current).toBe(after);
  });

  it('takes a new JWKS only when one of its keys can sign now, and says why not', () => {
    const now = T;
    const ring = new SigningKeyRing({ keys: [old] }, () => now);
    const kept = ring.current;
    expect(ring.replace({ keys: [{ ...next, activatesAt: isoSeconds(T + 1000) }] })).toBe(
      `no key is active yet, so nothing can sign: the first, ${next.kid}, activates at 2030-01-01T00:00:01Z`,
    );
    expect(ring.current).toBe(kept);
    expect(ring.jwks.keys.map((key) => key.kid)).toEqual([old.kid]);

    expect(ring.replace({ keys: [{ ...next, activatesAt: isoSeconds(T + 1000) }, old] })).toBeUndefined();
    expect(ring.current).not.toBe(kept);
    expect(ring.current.published.map((key) => key.kid)).toEqual([next.kid, old.kid]);
    expect(
      () => new SigningKeyRing({ keys: [{ ...old, activatesAt: isoSeconds(T + 1000) }] }, () => now),
    ).toThrow(/no key is active yet/);
  });
});
