import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { AccountStore } from '../accounts/account.store.js';
import { verifyPassword } from '../accounts/password.hasher.js';
import { loadJwks } from '../keys/jwks.js';
import { main } from './cli.js';
import type { CliIo } from './cli.io.js';

const RELOAD =
  'an authorization server running on this file reloads it within seconds (no restart); if the file were invalid it would keep the users it has and log why\n';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], stdin = '', env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: async () => stdin,
    env,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('cli', () => {
  let dir: string;
  const store = new MemorySealedStore(new Envelope());
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloakroom-cli-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await store.close();
  });

  describe('users', () => {
    it('adds users with an argon2id hash, updates them, and keeps the others and the comments', async () => {
      const file = join(dir, 'users.yaml');
      writeFileSync(file, '# Our users.\nusers: {}\n');
      const added = await run(
        [
          'users',
          'set',
          'Alice',
          '--password-stdin',
          '--name',
          'Alice Liddell',
          '--email',
          'alice@example.com',
          '--email-verified',
          'true',
          '--groups',
          'readers, writers,readers',
          '--file',
          file,
        ],
        'wonderland\n',
      );
      expect(added).toEqual({ code: 0, stdout: `added user alice in ${file}\n${RELOAD}`, stderr: '' });
      expect((await run(['users', 'set', 'bob', '--password', 'builder-1', '--file', file])).stderr).toMatch(
        /shell history/,
      );
      const updated = await run([
        'users',
        'set',
        'alice',
        '--groups',
        'admins',
        '--email',
        '',
        '--file',
        file,
      ]);
      expect(updated.stdout).toBe(`updated user alice in ${file}\n${RELOAD}`);

      const text = readFileSync(file, 'utf8');
      expect(text.startsWith('# Our users.\n')).toBe(true);
      const users = parse(text).users;
      expect(users.alice).toEqual({
        passwordHash: expect.stringMatching(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/),
        name: 'Alice Liddell',
        email_verified: true,
        groups: ['admins'],
      });
      expect(await verifyPassword(users.alice.passwordHash, 'wonderland')).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o666 & ~process.umask());

      const accounts = await AccountStore.load(file, { store });
      await expect(accounts.authenticate('alice', 'wonderland', '192.0.2.1')).resolves.toBe('alice');
      await expect(accounts.authenticate('bob', 'builder-1', '192.0.2.1')).resolves.toBe('bob');
      expect((await run(['users', 'list', '--file', file])).stdout).toBe(
        'alice\tsub=alice\tgroups=1\nbob\tsub=bob\tgroups=0\n',
      );
    });

    it('writes JSON files as JSON, new files with mode 0600', async () => {
      const file = join(dir, 'users.json');
      expect(
        (await run(['users', 'set', 'carol', '--password-stdin', '--file', file], 'carol-password')).code,
      ).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8')).users.carol.groups).toEqual([]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect((await run(['users', 'remove', 'carol', '--file', file])).code).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ users: {} });
    });

    it('takes the file from USERS_FILE', async () => {
      const file = join(dir, 'env-users.yaml');
      const result = await run(['users', 'set', 'dave', '--password-stdin'], 'dave-password', {
        USERS_FILE: file,
      });
      expect(result.code).toBe(0);
      expect(parse(readFileSync(file, 'utf8')).users.dave).toBeDefined();
    });

    it('refuses bad input with a message and leaves the file alone', async () => {
      const file = join(dir, 'strict.yaml');
      await run(['users', 'set', 'erin', '--password-stdin', '--file', file], 'erin-password');
      const before = readFileSync(file, 'utf8');
      const cases: Array<[string[], string, number, RegExp]> = [
        [['users', 'set', 'frank', '--file', file], '', 2, /a new user needs a password/],
        [
          ['users', 'set', 'frank', '--password-stdin', '--file', file],
          'short\n',
          1,
          /at least 8 characters/,
        ],
        [
          ['users', 'set', 'frank', '--password-stdin', '--email', 'nope', '--file', file],
          'long-enough',
          1,
          /users\.frank\.email: email must be an email address/,
        ],
        [
          ['users', 'set', 'bad name!', '--password-stdin', '--file', file],
          'long-enough',
          2,
          /give a username/,
        ],
        [['users', 'set', 'erin', '--colour', 'red', '--file', file], '', 2, /Unknown option '--colour'/],
        [['users', 'remove', 'nobody', '--file', file], '', 1, /no user nobody/],
        [['users', 'frobnicate'], '', 2, /unknown users command frobnicate/],
        [['nothing'], '', 2, /unknown command nothing/],
      ];
      for (const [argv, stdin, code, message] of cases) {
        const result = await run(argv, stdin);
        expect(result.code).toBe(code);
        expect(result.stderr).toMatch(message);
      }
      expect(readFileSync(file, 'utf8')).toBe(before);
    });

    it('hashes a password from stdin', async () => {
      const result = await run(['hash-password'], 'wonderland\n');
      expect(result.code).toBe(0);
      expect(await verifyPassword(result.stdout.trim(), 'wonderland')).toBe(true);
    });
  });

  describe('keys', () => {
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

      expect((await run(['keys', 'remove', first.kid, '--file', file])).code).toBe(0);
      expect(loadJwks(file).keys.map((k) => k.kid)).toEqual([rotated[0].kid]);
      expect((await run(['keys', 'remove', rotated[0].kid, '--file', file])).stderr).toMatch(/only key/);
      expect((await run(['keys', 'remove', 'nope', '--file', file])).stderr).toMatch(/no key nope/);
      expect((await run(['keys', 'generate', '--file', file, '--force', '--alg', 'HS256'])).code).toBe(2);
      expect((await run(['keys', 'list'])).stderr).toMatch(/give --file <path> or set JWKS_FILE/);
    });
  });

  it('keeps key files and private configuration out of git, the demo configuration in', () => {
    const ignored = (path: string) => {
      try {
        execFileSync('git', ['check-ignore', '-q', path], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    expect(ignored('keys/jwks.json')).toBe(true);
    expect(ignored('config/users.yaml')).toBe(true);
    expect(ignored('config/production/clients.yaml')).toBe(true);
    expect(ignored('config/demo/users.yaml')).toBe(false);
  });
});
