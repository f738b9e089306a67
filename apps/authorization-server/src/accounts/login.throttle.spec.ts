import { describe, expect, it } from '@jest/globals';
import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { LoginThrottled } from './accounts.errors.js';
import { FailureThrottle } from '../throttle/failure.throttle.js';
import { LoginThrottle, addressBucket } from './login.throttle.js';

describe(addressBucket.name, () => {
  it('counts IPv4 as is and unwraps IPv4-mapped IPv6', () => {
    expect(addressBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts IPv6 per /64, whatever its spelling', () => {
    const bucket = '2001:db8:0:1::/64';
    expect(addressBucket('2001:db8:0:1::1')).toBe(bucket);
    expect(addressBucket('2001:0DB8:0000:0001:ffff:1:2:3')).toBe(bucket);
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('still counts an address it cannot read', () => {
    expect(addressBucket('')).toBe('unknown');
    expect(addressBucket('proxy-7')).toBe('other:proxy-7');
  });
});

describe(FailureThrottle.name, () => {
  it('waits longer after each failure past the free ones, up to the cap', () => {
    const throttle = new FailureThrottle(new MemorySealedStore(new Envelope()), 'x', {
      maxFailuresPerAddress: 5,
      addressWindowSeconds: 60,
      delayAfterFailures: 5,
      delayBaseMs: 250,
      delayMaxMs: 8000,
      windowSeconds: 60,
    });
    expect([1, 5, 6, 7, 8, 10, 11, 12, 1000].map((n) => throttle.delayFor(n))).toEqual([
      0, 0, 250, 500, 1000, 4000, 8000, 8000, 8000,
    ]);
  });
});

describe(LoginThrottle.name, () => {
  it('answers with the time left in the window', async () => {
    let now = 1_000_000;
    const store = new MemorySealedStore(new Envelope(), { now: () => now });
    const throttle = new LoginThrottle(store, {
      maxFailuresPerUserAddress: 1,
      userAddressWindowSeconds: 100,
    });
    await throttle.admit('alice', '192.0.2.1');
    now += 40_000;
    const error = await throttle.admit('alice', '192.0.2.1').catch((e: Error) => e);
    expect(error).toBeInstanceOf(LoginThrottled);
    expect((error as LoginThrottled).retryAfterSeconds).toBe(60);
    now += 60_001;
    await expect(throttle.admit('alice', '192.0.2.1')).resolves.toBeUndefined();
    await store.close();
  });

  it('keeps neither usernames nor addresses in the store', async () => {
    const store = new MemorySealedStore(new Envelope());
    const throttle = new LoginThrottle(store);
    await throttle.admit('alice-the-user', '203.0.113.99');
    const dump = [...store.rawEntries()].map((e) => `${e.key} ${e.value.toString('latin1')}`).join('\n');
    expect(dump).not.toContain('alice');
    expect(dump).not.toContain('203.0.113');
    await store.close();
  });
});
