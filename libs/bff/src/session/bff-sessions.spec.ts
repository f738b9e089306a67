import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { BffSessions, SESSION_NAMESPACE, TokenRefresher } from './bff-sessions.js';
import type { BffSessionSettings, RefreshedTokens } from './bff-sessions.js';
import { INVALIDATE_ALL, LocalInvalidationBus } from '../coordination/invalidation.bus.js';
import { LocalSessionLock } from '../coordination/session.lock.js';
import { RefreshRejected, RefreshUnavailable, ResourceRefused } from '../errors.js';
import { SessionCache } from './session.cache.js';

class ScriptedRefresher extends TokenRefresher {
  calls = 0;
  /** The resource of each call, in order (undefined: the login's). */
  resources: Array<string | undefined> = [];
  refused = new Set<string>();
  outcome: 'ok' | 'rejected' | 'unavailable' = 'ok';
  delayMs = 0;
  constructor(private readonly now: () => number) {
    super();
  }
  async refresh(refreshToken: string, resource?: string): Promise<RefreshedTokens> {
    this.calls++;
    this.resources.push(resource);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (resource && this.refused.has(resource)) throw new ResourceRefused(resource);
    if (this.outcome === 'rejected') throw new RefreshRejected('invalid_grant');
    if (this.outcome === 'unavailable') throw new RefreshUnavailable('down');
    return {
      accessToken: resource
        ? `access-${this.calls}-for-${new URL(resource).hostname}`
        : `access-${this.calls}`,
      accessExpiresAt: Math.floor(this.now() / 1000) + 300,
      refreshToken: `${refreshToken}+`,
    };
  }
}

/** A bus whose liveness the test controls, as a Redis subscriber that lost its connection would be. */
class SwitchableBus extends LocalInvalidationBus {
  up = true;
  published: string[] = [];
  override get live(): boolean {
    return this.up;
  }
  override async publish(message: string): Promise<void> {
    this.published.push(message);
    this.emit(message);
  }
  deliver(message: string): void {
    this.emit(message);
  }
}

const SETTINGS: BffSessionSettings = {
  idleTimeoutSeconds: 600,
  absoluteLimitSeconds: 3600,
  refreshSkewSeconds: 10,
  lockWaitMs: 500,
  lockPollMs: 5,
  cacheMaxEntries: 100,
  cacheMaxAgeMs: 60_000,
  revocableFromOtherSessions: true,
};

describe(BffSessions.name, () => {
  let clock: number;
  let store: MemorySealedStore;
  let bus: SwitchableBus;
  let refresher: ScriptedRefresher;
  let sessions: BffSessions;
  const now = () => clock;

  beforeEach(() => {
    clock = Date.now();
    store = new MemorySealedStore(new Envelope(), { now });
    bus = new SwitchableBus();
    refresher = new ScriptedRefresher(now);
    sessions = new BffSessions({
      store,
      lock: new LocalSessionLock(),
      bus,
      refresher,
      settings: SETTINGS,
      now,
    });
  });

  afterEach(async () => {
    await store.close();
  });

  const create = (overrides: Record<string, unknown> = {}) =>
    sessions.create({
      accessToken: 'access-0',
      accessExpiresAt: Math.floor(clock / 1000) + 300,
      refreshToken: 'refresh-0',
      sid: 'sid-1',
      user: { sub: 'alice', groupsCount: 2 },
      ...overrides,
    });

  it('creates a session under a fresh 43-character DEK and authorizes it', async () => {
    const dek = await create();
    expect(BffSessions.isTicket(dek)).toBe(true);
    expect((await sessions.authorize(dek))?.authorization).toBe('Bearer access-0');
    expect(await sessions.authorize('A'.repeat(43))).toBeUndefined();
    expect(await store.ttl(SESSION_NAMESPACE, dek)).toBe(600);
  });

  it('serves from the cache while the bus is live, and reads the store once it is not', async () => {
    const dek = await create();
    await sessions.authorize(dek);
    expect(sessions.cache.size).toBe(1);
    // Deleted behind the cache's back (as another instance would): the cache still answers...
    await store.destroy(SESSION_NAMESPACE, dek);
    expect(await sessions.authorize(dek)).toBeDefined();
    // ...until its invalidation arrives, or while invalidations cannot arrive.
    bus.up = false;
    expect(await sessions.authorize(dek)).toBeUndefined();
    bus.up = true;
    expect(await sessions.authorize(dek)).toBeDefined();
    bus.deliver(INVALIDATE_ALL);
    expect(await sessions.authorize(dek)).toBeUndefined();
  });

  describe("a user's sessions", () => {
    const createFor = (device: string, overrides: Record<string, unknown> = {}) =>
      create({ device, sid: `sid-${device}`, refreshToken: `refresh-${device}`, ...overrides });

    it('lists them, oldest first, this one marked, with device and times, and no token or slot', async () => {
      const laptop = await createFor('Firefox on Linux');
      clock += 1000;
      const phone = await createFor('Safari on iOS');
      await createFor('Chrome on Windows', { user: { sub: 'bob' } });
      const listed = (await sessions.list(phone))!;
      expect(listed.map((s) => [s.device, s.current])).toEqual([
        ['Firefox on Linux', false],
        ['Safari on iOS', true],
      ]);
      expect(listed[0].createdAt).toBe(listed[1].createdAt - 1000);
      expect(JSON.stringify(listed)).not.toMatch(/refresh-|slot/);
      expect(await sessions.list('A'.repeat(43))).toBeUndefined();
      // Used later: the listing says so, without the card being rewritten.
      clock += 120_000;
      await sessions.authorize(laptop);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const used = (await sessions.list(phone))!.find((s) => !s.current)!;
      expect(used.lastUsedAt).toBe(clock);
    });

    it('ends one other session, or all others, on every instance, and hands back their latest refresh tokens', async () => {
      const [a, b, c] = [await createFor('A'), await createFor('B'), await createFor('C')];
      await sessions.authorize(b); // cached here
      bus.published.length = 0;
      const idOf = async (dek: string) => (await sessions.list(dek))!.find((s) => s.current)!.id;
      const ended = await sessions.endOthers(a, await idOf(b));
      expect(ended).toMatchObject({ ended: 1, refreshTokens: ['refresh-B'] });
      expect(await sessions.authorize(b)).toBeUndefined();
      expect(bus.published.some((m) => m.startsWith('s:'))).toBe(true);
      // C refreshes (its refresh token rotates); ending it afterwards hands back the rotated one.
      clock += 300_000;
      expect(await sessions.authorize(c)).toBeDefined();
      expect(await sessions.endOthers(a)).toMatchObject({ ended: 1, refreshTokens: ['refresh-C+'] });
      expect(await sessions.authorize(c)).toBeUndefined();
      expect(await sessions.authorize(a)).toBeDefined();
      expect((await sessions.list(a))!.map((s) => s.device)).toEqual(['A']);
      expect(await sessions.endOthers(a, 'no-such-id')).toMatchObject({ ended: 0, refreshTokens: [] });
    });

    it('lets no refresh already running elsewhere bring an ended session back', async () => {
      const a = await createFor('A');
      const b = await createFor('B', { accessExpiresAt: Math.floor(clock / 1000) + 5 });
      refresher.delayMs = 50;
      const refreshing = sessions.authorize(b);
      await new Promise((resolve) => setTimeout(resolve, 10));
      const ended = await sessions.endOthers(a);
      expect(await refreshing).toBeDefined(); // it had started: it finishes, and the end waited for it
      expect(ended!.refreshTokens).toEqual(['refresh-B+']);
      expect(await sessions.authorize(b)).toBeUndefined();
      expect(await store.get(SESSION_NAMESPACE, b)).toBeUndefined();
    });

    it('keeps no refresh token in the list without a pepper: ending elsewhere then revokes nothing', async () => {
      const unpeppered = new BffSessions({
        store,
        lock: new LocalSessionLock(),
        bus,
        refresher,
        settings: { ...SETTINGS, revocableFromOtherSessions: false },
        now,
      });
      const a = await unpeppered.create({
        accessToken: 'x',
        accessExpiresAt: Math.floor(clock / 1000) + 300,
        refreshToken: 'r-a',
        user: { sub: 'carol' },
      });
      await unpeppered.create({
        accessToken: 'y',
        accessExpiresAt: Math.floor(clock / 1000) + 300,
        refreshToken: 'r-b',
        user: { sub: 'carol' },
      });
      expect(await unpeppered.endOthers(a)).toMatchObject({ ended: 1, refreshTokens: [] });
    });

    it('drops from the list a session that ended without it (back-channel logout by sid)', async () => {
      const a = await createFor('A');
      await createFor('B');
      expect(await sessions.endAll('sid', 'sid-B')).toBe(1);
      expect((await sessions.list(a))!.map((s) => s.device)).toEqual(['A']);
    });
  });

  describe('tokens for other resources', () => {
    const ORDERS = 'https://orders.test';
    const BILLING = 'https://billing.test';

    it('obtains one on first use, once for concurrent requests, and keeps the login token apart', async () => {
      const dek = await create();
      refresher.delayMs = 20;
      const results = await Promise.all(Array.from({ length: 50 }, () => sessions.authorize(dek, ORDERS)));
      expect(refresher.resources).toEqual([ORDERS]);
      expect(new Set(results.map((r) => r?.authorization))).toEqual(
        new Set(['Bearer access-1-for-orders.test']),
      );
      expect((await sessions.authorize(dek))?.authorization).toBe('Bearer access-0');
      const record = await sessions.readFull(dek);
      expect(record?.refreshToken).toBe('refresh-0+');
      expect(record?.resourceTokens?.[ORDERS]?.accessToken).toBe('access-1-for-orders.test');
      // Served from then on without the authorization server.
      expect((await sessions.authorize(dek, ORDERS))?.authorization).toBe('Bearer access-1-for-orders.test');
      expect(refresher.calls).toBe(1);
    });

    it('refreshes each resource on its own schedule, with the latest refresh token', async () => {
      const dek = await create();
      await sessions.authorize(dek, ORDERS);
      await sessions.authorize(dek, BILLING);
      expect(refresher.resources).toEqual([ORDERS, BILLING]);
      clock += 295_000; // every token now expires within the skew
      const [login, orders, billing] = await Promise.all([
        sessions.authorize(dek),
        sessions.authorize(dek, ORDERS),
        sessions.authorize(dek, BILLING),
      ]);
      expect(refresher.resources.slice(2).sort()).toEqual([BILLING, ORDERS, undefined].sort());
      expect(login?.authorization).toMatch(/^Bearer access-\d$/);
      expect(orders?.authorization).toMatch(/for-orders\.test$/);
      expect(billing?.authorization).toMatch(/for-billing\.test$/);
      // Five refreshes, each with the refresh token the previous one rotated.
      expect((await sessions.readFull(dek))?.refreshToken).toBe('refresh-0+++++');
    });

    it('answers a refused resource with ResourceRefused and keeps the session', async () => {
      const dek = await create();
      refresher.refused.add(ORDERS);
      await expect(sessions.authorize(dek, ORDERS)).rejects.toBeInstanceOf(ResourceRefused);
      expect((await sessions.authorize(dek))?.authorization).toBe('Bearer access-0');
    });

    it('keeps a session without a refresh token, refusing only the other resource', async () => {
      const dek = await create({ refreshToken: undefined });
      await expect(sessions.authorize(dek, ORDERS)).rejects.toBeInstanceOf(ResourceRefused);
      expect((await sessions.authorize(dek))?.authorization).toBe('Bearer access-0');
      expect(refresher.calls).toBe(0);
    });

    it('forgets every resource token of a session that ends', async () => {
      const dek = await create();
      await sessions.authorize(dek, ORDERS);
      await sessions.destroy(dek);
      expect(await sessions.authorize(dek, ORDERS)).toBeUndefined();
    });
  });

  it('refreshes once for concurrent requests, keeps the DEK, and publishes an invalidation', async () => {
    const dek = await create({ accessExpiresAt: Math.floor(clock / 1000) + 5 });
    refresher.delayMs = 20;
    const results = await Promise.all(Array.from({ length: 20 }, () => sessions.authorize(dek)));
    expect(refresher.calls).toBe(1);
    expect(new Set(results.map((r) => r?.authorization))).toEqual(new Set(['Bearer access-1']));
    expect((await sessions.readFull(dek))?.refreshToken).toBe('refresh-0+');
    expect(bus.published.some((m) => m.startsWith('s:'))).toBe(true);
  });

  it('waits for a refresh held by another instance instead of redeeming the token again', async () => {
    const dek = await create({ accessExpiresAt: Math.floor(clock / 1000) + 5 });
    const lock = new LocalSessionLock();
    const other = new BffSessions({
      store,
      lock,
      bus: new SwitchableBus(),
      refresher,
      settings: SETTINGS,
      now,
    });
    // Hold the lock as "another instance" would while it refreshes, then write its result.
    const slot = store.slotOf(SESSION_NAMESPACE, dek);
    const held = (await lock.tryAcquire(slot))!;
    const waiting = other.authorize(dek);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(refresher.calls).toBe(0);
    expect(await sessions.authorize(dek)).toBeDefined(); // this instance refreshes (its own lock)
    await held.release();
    expect((await waiting)?.authorization).toBe('Bearer access-1');
    expect(refresher.calls).toBe(1);
  });

  it('destroys the session when the refresh is rejected', async () => {
    const dek = await create({ accessExpiresAt: Math.floor(clock / 1000) + 5 });
    refresher.outcome = 'rejected';
    expect(await sessions.authorize(dek)).toBeUndefined();
    expect(await store.get(SESSION_NAMESPACE, dek)).toBeUndefined();
  });

  it('keeps a still-valid token when the authorization server is unreachable, and fails once it expired', async () => {
    const dek = await create({ accessExpiresAt: Math.floor(clock / 1000) + 5 });
    refresher.outcome = 'unavailable';
    expect((await sessions.authorize(dek))?.authorization).toBe('Bearer access-0');
    clock += 10_000;
    await expect(sessions.authorize(dek)).rejects.toBeInstanceOf(RefreshUnavailable);
    expect(await store.get(SESSION_NAMESPACE, dek)).toBeDefined();
  });

  it('never outlives the absolute limit, and slides the idle timeout with use', async () => {
    const dek = await create();
    clock += 500_000; // within the 600 s idle timeout
    await sessions.authorize(dek);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await store.ttl(SESSION_NAMESPACE, dek)).toBe(600);
    clock += 3_200_000; // past the absolute limit
    bus.deliver(INVALIDATE_ALL);
    expect(await sessions.authorize(dek)).toBeUndefined();
  });

  it('ends every session of a sid or a sub, and undoes a refresh that raced with it', async () => {
    const first = await create();
    const second = await create();
    const other = await create({ sid: 'sid-2', user: { sub: 'bob', groupsCount: 0 } });
    await Promise.all([first, second, other].map((dek) => sessions.authorize(dek)));
    expect(await sessions.endAll('sid', 'sid-1')).toBe(2);
    expect(await sessions.authorize(first)).toBeUndefined();
    expect(await sessions.authorize(second)).toBeUndefined();
    expect(await sessions.authorize(other)).toBeDefined();

    // A refresh that read the session before the back-channel logout and writes after it.
    const racing = await create({ sid: 'sid-3', accessExpiresAt: Math.floor(clock / 1000) + 5 });
    refresher.delayMs = 50;
    const refreshing = sessions.authorize(racing);
    await new Promise((resolve) => setTimeout(resolve, 10));
    clock += 1;
    await sessions.endAll('sub', 'alice');
    expect(await refreshing).toBeUndefined();
    expect(await store.get(SESSION_NAMESPACE, racing)).toBeUndefined();
  });

  it('returns what a destroyed session held, once', async () => {
    const dek = await create();
    expect((await sessions.destroy(dek))?.refreshToken).toBe('refresh-0');
    expect(await sessions.destroy(dek)).toBeUndefined();
    expect(bus.published.at(-1)).toMatch(/^s:/);
  });
});

describe(SessionCache.name, () => {
  const hot = (n: number) => ({
    authorization: `Bearer ${n}`,
    accessExpiresAt: 0,
    absoluteExpiresAt: 0,
    createdAtMs: 0,
    sidKey: `sid-${n % 2}`,
    subKey: 'sub',
  });

  it('is bounded in entries (least recently used first) and in age', () => {
    let clock = 0;
    const cache = new SessionCache({ maxEntries: 3, maxAgeMs: 100, now: () => clock });
    for (let i = 0; i < 3; i++) cache.set(`t${i}`, `s${i}`, hot(i));
    cache.get('t0');
    cache.set('t3', 's3', hot(3));
    expect(cache.get('t1')).toBeUndefined();
    expect(cache.get('t0')).toEqual({ slot: 's0', session: hot(0), storedAt: 0 });
    expect(cache.size).toBe(3);
    clock = 101;
    expect(cache.get('t0')).toBeUndefined();
  });

  it('is found by ticket and invalidated by slot, also after an entry was replaced or evicted', () => {
    const cache = new SessionCache({ maxEntries: 2, maxAgeMs: 1000 });
    cache.set('t0', 's0', hot(0));
    cache.set('t1', 's1', hot(1));
    expect(cache.get('s0')).toBeUndefined();
    cache.delete('s0');
    expect(cache.get('t0')).toBeUndefined();
    expect(cache.get('t1')?.session).toEqual(hot(1));
    cache.set('t1', 's1', hot(3));
    expect(cache.get('t1')?.session).toEqual(hot(3));
    cache.set('t2', 's2', hot(2));
    cache.set('t4', 's4', hot(4));
    // t1 was evicted: its slot no longer names anything, and deleting it leaves the others alone.
    cache.delete('s1');
    expect(cache.size).toBe(2);
    cache.delete('s2');
    expect(cache.get('t2')).toBeUndefined();
    expect(cache.get('t4')?.slot).toBe('s4');
  });

  it('drops entries by sid key, and stores nothing when disabled', () => {
    const cache = new SessionCache({ maxEntries: 10, maxAgeMs: 1000 });
    for (let i = 0; i < 4; i++) cache.set(`t${i}`, `s${i}`, hot(i));
    expect(cache.deleteWhere('sidKey', 'sid-0')).toBe(2);
    expect(cache.size).toBe(2);
    expect(cache.get('t0')).toBeUndefined();
    expect(cache.get('t1')).toBeDefined();
    const disabled = new SessionCache({ maxEntries: 0, maxAgeMs: 1000 });
    disabled.set('t', 's', hot(1));
    expect(disabled.get('t')).toBeUndefined();
  });
});
