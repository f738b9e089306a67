import { beforeAll, describe, expect, it } from '@jest/globals';
import { generateJwk } from './jwks.js';
import type { PrivateJwk } from './jwks.js';
import { activationOf, isoSeconds, keySchedule, signingKeyProblem } from './key-schedule.js';

const T = Date.parse('2030-01-01T00:00:00Z');
const at = (offsetSeconds: number) => isoSeconds(T + offsetSeconds * 1000);

describe(keySchedule.name, () => {
  let a: PrivateJwk;
  let b: PrivateJwk;
  let c: PrivateJwk;
  beforeAll(async () => {
    [a, b, c] = await Promise.all([generateJwk('RS256'), generateJwk('RS256'), generateJwk('ES256')]);
  });
  const kids = (keys: PrivateJwk[]) => keys.map((key) => key.kid);

  it('signs with the first key of a file without activation times, as before', () => {
    const schedule = keySchedule({ keys: [a, b] }, T);
    expect(schedule.signing?.kid).toBe(a.kid);
    expect(kids(schedule.active)).toEqual([a.kid, b.kid]);
    expect(schedule.pending).toEqual([]);
    expect(schedule.nextActivationMs).toBeUndefined();
  });

  it('publishes a rotated key but signs with the older one until its time, then with the new one', () => {
    const rotated = { keys: [{ ...c, activatesAt: at(600) }, a] };
    const before = keySchedule(rotated, T + 599_999);
    expect(before.signing?.kid).toBe(a.kid);
    expect(kids(before.pending)).toEqual([c.kid]);
    expect(before.nextActivationMs).toBe(T + 600_000);

    const after = keySchedule(rotated, T + 600_000);
    expect(after.signing?.kid).toBe(c.kid);
    expect(kids(after.active)).toEqual([c.kid, a.kid]);
    expect(after.nextActivationMs).toBeUndefined();
  });

  it('signs with the key activated last, wherever it sits in the file; pending keys soonest first', () => {
    const jwks = {
      keys: [
        { ...a, activatesAt: at(-3600) },
        { ...b, activatesAt: (T - 60_000) / 1000 },
        { ...c, activatesAt: at(120) },
      ],
    };
    expect(kids(keySchedule(jwks, T).active)).toEqual([b.kid, a.kid]);
    const early = keySchedule(jwks, T - 7200_000);
    expect(early.signing).toBeUndefined();
    expect(kids(early.pending)).toEqual([a.kid, b.kid, c.kid]);
    expect(early.nextActivationMs).toBe(T - 3600_000);
  });
});

describe(signingKeyProblem.name, () => {
  it('says when nothing can sign yet, and when the first key will', async () => {
    const key = await generateJwk('ES256');
    expect(signingKeyProblem({ keys: [{ ...key, activatesAt: at(0) }] }, T)).toBeUndefined();
    expect(signingKeyProblem({ keys: [{ ...key, activatesAt: at(1) }] }, T)).toBe(
      `no key is active yet, so nothing can sign: the first, ${key.kid}, activates at 2030-01-01T00:00:01Z`,
    );
  });
});

describe(activationOf.name, () => {
  it('reads both spellings to the same moment, and a key without one as undefined', async () => {
    const key = await generateJwk('ES256');
    expect(activationOf({ ...key, activatesAt: '2030-01-01T01:30:00+01:30' })).toBe(T);
    expect(activationOf({ ...key, activatesAt: T / 1000 })).toBe(T);
    expect(activationOf(key)).toBeUndefined();
  });
});
