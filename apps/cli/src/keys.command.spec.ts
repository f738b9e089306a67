import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadJwks } from '@cloakroom/authorization-server/directory-files';
import { runCli as run } from '../../../test/support/cli.runner.js';

describe('cloakroom keys', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloakroom-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a missing parent directory (mode 0700), and names the target file when it cannot write', async () => {
    const file = join(dir, 'fresh-clone', 'keys', 'jwks.json');
    const generated = await run(['keys', 'generate', '--file', file]);
    expect(generated).toMatchObject({ code: 0, stderr: '' });
    expect(loadJwks(file).keys).toHaveLength(1);
    expect(statSync(join(dir, 'fresh-clone', 'keys')).mode & 0o777).toBe(0o700);

    const blocker = join(dir, 'not-a-directory');
    writeFileSync(blocker, '');
    const failed = await run(['keys', 'generate', '--file', join(blocker, 'jwks.json')]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(`error: ${join(blocker, 'jwks.json')}: cannot be written (EEXIST)\n`);
  });

  it('generates, rotates and removes signing keys in a 0600 file', async () => {
    const file = join(dir, 'jwks.json');
    const generated = await run(['keys', 'generate', '--file', file]);
    expect(generated.code).toBe(0);
    const [first] = loadJwks(file).keys;
    expect(first.alg).toBe('RS256');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await run(['keys', 'generate', '--file', file])).stderr).toMatch(/already holds keys/);

    expect((await run(['keys', 'rotate', '--file', file, '--alg', 'ES256', '--activate-in', '0'])).code).toBe(
      0,
    );
    const rotated = loadJwks(file).keys;
    expect(rotated.map((k) => k.alg)).toEqual(['ES256', 'RS256']);
    expect(rotated[1].kid).toBe(first.kid);
    expect((await run(['keys', 'list'], '', { JWKS_FILE: file })).stdout).toBe(
      `${rotated[0].kid}\tES256\tsigning\n${first.kid}\tRS256\tpublished\n`,
    );

    expect((await run(['keys', 'remove', '--file', file, '--', first.kid])).code).toBe(0);
    expect(loadJwks(file).keys.map((k) => k.kid)).toEqual([rotated[0].kid]);
    expect((await run(['keys', 'remove', '--file', file, '--', rotated[0].kid])).stderr).toMatch(/only key/);
    expect((await run(['keys', 'remove', 'nope', '--file', file])).stderr).toMatch(/no key nope/);
    // One generated kid in 64 starts with a dash.
    expect((await run(['keys', 'remove', '-Zz9', '--file', file])).stderr).toMatch(
      /^error: unknown option -Z; a kid that starts with - goes after --: keys remove -- <kid>\n/,
    );
    expect((await run(['keys', 'remove', '--file', file, '--', '-Zz9'])).stderr).toBe(
      `error: no key -Zz9 in ${file}\n`,
    );
    expect((await run(['keys', 'generate', '--file', file, '--force', '--alg', 'HS256'])).code).toBe(2);
    expect((await run(['keys', 'list'])).stderr).toMatch(/give --file <path> or set JWKS_FILE/);
  });

  it('rotates to a key that is published at once and signs from its activation time, 10 minutes by default', async () => {
    const file = join(dir, 'delayed.json');
    await run(['keys', 'generate', '--file', file]);
    const [first] = loadJwks(file).keys;

    const started = Date.now();
    const rotated = await run(['keys', 'rotate', '--file', file]);
    expect(rotated).toMatchObject({ code: 0, stderr: '' });
    const [added, kept] = loadJwks(file).keys;
    expect(kept).toEqual(first);
    expect(added.alg).toBe('RS256');
    // Whole seconds, never earlier than asked.
    expect(added.activatesAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const activation = Date.parse(String(added.activatesAt));
    expect(activation).toBeGreaterThanOrEqual(started + 600_000);
    expect(activation).toBeLessThanOrEqual(Date.now() + 601_000);
    expect(rotated.stdout).toBe(
      `new key ${added.kid} (RS256) published, signs from ${added.activatesAt} (in 10m); until then ${first.kid} signs; 1 older key(s) still published\n` +
        'an authorization server running on this file publishes it within seconds and switches at that time (no restart)\n',
    );
    const listed = await run(['keys', 'list', '--file', file]);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^${added.kid}\tRS256\tpublished, activates at ${added.activatesAt} \\(in (10m|10m 1s|9m 5\\ds)\\)\n${first.kid}\tRS256\tsigning\n$`,
      ),
    );

    // The only active key stays: without it nothing would sign for ten minutes.
    const refused = await run(['keys', 'remove', '--file', file, '--', first.kid]);
    expect(refused).toMatchObject({
      code: 1,
      stderr: `error: ${first.kid} is the only active key: nothing would sign until another key is active (keys list)\n`,
    });
    expect(loadJwks(file).keys).toHaveLength(2);
    // A key that does not sign yet may go (a rotation called off).
    expect((await run(['keys', 'remove', '--file', file, '--', added.kid])).code).toBe(0);
    expect(loadJwks(file).keys).toEqual([first]);

    const later = await run(['keys', 'rotate', '--file', file, '--activate-in', '90s', '--alg', 'EdDSA']);
    const [third] = loadJwks(file).keys;
    expect(Date.parse(String(third.activatesAt)) - Date.now()).toBeGreaterThan(88_000);
    expect(later.stdout).toContain(`(EdDSA) published, signs from ${third.activatesAt} (in 1m 30s)`);
    for (const delay of ['10', '-1m', '1w', '366d', '5 m', '']) {
      const wrong = await run(['keys', 'rotate', '--file', file, `--activate-in=${delay}`]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(
        /^error: --activate-in takes 0 \(now\) or a duration up to 365d: 30s, 10m, 1h, 2d\n/,
      );
    }
    expect(loadJwks(file).keys).toHaveLength(2);
  });

  it('says that a key active at once is refused for a while by APIs that fetched the JWKS just before', async () => {
    const file = join(dir, 'immediate.json');
    await run(['keys', 'generate', '--file', file, '--alg', 'ES256']);
    const [first] = loadJwks(file).keys;
    const rotated = await run(['keys', 'rotate', '--file', file, '--activate-in', '0']);
    const [added] = loadJwks(file).keys;
    expect(Date.parse(String(added.activatesAt))).toBeLessThanOrEqual(Date.now());
    expect(added.alg).toBe('ES256');
    expect(rotated.stdout).toBe(
      `new signing key ${added.kid} (ES256), signing at once; 1 older key(s) still published\n` +
        'note: an API that fetched the JWKS shortly before rejects its tokens until it fetches the JWKS again; --activate-in avoids that\n',
    );
    expect((await run(['keys', 'list', '--file', file])).stdout).toBe(
      `${added.kid}\tES256\tsigning\n${first.kid}\tES256\tpublished\n`,
    );
  });

  it('lists a file in which no key is active yet, and warns that the server refuses it', async () => {
    const file = join(dir, 'not-yet.json');
    await run(['keys', 'generate', '--file', file]);
    const [only] = loadJwks(file).keys;
    writeFileSync(file, JSON.stringify({ keys: [{ ...only, activatesAt: '2999-01-01T00:00:00Z' }] }));
    const listed = await run(['keys', 'list', '--file', file]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^${only.kid}\tRS256\tpublished, activates at 2999-01-01T00:00:00Z \\(in \\d+d( \\d+[hms])?\\)\n$`,
      ),
    );
    expect(listed.stderr).toBe(
      `warning: no key is active yet, so nothing can sign: the first, ${only.kid}, activates at 2999-01-01T00:00:00Z; the authorization server refuses such a file\n`,
    );
  });

  it('reads the key file as the server does: every problem named, never key material, exit 1', async () => {
    const file = join(dir, 'broken-jwks.json');
    writeFileSync(
      file,
      JSON.stringify({ keys: [{ kid: 'k', alg: 'HS256', kty: 'oct', k: 'c2VjcmV0LWtleQ' }] }),
    );
    for (const argv of [
      ['keys', 'list', '--file', file],
      ['keys', 'rotate', '--file', file],
    ]) {
      const result = await run(argv);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: invalid JWKS file ${file}:\n  - keys[0].alg: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA\n`,
      );
    }
    const missing = await run(['keys', 'list', '--file', join(dir, 'none.json')]);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot be read: ENOENT') });
  });
});
