import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { main } from '../cli/cli.js';
import { AccountStore } from './account.store.js';
import { LoginRefused } from './accounts.errors.js';
import { hashPassword } from './password.hasher.js';
import { watchUsersFile } from './users-file.watch.js';

const dir = mkdtempSync(join(tmpdir(), 'cloakroom-watch-'));
const store = new MemorySealedStore(new Envelope());
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await store.close();
});

async function cli(argv: string[], stdin = ''): Promise<string> {
  let stdout = '';
  const code = await main(argv, {
    stdout: (text) => void (stdout += text),
    stderr: () => undefined,
    readStdin: async () => stdin,
    env: {},
  });
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

describe(watchUsersFile.name, () => {
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

  it('reloads a file rewritten in place, and keeps the users when the file is gone', async () => {
    const cheap = { memoryCost: 256, timeCost: 1, parallelism: 1 };
    const file = join(dir, 'rewritten.yaml');
    const entry = async (password: string) =>
      `    passwordHash: '${await hashPassword(password, cheap)}'\n    groups: []\n`;
    const carol = `users:\n  carol:\n${await entry('carol-password')}`;
    const carolAndDave = `${carol}  dave:\n${await entry('dave-password')}`;
    writeFileSync(file, carol);
    const accounts = await AccountStore.load(file, { store, dummyHashOptions: cheap });
    const warnings: object[] = [];
    const watch = watchUsersFile(file, accounts, {
      logger: { info: () => undefined, warn: (object) => warnings.push(object) },
      intervalMs: 50,
    });
    try {
      const signsIn = (user: string, password: string) =>
        accounts.authenticate(user, password, '192.0.2.11').then(
          () => true,
          (error: Error) => (error instanceof LoginRefused ? false : Promise.reject(error)),
        );
      // The watch compares with the file as it first saw it: let it look once before the change.
      await new Promise((resolve) => setTimeout(resolve, 200));
      writeFileSync(file, carolAndDave);
      await eventually(() => signsIn('dave', 'dave-password'));

      await rm(file);
      await eventually(async () => warnings.length > 0);
      expect(warnings[0]).toEqual({ file, problems: ['cannot be read: ENOENT'] });
      expect(await signsIn('carol', 'carol-password')).toBe(true);
      expect(await signsIn('dave', 'dave-password')).toBe(true);
    } finally {
      watch.close();
    }
  });
});
