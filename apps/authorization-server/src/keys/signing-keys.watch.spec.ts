import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateJwk } from './jwks.js';
import type { PrivateJwk, PrivateJwks } from './jwks.js';
import { isoSeconds } from './key-schedule.js';
import { SigningKeyRing } from './signing-key.ring.js';
import { watchSigningKeys } from './signing-keys.watch.js';

const dir = mkdtempSync(join(tmpdir(), 'cloakroom-keys-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('not within the time allowed');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function recorder() {
  const entries: Array<{ level: 'info' | 'warn'; object: Record<string, unknown>; message: string }> = [];
  return {
    entries,
    logger: {
      info: (object: object, message: string) =>
        entries.push({ level: 'info', object: object as Record<string, unknown>, message }),
      warn: (object: object, message: string) =>
        entries.push({ level: 'warn', object: object as Record<string, unknown>, message }),
    },
  };
}

describe(watchSigningKeys.name, () => {
  let old: PrivateJwk;
  let next: PrivateJwk;
  let third: PrivateJwk;
  beforeAll(async () => {
    [old, next, third] = await Promise.all([
      generateJwk('RS256'),
      generateJwk('RS256'),
      generateJwk('ES256'),
    ]);
  });
  const write = (path: string, jwks: PrivateJwks | string) =>
    writeFileSync(path, typeof jwks === 'string' ? jwks : JSON.stringify(jwks), { mode: 0o600 });

  it('publishes a rotated key at once, signs with it from its time on and says so; refuses a file that cannot serve', async () => {
    const file = join(dir, 'jwks.json');
    write(file, { keys: [old] });
    const ring = new SigningKeyRing({ keys: [old] });
    const log = recorder();
    const watch = watchSigningKeys(file, ring, { logger: log.logger, intervalMs: 25 });
    try {
      // The watch compares with the file as it first saw it: let it look once before the change.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const activatesAt = isoSeconds(Math.ceil(Date.now() / 1000) * 1000 + 3000);
      write(file, { keys: [{ ...next, activatesAt }, old] });
      await eventually(() => ring.current.published.length === 2);
      expect(ring.current.signing.kid).toBe(old.kid);
      expect(log.entries).toEqual([
        {
          level: 'info',
          object: {
            file,
            signing: old.kid,
            published: [next.kid, old.kid],
            activations: [{ kid: next.kid, at: activatesAt }],
          },
          message: 'JWKS file reloaded: every key in it is published',
        },
      ]);

      // No request needed: the timer says when the new key takes over.
      await eventually(() => log.entries.length === 2, 4000);
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(activatesAt));
      expect(log.entries[1]).toEqual({
        level: 'info',
        object: { kid: next.kid, alg: 'RS256' },
        message: 'signing key activated: it signs from now on',
      });
      expect(ring.current.signing.kid).toBe(next.kid);

      const refusals = () => log.entries.filter((entry) => entry.level === 'warn');
      write(file, { keys: [{ ...third, activatesAt: isoSeconds(Date.now() + 3_600_000) }] });
      await eventually(() => refusals().length === 1);
      expect(refusals()[0]!.object).toEqual({
        file,
        problems: [
          expect.stringMatching(
            new RegExp(`^no key is active yet, so nothing can sign: the first, ${third.kid}`),
          ),
        ],
      });
      write(file, { keys: [{ ...third, activatesAt: 'next tuesday' }] });
      await eventually(() => refusals().length === 2);
      expect(refusals()[1]!.object.problems).toEqual([
        `keys[0].activatesAt (key ${third.kid}): must be an ISO 8601 date and time with its zone (2030-01-31T12:00:00Z) or epoch seconds`,
      ]);
      await rm(file);
      await eventually(() => refusals().length === 3);
      expect(refusals()[2]!.object).toEqual({ file, problems: ['cannot be read: ENOENT'] });
      expect(refusals().map((entry) => entry.message)).toEqual(
        Array(3).fill(
          'JWKS file changed but cannot be used: the keys in service stay (published and signing as before)',
        ),
      );
      expect(ring.current.signing.kid).toBe(next.kid);
      expect(ring.current.published.map((key) => key.kid)).toEqual([next.kid, old.kid]);
    } finally {
      watch.close();
    }
  });

  it('warns when a new key signs at once: APIs with a fresh copy of the JWKS refuse its tokens for a while', async () => {
    const file = join(dir, 'immediate.json');
    write(file, { keys: [old] });
    const ring = new SigningKeyRing({ keys: [old] });
    const log = recorder();
    const watch = watchSigningKeys(file, ring, { logger: log.logger, intervalMs: 25 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      write(file, { keys: [{ ...third, activatesAt: isoSeconds(Date.now() - 1000) }, old] });
      await eventually(() => log.entries.some((entry) => entry.level === 'warn'));
      expect(ring.current.signing.kid).toBe(third.kid);
      expect(log.entries.find((entry) => entry.level === 'warn')).toEqual({
        level: 'warn',
        object: { kids: [third.kid] },
        message:
          'new keys active at once: an API that fetched the JWKS recently rejects the tokens they sign until it fetches it again; give new keys an activation time (keys rotate --activate-in)',
      });
    } finally {
      watch.close();
    }
  });
});
