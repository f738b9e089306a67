import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { verifyPassword } from '@cloakroom/authorization-server/directory-files';
import { AccountStore } from '../../authorization-server/src/accounts/account.store.js';
import { LoginRefused } from '../../authorization-server/src/accounts/accounts.errors.js';
import { watchUsersFile } from '../../authorization-server/src/accounts/users-file.watch.js';
import { USAGE } from './usage.js';
import { runCli as run } from '../../../test/support/cli.runner.js';

const RELOAD =
  'an authorization server running on this file reloads it within seconds (no restart); if the file were invalid it would keep the users it has and log why\n';

describe('cloakroom users', () => {
  let dir: string;
  const store = new MemorySealedStore(new Envelope());
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloakroom-cli-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await store.close();
  });

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
    const updated = await run(['users', 'set', 'alice', '--groups', 'admins', '--email', '', '--file', file]);
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
      [['users', 'set', 'frank', '--password-stdin', '--file', file], 'short\n', 1, /at least 8 characters/],
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
      [['users', 'set', 'erin', '--colour', 'red', '--file', file], '', 2, /unknown option --colour/],
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

  it('names the file and every problem when the file does not validate, and changes nothing', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'users:\n  erin:\n    pasword: x\n');
    const before = readFileSync(file, 'utf8');
    for (const argv of [
      ['users', 'list', '--file', file],
      ['users', 'set', 'frank', '--password-stdin', '--file', file],
    ]) {
      const result = await run(argv, 'long-enough');
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: invalid users file ${file}:\n` +
          '  - users.erin.pasword: unknown field\n' +
          '  - users.erin.passwordHash: passwordHash must be an argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash); make one with `hash-password`\n',
      );
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('hashes a password from stdin', async () => {
    const result = await run(['hash-password'], 'wonderland\n');
    expect(result.code).toBe(0);
    expect(await verifyPassword(result.stdout.trim(), 'wonderland')).toBe(true);
  });

  it('prints the one usage text with a usage error', async () => {
    const result = await run(['users', 'set', '--file', join(dir, 'untouched.yaml')]);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: expected 1 argument(s), got 0\n\n${USAGE}`,
    });
  });
});

describe('cloakroom users and a running server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloakroom-watch-'));
  const store = new MemorySealedStore(new Envelope());
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await store.close();
  });

  async function cli(argv: string[], stdin = ''): Promise<string> {
    const { code, stdout } = await run(argv, stdin);
    expect(code).toBe(0);
    return stdout;
  }

  async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('not within the time allowed');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('serves a password set with the CLI without a restart, and keeps the old users when the file turns invalid', async () => {
    const file = join(dir, 'users.yaml');
    await cli(['users', 'set', 'alice', '--password-stdin', '--file', file], 'first-password');
    const accounts = await AccountStore.load(file, { store });
    const warnings: Array<{ object: object; message: string }> = [];
    const infos: string[] = [];
    const watch = watchUsersFile(file, accounts, {
      logger: {
        info: (message) => infos.push(message),
        warn: (object, message) => warnings.push({ object, message }),
      },
      intervalMs: 50,
    });
    try {
      const signsIn = (user: string, password: string) =>
        accounts.authenticate(user, password, '192.0.2.10').then(
          () => true,
          (error: Error) => (error instanceof LoginRefused ? false : Promise.reject(error)),
        );
      expect(await signsIn('alice', 'first-password')).toBe(true);

      const said = await cli(['users', 'set', 'bob', '--password-stdin', '--file', file], 'bob-password');
      expect(said).toContain('reloads it within seconds (no restart)');
      await cli(['users', 'set', 'alice', '--password-stdin', '--file', file], 'second-password');
      await eventually(() => signsIn('bob', 'bob-password'));
      await eventually(() => signsIn('alice', 'second-password'));
      expect(await signsIn('alice', 'first-password')).toBe(false);
      expect(infos.at(-1)).toBe(`users file ${file} reloaded: 2 user(s)`);

      writeFileSync(file, 'users:\n  alice:\n    pasword: oops\n');
      await eventually(async () => warnings.length > 0);
      expect(warnings[0].message).toBe(
        'users file changed but is not valid: the users loaded before stay in service',
      );
      expect(JSON.stringify(warnings[0].object)).toContain('users.alice.pasword: unknown field');
      expect(await signsIn('bob', 'bob-password')).toBe(true);
    } finally {
      watch.close();
    }
  });
});
