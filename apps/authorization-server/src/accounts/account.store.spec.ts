import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore, RedisSealedStore, StoreUnavailable } from '@cloakroom/sealed-store';
import type { SealedStore } from '@cloakroom/sealed-store';
import { deletePrefix, requireRedis, testRedisUrl, uniquePrefix } from '../../../../test/support/redis.js';
import { AccountStore } from './account.store.js';
import { LoginRefused, LoginThrottled, UsersFileInvalid } from './accounts.errors.js';
import { hashPassword } from './password.hasher.js';

// Cheap parameters keep the suite fast; the users file written by the CLI uses the argon2id defaults.
const CHEAP = { memoryCost: 256, timeCost: 1, parallelism: 1 };

let aliceHash: string;
let bobHash: string;

beforeAll(async () => {
  aliceHash = await hashPassword('wonderland', CHEAP);
  bobHash = await hashPassword('builder', CHEAP);
});

function usersObject() {
  return {
    users: {
      alice: {
        passwordHash: aliceHash,
        name: 'Alice Liddell',
        given_name: 'Alice',
        family_name: 'Liddell',
        email: 'alice@example.com',
        email_verified: true,
        groups: ['readers', 'writers'],
      },
      bob: { passwordHash: bobHash, sub: 'b-0001', email: 'bob@example.com', groups: [] },
      carol: { passwordHash: bobHash, disabled: true },
    },
  };
}

function accounts(store: SealedStore, throttle = {}) {
  return AccountStore.fromObject(usersObject(), { store, throttle, dummyHashOptions: CHEAP });
}

describe(AccountStore.name, () => {
  const store = new MemorySealedStore(new Envelope());
  afterAll(() => store.close());

  describe('users file', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'cloakroom-users-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('loads YAML and JSON files alike', async () => {
      writeFileSync(join(dir, 'users.yaml'), stringify(usersObject()));
      writeFileSync(join(dir, 'users.json'), JSON.stringify(usersObject()));
      for (const file of ['users.yaml', 'users.json']) {
        const loaded = await AccountStore.load(join(dir, file), { store, dummyHashOptions: CHEAP });
        expect(loaded.size).toBe(3);
        expect(loaded.findAccount('b-0001')?.accountId).toBe('b-0001');
      }
    });

    it('lists every problem with its path and what is expected', () => {
      const raw = {
        users: {
          Alice: { passwordHash: aliceHash },
          bob: { passwordHash: '$2b$10$bcrypt-is-not-accepted', emial: 'typo@example.com' },
          carol: { passwordHash: aliceHash, email: 'not-an-address', groups: ['a', 'a'], sub: 'dup' },
          dave: { passwordHash: aliceHash, sub: 'dup', email_verified: 'yes' },
        },
        extra: true,
      };
      let error: unknown;
      try {
        AccountStore.fromObject(raw, { store });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsersFileInvalid);
      const problems = (error as UsersFileInvalid).problems.join('\n');
      expect(problems).toContain('extra: unknown field');
      expect(problems).toContain('users.Alice: username must be lowercase');
      expect(problems).toContain('users.bob.passwordHash: passwordHash must be an argon2id PHC string');
      expect(problems).toContain('users.bob.emial: unknown field');
      expect(problems).toContain('users.carol.email: email must be an email address');
      expect(problems).toContain('users.carol.groups: groups must not repeat a group');
      expect(problems).toContain('users.dave.sub: dup is already the sub of carol');
      expect(problems).toContain('users.dave.email_verified: email_verified must be a boolean value');
    });

    it('names an unreadable or unparsable file', async () => {
      await expect(AccountStore.load(join(dir, 'missing.yaml'), { store })).rejects.toThrow(
        /cannot be read: ENOENT/,
      );
      writeFileSync(join(dir, 'broken.yaml'), 'users: {alice: [');
      await expect(AccountStore.load(join(dir, 'broken.yaml'), { store })).rejects.toThrow(
        /cannot be parsed/,
      );
      writeFileSync(join(dir, 'users.txt'), 'users: {}');
      await expect(AccountStore.load(join(dir, 'users.txt'), { store })).rejects.toThrow(
        /\.yaml, \.yml or \.json/,
      );
    });
  });

  describe('findAccount', () => {
    it('releases claims by scope', () => {
      const alice = accounts(store).findAccount('alice')!;
      expect(alice.accountId).toBe('alice');
      expect(alice.claims(['openid'])).toEqual({ sub: 'alice' });
      expect(alice.claims(['openid', 'profile'])).toEqual({
        sub: 'alice',
        name: 'Alice Liddell',
        given_name: 'Alice',
        family_name: 'Liddell',
        preferred_username: 'alice',
      });
      expect(alice.claims(['openid', 'email'])).toEqual({
        sub: 'alice',
        email: 'alice@example.com',
        email_verified: true,
      });
      expect(alice.claims(['openid', 'groups'])).toEqual({ sub: 'alice', groups: ['readers', 'writers'] });
    });

    it('finds by sub, not by username, and hides disabled users', () => {
      const directory = accounts(store);
      expect(directory.findAccount('bob')).toBeUndefined();
      expect(directory.findAccount('b-0001')?.claims(['email'])).toEqual({
        sub: 'b-0001',
        email: 'bob@example.com',
        email_verified: false,
      });
      expect(directory.findAccount('carol')).toBeUndefined();
      expect(directory.findAccount('nobody')).toBeUndefined();
    });

    it('hands out copies: a caller cannot change the groups of the next token', () => {
      const alice = accounts(store).findAccount('alice')!;
      (alice.claims(['groups']).groups as string[]).push('admins');
      expect(alice.claims(['groups']).groups).toEqual(['readers', 'writers']);
    });
  });

  describe('authenticate', () => {
    it('returns the account id for the right password, whatever the username case', async () => {
      const directory = accounts(store);
      await expect(directory.authenticate('alice', 'wonderland', '192.0.2.1')).resolves.toBe('alice');
      await expect(directory.authenticate(' Alice ', 'wonderland', '192.0.2.1')).resolves.toBe('alice');
      await expect(directory.authenticate('bob', 'builder', '192.0.2.1')).resolves.toBe('b-0001');
    });

    it('gives one answer for a wrong password, an unknown user and a disabled user', async () => {
      const directory = accounts(store);
      const answers = await Promise.all(
        [
          ['alice', 'wrong'],
          ['nobody', 'wonderland'],
          ['carol', 'builder'],
          ['', 'x'],
          ['alice', ''],
          ['alice', 'x'.repeat(5000)],
        ].map(([user, password]) =>
          directory.authenticate(user, password, '192.0.2.2').catch((e: Error) => e),
        ),
      );
      for (const answer of answers) {
        expect(answer).toBeInstanceOf(LoginRefused);
        expect((answer as Error).message).toBe('Wrong username or password.');
      }
    });

    it('makes an unknown user cost what a wrong password costs', async () => {
      // Real-cost hashes: a lookup that skipped hashing would answer in well under a millisecond.
      // Costly enough that a hash stands out on a loaded machine.
      const costly = { memoryCost: 19456, timeCost: 4, parallelism: 1 };
      const directory = AccountStore.fromObject(
        { users: { alice: { passwordHash: await hashPassword('wonderland', costly) } } },
        { store, throttle: { maxFailuresPerUserAddress: 100, delayAfterUserFailures: 100 } },
      );
      const time = async (user: string) => {
        const started = performance.now();
        await directory.authenticate(user, 'wrong', '192.0.2.3').catch(() => undefined);
        return performance.now() - started;
      };
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i++) {
        known.push(await time('alice'));
        unknown.push(await time(`nobody-${i}`));
      }
      expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
      expect(median(unknown)).toBeLessThan(median(known) * 2);
    });

    it('computes no hash once over the limit', async () => {
      // Costly enough that a hash stands out on a loaded machine.
      const costly = { memoryCost: 19456, timeCost: 4, parallelism: 1 };
      const directory = AccountStore.fromObject(
        { users: { alice: { passwordHash: await hashPassword('wonderland', costly) } } },
        { store: new MemorySealedStore(new Envelope()), throttle: { maxFailuresPerUserAddress: 1 } },
      );
      let started = performance.now();
      await expect(directory.authenticate('alice', 'wrong', '192.0.2.4')).rejects.toBeInstanceOf(
        LoginRefused,
      );
      const hashed = performance.now() - started;
      started = performance.now();
      await expect(directory.authenticate('alice', 'wrong', '192.0.2.4')).rejects.toBeInstanceOf(
        LoginThrottled,
      );
      expect(performance.now() - started).toBeLessThan(hashed / 4);
    });

    it('fails closed with StoreUnavailable when the counters cannot be reached', async () => {
      const down = new RedisSealedStore(new Envelope(), {
        connection: { url: 'redis://127.0.0.1:1', commandTimeoutMs: 300 },
      });
      await expect(accounts(down).authenticate('alice', 'wonderland', '192.0.2.5')).rejects.toBeInstanceOf(
        StoreUnavailable,
      );
      await down.close();
    });
  });
});

/** The throttling rules, run against both stores. */
function throttlingSuite(
  name: string,
  setup: () => Promise<{ store: SealedStore; teardown(): Promise<void> }>,
) {
  describe(`${AccountStore.name} throttling on ${name}`, () => {
    let store: SealedStore;
    let teardown: () => Promise<void>;
    // A fresh store (or key prefix) per test: the counters of one test do not leak into the next.
    beforeEach(async () => {
      ({ store, teardown } = await setup());
    });
    afterEach(() => teardown());

    let n = 0;
    const address = () => `198.51.100.${++n}`;

    it('locks a username out for the address that failed, not for the right password from elsewhere', async () => {
      const directory = accounts(store, { maxFailuresPerUserAddress: 3, userAddressWindowSeconds: 600 });
      const attacker = address();
      for (let i = 0; i < 3; i++) {
        await expect(directory.authenticate('alice', 'wrong', attacker)).rejects.toBeInstanceOf(LoginRefused);
      }
      const throttled = await directory.authenticate('alice', 'wonderland', attacker).catch((e: Error) => e);
      expect(throttled).toBeInstanceOf(LoginThrottled);
      expect((throttled as LoginThrottled).retryAfterSeconds).toBeGreaterThan(590);
      expect((throttled as LoginThrottled).retryAfterSeconds).toBeLessThanOrEqual(600);
      // The owner, from a fresh address, signs in; the attacker's address stays locked for alice only.
      await expect(directory.authenticate('alice', 'wonderland', address())).resolves.toBe('alice');
      await expect(directory.authenticate('bob', 'builder', attacker)).resolves.toBe('b-0001');
    });

    it('slows a username down, never refuses it, when it fails from many addresses', async () => {
      const directory = accounts(store, {
        maxFailuresPerUserAddress: 2,
        delayAfterUserFailures: 4,
        userDelayBaseMs: 100,
        userDelayMaxMs: 400,
      });
      // Four addresses, two failures each: eight failures, none refused.
      for (let i = 0; i < 4; i++) {
        const ip = address();
        for (let j = 0; j < 2; j++) {
          await expect(directory.authenticate('alice', 'wrong', ip)).rejects.toBeInstanceOf(LoginRefused);
        }
      }
      const started = performance.now();
      await expect(directory.authenticate('alice', 'wonderland', address())).resolves.toBe('alice');
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(390);
      expect(waited).toBeLessThan(5000);
      // The success forgave the failures: no more waiting.
      const again = performance.now();
      await expect(directory.authenticate('alice', 'wonderland', address())).resolves.toBe('alice');
      expect(performance.now() - again).toBeLessThan(300);
    });

    it('keeps accounts usable while one address tries to lock them all', async () => {
      const directory = accounts(store, { maxFailuresPerUserAddress: 5 });
      const attacker = address();
      for (let round = 0; round < 3; round++) {
        for (const user of ['alice', 'bob']) {
          await directory.authenticate(user, 'wrong', attacker).catch(() => undefined);
          await directory.authenticate(user, 'wrong', attacker).catch(() => undefined);
        }
      }
      for (let i = 0; i < 10; i++) {
        await expect(directory.authenticate('alice', 'x', attacker)).rejects.toBeInstanceOf(LoginThrottled);
      }
      await expect(directory.authenticate('alice', 'wonderland', address())).resolves.toBe('alice');
      await expect(directory.authenticate('bob', 'builder', address())).resolves.toBe('b-0001');
    });

    it('throttles unknown usernames exactly like known ones', async () => {
      const directory = accounts(store, { maxFailuresPerUserAddress: 2 });
      for (const user of ['alice', 'ghost']) {
        const ip = address();
        await expect(directory.authenticate(user, 'x', ip)).rejects.toBeInstanceOf(LoginRefused);
        await expect(directory.authenticate(user, 'x', ip)).rejects.toBeInstanceOf(LoginRefused);
        await expect(directory.authenticate(user, 'x', ip)).rejects.toBeInstanceOf(LoginThrottled);
      }
    });

    it('forgives the failures of a username after a success', async () => {
      const directory = accounts(store, { maxFailuresPerUserAddress: 2 });
      const ip = address();
      await expect(directory.authenticate('bob', 'wrong', ip)).rejects.toBeInstanceOf(LoginRefused);
      await expect(directory.authenticate('bob', 'builder', ip)).resolves.toBe('b-0001');
      await expect(directory.authenticate('bob', 'wrong', ip)).rejects.toBeInstanceOf(LoginRefused);
      await expect(directory.authenticate('bob', 'wrong', ip)).rejects.toBeInstanceOf(LoginRefused);
      await expect(directory.authenticate('bob', 'builder', ip)).rejects.toBeInstanceOf(LoginThrottled);
    });

    it('throttles an address that tries many usernames', async () => {
      const directory = accounts(store, { maxAttemptsPerAddress: 4 });
      const ip = address();
      for (const user of ['u1', 'u2', 'u3', 'u4']) {
        await expect(directory.authenticate(user, 'x', ip)).rejects.toBeInstanceOf(LoginRefused);
      }
      await expect(directory.authenticate('alice', 'wonderland', ip)).rejects.toBeInstanceOf(LoginThrottled);
      await expect(directory.authenticate('alice', 'wonderland', address())).resolves.toBe('alice');
    });

    it('lets no burst of concurrent guesses from one address past the limit', async () => {
      const directory = accounts(store, { maxFailuresPerUserAddress: 5 });
      const ip = address();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => directory.authenticate('alice', 'guess', ip).catch((e: Error) => e)),
      );
      expect(outcomes.filter((o) => o instanceof LoginRefused)).toHaveLength(5);
      expect(outcomes.filter((o) => o instanceof LoginThrottled)).toHaveLength(15);
    });

    it('makes a burst of concurrent guesses from many addresses wait longer and longer', async () => {
      const directory = accounts(store, {
        delayAfterUserFailures: 2,
        userDelayBaseMs: 20,
        userDelayMaxMs: 2000,
      });
      const started = performance.now();
      const finished: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, () =>
          directory.authenticate('alice', 'guess', address()).catch((e: Error) => {
            finished.push(performance.now() - started);
            return e;
          }),
        ),
      );
      // Two free guesses, then waits of 20, 40, … 640 ms: the last guess is answered after the longest one.
      expect(Math.max(...finished)).toBeGreaterThanOrEqual(640);
    });

    it('opens again when the window ends', async () => {
      const directory = accounts(store, { maxFailuresPerUserAddress: 1, userAddressWindowSeconds: 1 });
      const user = `window-${name.toLowerCase()}`;
      const ip = address();
      await expect(directory.authenticate(user, 'x', ip)).rejects.toBeInstanceOf(LoginRefused);
      const throttled = await directory.authenticate(user, 'x', ip).catch((e: Error) => e);
      expect((throttled as LoginThrottled).retryAfterSeconds).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await expect(directory.authenticate(user, 'x', ip)).rejects.toBeInstanceOf(LoginRefused);
    });
  });
}

throttlingSuite(MemorySealedStore.name, async () => {
  const store = new MemorySealedStore(new Envelope());
  return { store, teardown: () => store.close() };
});

throttlingSuite(RedisSealedStore.name, async () => {
  const admin = await requireRedis();
  const prefix = uniquePrefix('accounts');
  const store = new RedisSealedStore(new Envelope(), {
    connection: { url: testRedisUrl() },
    keyPrefix: prefix,
  });
  await store.connect();
  return {
    store,
    teardown: async () => {
      await deletePrefix(admin, prefix);
      await store.close();
      admin.disconnect();
    },
  };
});
