import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
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

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('not within the time allowed');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe(watchUsersFile.name, () => {
  it('reloads a file rewritten in place, and keeps the users when the file turns invalid or is gone', async () => {
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

      writeFileSync(file, 'users:\n  carol:\n    pasword: oops\n');
      await eventually(async () => warnings.length > 0);
      expect(warnings[0]).toEqual({
        file,
        problems: [
          'users.carol.pasword: unknown field',
          expect.stringMatching(/^users\.carol\.passwordHash: passwordHash must be an argon2id PHC string/),
        ],
      });
      await rm(file);
      await eventually(async () => warnings.length > 1);
      expect(warnings[1]).toEqual({ file, problems: ['cannot be read: ENOENT'] });
      expect(await signsIn('carol', 'carol-password')).toBe(true);
      expect(await signsIn('dave', 'dave-password')).toBe(true);
    } finally {
      watch.close();
    }
  });
});
