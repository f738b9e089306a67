import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify } from 'jose';
import {
  JwksFileInvalid,
  SigningKeysMissing,
  generateJwk,
  keyFileExposure,
  loadJwks,
  publicJwks,
  resolveSigningKeys,
  validateJwks,
} from './jwks.js';
import type { PrivateJwk, SigningAlg } from './jwks.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

function problemsOf(raw: unknown): string[] {
  try {
    validateJwks(raw);
  } catch (error) {
    if (error instanceof JwksFileInvalid) return error.problems;
    throw error;
  }
  return [];
}

describe(generateJwk.name, () => {
  it.each<SigningAlg>(['RS256', 'PS256', 'ES256', 'EdDSA'])(
    'makes %s keys that sign and verify',
    async (alg) => {
      const jwk = await generateJwk(alg);
      expect(jwk).toMatchObject({ alg, use: 'sig', d: expect.any(String) });
      expect(jwk.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(validateJwks({ keys: [jwk] }).keys).toHaveLength(1);
      const token = await new SignJWT({ sub: 'x' })
        .setProtectedHeader({ alg, kid: jwk.kid })
        .sign(await importJWK(jwk, alg));
      const { payload } = await jwtVerify(token, createLocalJWKSet(publicJwks({ keys: [jwk] }) as never));
      expect(payload.sub).toBe('x');
    },
  );
});

describe(validateJwks.name, () => {
  let rsa: PrivateJwk;
  let ec: PrivateJwk;
  beforeAll(async () => {
    [rsa, ec] = await Promise.all([generateJwk('RS256'), generateJwk('ES256')]);
  });

  it('lists every problem without key material', async () => {
    const other = await generateJwk('RS256');
    const publicOnly = Object.fromEntries(Object.entries(rsa).filter(([k]) => !PRIVATE_MEMBERS.includes(k)));
    const problems = problemsOf({
      keys: [
        { ...rsa, kid: undefined },
        { ...rsa, kid: 'same' },
        { ...ec, kid: 'same' },
        { ...publicOnly, kid: 'public' },
        { ...rsa, kid: 'hs', alg: 'HS256' },
        { ...ec, kid: 'curve', alg: 'ES384' },
        { ...rsa, kid: 'mixed', n: other.n },
        { ...rsa, kid: 'wrong-kty', alg: 'ES256' },
        'not a key',
      ],
    });
    expect(problems).toEqual([
      'keys[0].kid: required',
      'keys[2].kid: same is used twice',
      'keys[3]: not a private key (missing d, p, q, dp, dq, qi)',
      'keys[4].alg: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA',
      'keys[5].crv: ES384 needs curve P-384',
      'keys[6]: the private key does not match its public parts',
      'keys[7].kty: ES256 needs a EC key',
      'keys[8]: must be a JWK object',
    ]);
    expect(problems.join('\n')).not.toContain(String(rsa.d).slice(0, 12));
    expect(problemsOf({ keys: [] })).toEqual(['keys: must be a non-empty list of private JWKs']);
  });

  it('takes an activation time as a zoned ISO 8601 date or epoch seconds, and names the key of a bad one', async () => {
    const good = [1893456000, '2030-01-01T00:00:00Z', '2030-01-01T01:00+01:00', '2030-01-01T00:00:00.5Z'];
    for (const activatesAt of good) expect(problemsOf({ keys: [{ ...rsa, activatesAt }] })).toEqual([]);
    const bad = [
      'tomorrow',
      '2030-01-01T00:00:00',
      '2030-02-30T00:00:00Z',
      '2030-01-01',
      -1,
      1.5,
      true,
      null,
    ];
    for (const activatesAt of bad) {
      expect(problemsOf({ keys: [ec, { ...rsa, activatesAt }] })).toEqual([
        `keys[1].activatesAt (key ${rsa.kid}): must be an ISO 8601 date and time with its zone (2030-01-31T12:00:00Z) or epoch seconds`,
      ]);
    }
  });
});

describe(resolveSigningKeys.name, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloakroom-keys-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a key in memory in development, and says so', async () => {
    const keys = await resolveSigningKeys({ production: false });
    expect(keys.generated).toBe(true);
    expect(keys.jwks.keys).toHaveLength(1);
    expect(keys.jwks.keys[0].alg).toBe('RS256');
    const missing = await resolveSigningKeys({ path: join(dir, 'nope.json'), production: false });
    expect(missing.generated).toBe(true);
    expect(missing.warnings).toEqual([`JWKS file ${join(dir, 'nope.json')} does not exist`]);
  });

  it('refuses a file in which no key is active yet: nothing could sign', async () => {
    const path = join(dir, 'not-yet.json');
    const later = await generateJwk('RS256');
    const soon = await generateJwk('RS256');
    writeFileSync(
      path,
      JSON.stringify({
        keys: [
          { ...later, activatesAt: '2999-01-01T00:00:00Z' },
          { ...soon, activatesAt: '2998-06-30T12:00:00+02:00' },
        ],
      }),
      { mode: 0o600 },
    );
    const refused = await resolveSigningKeys({ path, production: false }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(JwksFileInvalid);
    expect((refused as JwksFileInvalid).problems).toEqual([
      `no key is active yet, so nothing can sign: the first, ${soon.kid}, activates at 2998-06-30T10:00:00Z`,
    ]);
  });

  it('refuses to run without a key file in production', async () => {
    await expect(resolveSigningKeys({ production: true })).rejects.toBeInstanceOf(SigningKeysMissing);
    await expect(resolveSigningKeys({ path: join(dir, 'nope.json'), production: true })).rejects.toThrow(
      /nope\.json does not exist/,
    );
  });

  it('loads the file, first key first, and warns when others can read it', async () => {
    const jwks = { keys: [await generateJwk('ES256'), await generateJwk('RS256')] };
    const path = join(dir, 'jwks.json');
    writeFileSync(path, JSON.stringify(jwks), { mode: 0o600 });
    chmodSync(path, 0o600);
    const keys = await resolveSigningKeys({ path, production: true });
    expect(keys).toEqual({ jwks, generated: false, warnings: [] });
    chmodSync(path, 0o644);
    expect((await resolveSigningKeys({ path, production: true })).warnings[0]).toMatch(/chmod 600/);
    // A Kubernetes Secret mounted with defaultMode 0440 and the pod's fsGroup: readable by this process's group.
    chmodSync(path, 0o440);
    expect((await resolveSigningKeys({ path, production: true })).warnings).toEqual([]);
    chmodSync(path, 0o600);
    writeFileSync(path, '{"keys": [');
    expect(() => loadJwks(path)).toThrow(/cannot be parsed: .*JSON/);
  });
});

describe(keyFileExposure.name, () => {
  const reader = { gid: 1000 };
  const file = (mode: number, uid = 0, gid = 0) => ({ mode: 0o100000 | mode, uid, gid });

  it('accepts a file only its owner can read, whoever the owner is', () => {
    expect(keyFileExposure(file(0o600, 1000, 1000), reader)).toBeUndefined();
    expect(keyFileExposure(file(0o400, 1000, 50), reader)).toBeUndefined();
  });

  it("accepts a file its group can read when that group is this process's (a Secret volume with fsGroup)", () => {
    // Kubernetes: root-owned, group = the pod's fsGroup, mode = the volume's defaultMode.
    expect(keyFileExposure(file(0o440, 0, 1000), reader)).toBeUndefined();
    expect(keyFileExposure(file(0o640, 1000, 1000), reader)).toBeUndefined();
  });

  it('reports a file its group can read when that group is another one', () => {
    expect(keyFileExposure(file(0o440, 0, 0), reader)).toBe(
      'readable by group 0 (mode 0440), not only by this process (group 1000)',
    );
    expect(keyFileExposure(file(0o640, 1000, 100), reader)).toMatch(/group 100 \(mode 0640\)/);
  });

  it('reports a file any user can read, whatever its group', () => {
    // A Secret volume's default mode, 0644.
    expect(keyFileExposure(file(0o644, 0, 1000), reader)).toBe('readable by other users (mode 0644)');
    expect(keyFileExposure(file(0o604, 1000, 1000), reader)).toBe('readable by other users (mode 0604)');
  });
});
