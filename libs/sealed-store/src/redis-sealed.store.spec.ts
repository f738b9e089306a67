import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { Envelope, newSecret } from '@cloakroom/envelope';
import { openTestRedisStore, testRedisUrl } from '../../../test/support/redis.js';
import { StoreUnavailable } from './errors.js';
import { RedisSealedStore, connectionProblem } from './redis-sealed.store.js';
import { sealedStoreContract } from './sealed-store.contract.js';

class TestableRedisStore extends RedisSealedStore {
  rawKey(namespace: string, secret: string): string {
    return this.redisKey(this.keyOf(namespace, secret));
  }
}

sealedStoreContract(RedisSealedStore.name, async () => {
  const { store, admin, dump, teardown } = await openTestRedisStore(
    'sealed-store',
    (keyPrefix) =>
      new TestableRedisStore(new Envelope({ pepper: 'contract-suite-pepper-0123456789abcdef' }), {
        connection: { url: testRedisUrl() },
        keyPrefix,
      }),
  );
  return {
    store,
    dump,
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    copyRaw: async (from, to) => {
      await admin.set(to, (await admin.getBuffer(from))!, 'PX', 60_000);
    },
    rawKeyOf: (namespace, secret) => store.rawKey(namespace, secret),
    teardown,
  };
});

describe(`${RedisSealedStore.name} when Redis is unreachable`, () => {
  it('fails fast with StoreUnavailable instead of hanging or queueing', async () => {
    const store = new RedisSealedStore(new Envelope(), {
      connection: { url: 'redis://127.0.0.1:1', commandTimeoutMs: 500 },
    });
    const started = Date.now();
    await expect(store.get('t', newSecret())).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.put('t', newSecret(), {}, 10)).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailable);
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(store.ping()).rejects.toThrow(/Redis is not reachable \(ECONNREFUSED\)/);
    await store.close();
  });
});

describe(`${RedisSealedStore.name} when no sentinel answers`, () => {
  it('fails the first connection at once instead of waiting for a sentinel', async () => {
    const store = new RedisSealedStore(new Envelope(), {
      connection: {
        sentinels: [{ host: '127.0.0.1', port: 1 }],
        sentinelName: 'nobody',
        commandTimeoutMs: 300,
      },
    });
    try {
      const started = Date.now();
      await expect(store.ping()).rejects.toThrow(/session store unavailable: .*no sentinel answers/);
      await expect(store.get('t', newSecret())).rejects.toBeInstanceOf(StoreUnavailable);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await store.close();
    }
  });
});

describe(`${RedisSealedStore.name} when Redis refuses the credentials`, () => {
  it('fails with a StoreUnavailable that says so, and holds the password nowhere', async () => {
    const url = new URL(testRedisUrl());
    url.username = '';
    url.password = '';
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const store = new RedisSealedStore(new Envelope(), {
      connection: { url: url.href, username: `nobody-${randomBytes(4).toString('hex')}`, password },
    });
    try {
      const failures = [
        await store.connect().catch((e: unknown) => e),
        await store.get('t', newSecret()).catch((e: unknown) => e),
        await store.ping().catch((e: unknown) => e),
      ];
      for (const error of failures) {
        expect(error).toBeInstanceOf(StoreUnavailable);
        expect((error as Error).message).toMatch(/Redis refused the user name or password/);
        expect(inspect(error, { depth: null, showHidden: true })).not.toContain(password);
      }
    } finally {
      await store.close();
    }
  });
});

describe(connectionProblem.name, () => {
  const withProps = (error: Error, props: object) => Object.assign(error, props);
  const hello = { command: { name: 'hello', args: ['3', 'AUTH', 'app', 'pw-secret'] } };

  it('names the kind of failure and its code, quoting nothing else from the error', () => {
    const cases: Array<[unknown, string]> = [
      [
        withProps(new Error('WRONGPASS invalid username-password pair or user is disabled.'), hello),
        'Redis refused the user name or password',
      ],
      [
        new Error(
          'All sentinels are unreachable. Retrying from scratch after 50ms. Last error: WRONGPASS invalid',
        ),
        'the sentinels refused the user name or password',
      ],
      [
        withProps(new Error('Failed to refresh slots cache.'), {
          lastNodeError: withProps(new Error('WRONGPASS invalid username-password pair'), hello),
        }),
        'Redis refused the user name or password',
      ],
      [
        new Error("NOPERM User app has no permissions to run the 'evalsha' command"),
        'the Redis user lacks a permission the store needs (NOPERM): check its ACL',
      ],
      [
        withProps(new Error('self-signed certificate in certificate chain'), {
          code: 'SELF_SIGNED_CERT_IN_CHAIN',
        }),
        'the TLS handshake with Redis failed (SELF_SIGNED_CERT_IN_CHAIN)',
      ],
      [
        withProps(new Error("Hostname/IP does not match certificate's altnames: Host: pw-secret"), {
          code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        }),
        'the TLS handshake with Redis failed (ERR_TLS_CERT_ALTNAME_INVALID)',
      ],
      [
        withProps(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
        'Redis is not reachable (ECONNREFUSED)',
      ],
      [withProps(new Error('odd'), { code: 'not a code: pw-secret' }), 'Redis is not reachable'],
      [new Error('All sentinels are unreachable and retry is disabled.'), 'no sentinel answers'],
      [withProps(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), 'Redis did not answer in time'],
    ];
    for (const [error, expected] of cases) expect(connectionProblem(error)).toBe(expected);
  });
});

describe(`${RedisSealedStore.name} with values written by an earlier version`, () => {
  it('reads a value consumed without a time (flag 1) as consumed, and does not consume it again', async () => {
    const { store, admin, teardown } = await openTestRedisStore(
      'sealed-store-legacy',
      (keyPrefix) =>
        new TestableRedisStore(new Envelope(), { connection: { url: testRedisUrl() }, keyPrefix }),
    );
    try {
      const secret = newSecret();
      await store.put('t.legacy', secret, { code: 1 }, 60);
      await admin.setrange(store.rawKey('t.legacy', secret), 0, '1');
      expect(await store.getEntry('t.legacy', secret)).toEqual({ value: { code: 1 }, consumed: true });
      expect(await store.consume('t.legacy', secret)).toBe('already-consumed');
      expect(await store.get('t.legacy', secret)).toEqual({ code: 1 });
    } finally {
      await teardown();
    }
  });
});
