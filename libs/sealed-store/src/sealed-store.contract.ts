import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newSecret } from '@cloakroom/envelope';
import type { SealedStore } from './sealed.store.js';

/** What a backend under test offers beyond the port: a way to see everything it holds, as an attacker would. */
export interface StoreHarness {
  store: SealedStore;
  /** Every key and raw value the backend holds for this store, with each key's remaining TTL in ms (-1: none). */
  dump(): Promise<Array<{ key: string; ttlMs: number; value: Buffer }>>;
  /** Waits until `ms` of store time have passed (real or simulated). */
  advance(ms: number): Promise<void>;
  /** Copies a raw value from one key to another (an attacker moving ciphertexts around). */
  copyRaw(fromKey: string, toKey: string): Promise<void>;
  /** The raw key of (namespace, secret) as dumped. */
  rawKeyOf(namespace: string, secret: string): string;
  teardown(): Promise<void>;
}

/** The one contract every SealedStore backend passes. */
export function sealedStoreContract(name: string, setup: () => Promise<StoreHarness>): void {
  describe(`${name} honours the SealedStore contract`, () => {
    let harness: StoreHarness;
    let store: SealedStore;

    beforeAll(async () => {
      harness = await setup();
      store = harness.store;
    });
    afterAll(async () => harness?.teardown());

    it('round-trips JSON objects and bytes', async () => {
      const secret = newSecret();
      const value = { sub: 'alice', groups: ['a', 'b'], nested: { n: 1, ok: true, none: null } };
      await store.put('t.json', secret, value, 60);
      expect(await store.get('t.json', secret)).toEqual(value);
      const bytes = Buffer.from([0, 1, 2, 255]);
      await store.put('t.bytes', secret, bytes, 60);
      expect(Buffer.from((await store.get<Buffer>('t.bytes', secret))!)).toEqual(bytes);
    });

    it('keeps a value from another namespace or secret apart', async () => {
      const secret = newSecret();
      await store.put('t.a', secret, { v: 'a' }, 60);
      expect(await store.get('t.b', secret)).toBeUndefined();
      expect(await store.get('t.a', newSecret())).toBeUndefined();
    });

    it('finds a value by a slot its caller computed already, and nothing by a wrong one', async () => {
      const [secret, other] = [newSecret(), newSecret()];
      await store.put('t.slot', secret, { v: 1 }, 60);
      await store.put('t.slot', other, { v: 2 }, 60);
      const slotOf = (s: string) => /\{([^}]+)\}/.exec(harness.rawKeyOf('t.slot', s))![1];
      expect(await store.get('t.slot', secret, slotOf(secret))).toEqual({ v: 1 });
      // The other value's slot with this secret: found in the backend, but it does not open.
      expect(await store.get('t.slot', secret, slotOf(other))).toBeUndefined();
      expect(await store.get('t.slot', secret, 'not-a-slot')).toBeUndefined();
    });

    it('replaces a value on put, with the new TTL', async () => {
      const secret = 'an-oidc-provider-id';
      await store.put('t.replace', secret, { v: 1 }, 60);
      await store.put('t.replace', secret, { v: 2 }, 120);
      expect(await store.get('t.replace', secret)).toEqual({ v: 2 });
      expect(await store.ttl('t.replace', secret)).toBeGreaterThan(60);
    });

    it('expires values after their TTL', async () => {
      const secret = newSecret();
      await store.put('t.ttl', secret, { v: 1 }, 0.2);
      expect(await store.get('t.ttl', secret)).toEqual({ v: 1 });
      await harness.advance(300);
      expect(await store.get('t.ttl', secret)).toBeUndefined();
      expect(await store.ttl('t.ttl', secret)).toBeUndefined();
    });

    it('refuses a put without a positive, bounded TTL', async () => {
      for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 10 ** 9]) {
        await expect(store.put('t.bad', newSecret(), {}, ttl)).rejects.toThrow(/ttlSeconds/);
      }
    });

    it('slides a TTL without rewriting the value, and never resurrects a destroyed one', async () => {
      const secret = newSecret();
      await store.put('t.touch', secret, { v: 1 }, 1);
      expect(await store.touch('t.touch', secret, 500)).toBe(true);
      expect(await store.ttl('t.touch', secret)).toBeGreaterThan(400);
      expect(await store.get('t.touch', secret)).toEqual({ v: 1 });
      await store.destroy('t.touch', secret);
      expect(await store.touch('t.touch', secret, 500)).toBe(false);
      expect(await store.get('t.touch', secret)).toBeUndefined();
    });

    it('destroys values', async () => {
      const secret = newSecret();
      await store.put('t.destroy', secret, { v: 1 }, 60);
      expect(await store.destroy('t.destroy', secret)).toBe(true);
      expect(await store.get('t.destroy', secret)).toBeUndefined();
      expect(await store.destroy('t.destroy', secret)).toBe(false);
    });

    it('counts events in a window that expires, without storing the counted name', async () => {
      const name = `user-${newSecret()}`;
      const counts = await Promise.all(
        Array.from({ length: 20 }, () => store.increment('t.count', name, 0.3)),
      );
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await store.countOf('t.count', name)).toBe(20);
      expect(await store.countOf('t.count', `${name}-other`)).toBe(0);
      const dumped = await harness.dump();
      expect(dumped.some((entry) => entry.key.includes(name))).toBe(false);
      await harness.advance(400);
      expect(await store.countOf('t.count', name)).toBe(0);
      expect(await store.increment('t.count', name, 60)).toBe(1);
      await store.resetCount('t.count', name);
      expect(await store.countOf('t.count', name)).toBe(0);
    });

    it('lets exactly one of 100 concurrent consumers win, and keeps the value marked consumed', async () => {
      const secret = 'authorization-code-id';
      await store.put('t.consume', secret, { code: 1 }, 60);
      expect((await store.getEntry('t.consume', secret))?.consumed).toBe(false);
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, () => store.consume('t.consume', secret)),
      );
      expect(outcomes.filter((o) => o === 'consumed')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'already-consumed')).toHaveLength(99);
      expect(await store.getEntry('t.consume', secret)).toEqual({
        value: { code: 1 },
        consumed: true,
        consumedAt: expect.any(Number),
      });
      expect(await store.consume('t.consume', 'never-stored')).toBe('absent');
      expect(await store.ttl('t.consume', secret)).toBeGreaterThan(0);
    });

    it('records when a value was consumed, in seconds, and forgets it when the value is replaced', async () => {
      const secret = newSecret();
      await store.put('t.consumed-at', secret, { code: 2 }, 60);
      const before = Math.floor(Date.now() / 1000);
      expect(await store.consume('t.consumed-at', secret)).toBe('consumed');
      const after = Math.ceil(Date.now() / 1000);
      const entry = await store.getEntry('t.consumed-at', secret);
      expect(entry?.value).toEqual({ code: 2 });
      expect(entry?.consumedAt).toBeGreaterThanOrEqual(before);
      expect(entry?.consumedAt).toBeLessThanOrEqual(after);
      expect(await store.consume('t.consumed-at', secret)).toBe('already-consumed');
      expect((await store.getEntry('t.consumed-at', secret))?.consumedAt).toBe(entry?.consumedAt);
      await store.put('t.consumed-at', secret, { code: 3 }, 60);
      expect(await store.getEntry('t.consumed-at', secret)).toEqual({ value: { code: 3 }, consumed: false });
    });

    it('deletes every member of an index and nothing else', async () => {
      const grant = 'grant-id-1';
      const members = Array.from({ length: 5 }, (_, i) => ({
        namespace: `t.member${i % 2}`,
        secret: newSecret(),
      }));
      const outsider = { namespace: 't.member0', secret: newSecret() };
      for (const m of [...members, outsider]) await store.put(m.namespace, m.secret, { m: 1 }, 60);
      for (const [i, m] of members.entries()) await store.addToIndex('t.grant', grant, m, 30 + i * 10);
      expect(await store.destroyIndex('t.grant', grant)).toBe(5);
      for (const m of members) expect(await store.get(m.namespace, m.secret)).toBeUndefined();
      expect(await store.get(outsider.namespace, outsider.secret)).toEqual({ m: 1 });
      expect(await store.destroyIndex('t.grant', grant)).toBe(0);
    });

    it('removes a single member from an index', async () => {
      const a = { namespace: 't.rm', secret: newSecret() };
      const b = { namespace: 't.rm', secret: newSecret() };
      for (const m of [a, b]) {
        await store.put(m.namespace, m.secret, { m: 1 }, 60);
        await store.addToIndex('t.rmidx', 'user-1', m, 60);
      }
      await store.removeFromIndex('t.rmidx', 'user-1', a);
      expect(await store.destroyIndex('t.rmidx', 'user-1')).toBe(1);
      expect(await store.get(a.namespace, a.secret)).toEqual({ m: 1 });
    });

    it('finds a value through a sealed pointer', async () => {
      const target = { namespace: 't.session', secret: 'session-id-xyz' };
      await store.put(target.namespace, target.secret, { uid: 'uid-1' }, 60);
      await store.putPointer('t.session-uid', 'uid-1', target, 60);
      expect(await store.followPointer('t.session-uid', 'uid-1')).toEqual(target);
      expect(await store.followPointer('t.session-uid', 'uid-2')).toBeUndefined();
    });

    it('destroys a pointer only while it still names the given target, even against a concurrent put', async () => {
      const [a, b] = [
        { namespace: 't.session', secret: newSecret() },
        { namespace: 't.session', secret: newSecret() },
      ];
      const uid = newSecret();
      await store.putPointer('t.ptr-if', uid, a, 60);
      await store.putPointer('t.ptr-if', uid, b, 60);
      expect(await store.destroyPointer('t.ptr-if', uid, a)).toBe(false);
      expect(await store.destroyPointer('t.ptr-if', uid, { namespace: 't.other', secret: b.secret })).toBe(
        false,
      );
      expect(await store.followPointer('t.ptr-if', uid)).toEqual(b);
      expect(await store.destroyPointer('t.ptr-if', uid, b)).toBe(true);
      expect(await store.followPointer('t.ptr-if', uid)).toBeUndefined();
      expect(await store.destroyPointer('t.ptr-if', uid, b)).toBe(false);

      // The old target's destroy racing the new target's put: the new pointer always survives.
      for (let round = 0; round < 20; round++) {
        const name = newSecret();
        await store.putPointer('t.ptr-race', name, a, 60);
        await Promise.all([
          store.destroyPointer('t.ptr-race', name, a),
          store.putPointer('t.ptr-race', name, b, 60),
        ]);
        expect(await store.followPointer('t.ptr-race', name)).toEqual(b);
      }
    });

    it('keeps the members of a group apart, each with its own expiry, and lists them with the group secret only', async () => {
      const user = `user-${newSecret()}`;
      await store.putMember('t.group', user, 'a', { device: 'A' }, 60);
      await store.putMember('t.group', user, 'b', { device: 'B' }, 1);
      await store.putMember('t.group', `other-${user}`, 'c', { device: 'C' }, 60);
      const listed = await store.members<{ device: string }>('t.group', user);
      expect(listed.map((m) => [m.id, m.value.device]).sort()).toEqual([
        ['a', 'A'],
        ['b', 'B'],
      ]);
      expect(listed.every((m) => m.expiresAt > Date.now() - 60_000)).toBe(true);
      await harness.advance(1100);
      expect((await store.members('t.group', user)).map((m) => m.id)).toEqual(['a']);
      // A rewrite replaces the member; concurrent writers of different members never undo each other.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.putMember('t.group', user, `m${i}`, { i }, 60)),
      );
      await store.putMember('t.group', user, 'a', { device: 'A2' }, 60);
      const all = await store.members<{ device?: string }>('t.group', user);
      expect(all).toHaveLength(21);
      expect(all.find((m) => m.id === 'a')!.value.device).toBe('A2');
      expect(await store.removeMember('t.group', user, 'a')).toBe(true);
      expect(await store.removeMember('t.group', user, 'a')).toBe(false);
      expect(await store.members('t.group', user)).toHaveLength(20);
      expect(await store.members('t.group', `nobody-${user}`)).toEqual([]);
      await expect(store.putMember('t.group', user, 'not an id!', {}, 60)).rejects.toThrow(/member id/);
    });

    it('destroys a value by its slot alone, and takes it out of an index by its slot', async () => {
      const holder = { namespace: 't.byslot', secret: newSecret() };
      await store.put(holder.namespace, holder.secret, { m: 1 }, 60);
      await store.addToIndex('t.byslot-idx', 'user-2', holder, 60);
      const slot = store.slotOf(holder.namespace, holder.secret);
      expect(await store.slotTtl({ namespace: holder.namespace, slot })).toBeGreaterThan(50);
      await store.removeFromIndex('t.byslot-idx', 'user-2', { namespace: holder.namespace, slot });
      expect(await store.destroySlot({ namespace: holder.namespace, slot })).toBe(true);
      expect(await store.get(holder.namespace, holder.secret)).toBeUndefined();
      expect(await store.destroySlot({ namespace: holder.namespace, slot })).toBe(false);
      expect(await store.slotTtl({ namespace: holder.namespace, slot })).toBeUndefined();
      expect(await store.destroyIndex('t.byslot-idx', 'user-2')).toBe(0);
      await expect(store.destroySlot({ namespace: 't.byslot', slot: '../x' })).rejects.toThrow(/slot/);
    });

    it('does not open a value copied to another slot', async () => {
      const victim = newSecret();
      const attacker = newSecret();
      await store.put('t.copy', victim, { sub: 'victim' }, 60);
      await store.put('t.copy', attacker, { sub: 'attacker' }, 60);
      await harness.copyRaw(harness.rawKeyOf('t.copy', victim), harness.rawKeyOf('t.copy', attacker));
      expect(await store.get('t.copy', attacker)).toBeUndefined();
    });

    it('holds no secret and no plaintext, and gives every key a TTL', async () => {
      const marker = 'MARKER-alice@example.com-admins';
      const dek = newSecret();
      const id = 'oidc-opaque-id-' + newSecret();
      await store.put('t.audit', dek, { email: marker, groups: [marker] }, 60);
      await store.put('t.audit', id, Buffer.from(marker), 60);
      await store.addToIndex('t.audit-idx', id, { namespace: 't.audit', secret: dek }, 60);
      await store.putPointer('t.audit-ptr', marker, { namespace: 't.audit', secret: id }, 60);
      await store.putMember('t.audit-group', marker, 'member-1', { email: marker, ticket: dek }, 60);
      const dump = await harness.dump();
      expect(dump.length).toBeGreaterThan(3);
      const needles = [marker, dek, id, Buffer.from(dek, 'base64url').toString('latin1')];
      for (const { key, value, ttlMs } of dump) {
        const haystack = key + '\n' + value.toString('latin1');
        for (const needle of needles) expect(haystack.includes(needle)).toBe(false);
        expect(ttlMs).toBeGreaterThan(0);
      }
    });
  });
}
