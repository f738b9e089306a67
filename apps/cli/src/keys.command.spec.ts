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

    expect((await run(['keys', 'rotate', '--file', file, '--alg', 'ES256'])).code).toBe(0);
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
