import { randomBytes } from 'node:crypto';
import { isDek, newSecret } from '@cloakroom/envelope';
import type { SealedStore } from '@cloakroom/sealed-store';
import type { BffObserver } from '../bff.observer.js';
import { INVALIDATE_ALL } from '../coordination/invalidation.bus.js';
import type { InvalidationBus } from '../coordination/invalidation.bus.js';
import type { HeldLock, SessionLock } from '../coordination/session.lock.js';
import { RefreshRejected, RefreshUnavailable, ResourceRefused } from '../errors.js';
import { SessionCache } from './session.cache.js';
import { SessionRoster } from './session.roster.js';
import type { SessionCard, SessionListing } from './session.roster.js';
import {
  SessionEncodingInvalid,
  decodeHotSession,
  decodeSession,
  encodeSession,
  hotSessionFor,
} from './session.codec.js';
import type { HotSession, SessionRecord } from './session.codec.js';

export const SESSION_NAMESPACE = 'gateway.session';
const SID_INDEX = 'gateway.sid';
const SUB_INDEX = 'gateway.sub';
const ENDED = 'gateway.ended';

/** New tokens from a refresh. Times are epoch seconds. */
export interface RefreshedTokens {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken?: string;
  idToken?: string;
  refreshExpiresAt?: number;
  scope?: string;
}

/** Redeems a refresh token at the authorization server (openid-client in the gateway). */
export abstract class TokenRefresher {
  /**
   * Throws RefreshRejected when the server says no, RefreshUnavailable when it cannot be asked, and
   * ResourceRefused when it will not issue a token for `resource` (RFC 8707 invalid_target).
   */
  abstract refresh(refreshToken: string, resource?: string): Promise<RefreshedTokens>;
}

export interface BffSessionSettings {
  idleTimeoutSeconds: number;
  absoluteLimitSeconds: number;
  /** Refresh when the access token expires within this many seconds. */
  refreshSkewSeconds: number;
  /** How long a request waits for another instance's refresh of the same session. */
  lockWaitMs: number;
  /** Pause between looks at a session another instance is refreshing. */
  lockPollMs: number;
  cacheMaxEntries: number;
  cacheMaxAgeMs: number;
  /**
   * Keep each session's refresh token in its user's list of sessions too, so that ending it from another session
   * revokes it. Only with a deployment pepper (see {@link SessionRoster}).
   */
  revocableFromOtherSessions: boolean;
}

/** What ending sessions from another session did: how many ended, and their refresh tokens, to revoke. */
export interface EndedSessions {
  ended: number;
  refreshTokens: string[];
  /** The id of the session they were ended from (which stays). */
  currentId?: string;
}

/** The observer's session hooks, every one optional. */
export type BffSessionEvents = Partial<
  Pick<BffObserver, 'sessionCreated' | 'sessionsDestroyed' | 'refresh' | 'lockWait'>
>;

export interface BffSessionsDeps {
  store: SealedStore;
  lock: SessionLock;
  bus: InvalidationBus;
  refresher: TokenRefresher;
  settings: BffSessionSettings;
  events?: BffSessionEvents;
  now?: () => number;
}

/** What a session looks like from outside: never a token. */
export interface SessionInfo {
  user: SessionRecord['user'];
  expiresAt: number;
}

/**
 * Gateway sessions: a fresh DEK per login (the browser's cookie), the token set sealed under its slot,
 * an in-process cache of the hot part, and refresh single flight within the process and across instances.
 */
export class BffSessions {
  readonly cache: SessionCache;
  /** Hot sessions for the other resources' tokens, one cache per resource. */
  private readonly resourceCaches = new Map<string, SessionCache>();
  private readonly inflight = new Map<string, Promise<HotSession | undefined>>();
  private readonly touchedAt = new Map<string, number>();
  private readonly store: SealedStore;
  private readonly settings: BffSessionSettings;
  private readonly events: BffSessionEvents;
  private readonly now: () => number;
  private readonly touchIntervalMs: number;
  private readonly roster: SessionRoster;

  constructor(private readonly deps: BffSessionsDeps) {
    this.store = deps.store;
    this.settings = deps.settings;
    this.events = deps.events ?? {};
    this.now = deps.now ?? Date.now;
    this.cache = new SessionCache({
      maxEntries: deps.settings.cacheMaxEntries,
      maxAgeMs: deps.settings.cacheMaxAgeMs,
      now: this.now,
    });
    // Sliding the idle timeout costs a store write; once per tenth of the timeout is precise enough.
    this.touchIntervalMs = Math.max(1000, (deps.settings.idleTimeoutSeconds * 1000) / 10);
    this.roster = new SessionRoster(deps.store, {
      ttlSeconds: deps.settings.absoluteLimitSeconds,
      keepRefreshTokens: deps.settings.revocableFromOtherSessions,
    });
    deps.bus.onMessage((message) => this.onInvalidation(message));
  }

  /** True when the value has the shape of a session cookie (43 base64url characters of 32 bytes). */
  static isTicket(value: string | undefined): value is string {
    return value !== undefined && isDek(value);
  }

  /** Creates a session for a fresh token set; returns the DEK, which is the cookie value. */
  async create(record: Omit<SessionRecord, 'createdAt' | 'absoluteExpiresAt' | 'id'>): Promise<string> {
    const nowMs = this.now();
    const createdAt = Math.floor(nowMs / 1000);
    const full: SessionRecord = {
      ...record,
      id: randomBytes(16).toString('base64url'),
      createdAt,
      createdAtMs: nowMs,
      absoluteExpiresAt: createdAt + this.settings.absoluteLimitSeconds,
    };
    const dek = newSecret();
    await this.write(dek, full);
    const member = { namespace: SESSION_NAMESPACE, secret: dek };
    const indexTtl = this.settings.absoluteLimitSeconds;
    if (full.sid) await this.store.addToIndex(SID_INDEX, full.sid, member, indexTtl);
    await this.store.addToIndex(SUB_INDEX, full.user.sub, member, indexTtl);
    await this.roster.put(
      full.user.sub,
      full.id!,
      this.cardOf(full, this.store.slotOf(SESSION_NAMESPACE, dek)),
    );
    this.events.sessionCreated?.();
    return dek;
  }

  /** The sessions of this session's user, oldest first, this one marked; undefined when there is no session. */
  async list(dek: string): Promise<Array<SessionListing & { current: boolean }> | undefined> {
    const record = await this.readFull(dek);
    if (!record) return undefined;
    const listed = await this.roster.list(record.user.sub);
    const live = await Promise.all(
      listed.map(
        async (entry) =>
          entry.id === record.id ||
          (await this.store.slotTtl({ namespace: SESSION_NAMESPACE, slot: entry.slot })) !== undefined,
      ),
    );
    // A session that ended without its card (a back-channel logout by sid, an expiry) leaves the list now.
    await Promise.all(
      listed.filter((_, i) => !live[i]).map((entry) => this.roster.remove(record.user.sub, entry.id)),
    );
    return listed
      .filter((_, i) => live[i])
      .map(({ slot: _slot, ...entry }) => ({ ...entry, current: entry.id === record.id }));
  }

  /**
   * Ends sessions of this session's user from this one: the one named `id`, or with `id` undefined all but this
   * one. Each is refused on every instance within the invalidation bound; their refresh tokens come back to be
   * revoked. Undefined when this session itself is gone.
   */
  async endOthers(dek: string, id?: string): Promise<EndedSessions | undefined> {
    const record = await this.readFull(dek);
    if (!record) return undefined;
    const sub = record.user.sub;
    const targets = (await this.roster.cards(sub)).filter(
      (entry) => entry.id !== record.id && (id === undefined || entry.id === id),
    );
    const outcome: EndedSessions = { ended: 0, refreshTokens: [], currentId: record.id };
    for (const target of targets) {
      const lock = await this.acquireWaiting(target.card.slot);
      try {
        // Read again under its lock: a refresh that was running has rotated its refresh token meanwhile.
        const card = (await this.roster.card(sub, target.id)) ?? target.card;
        const slot = card.slot;
        // The mark first: a refresh elsewhere that still writes the session back undoes itself on seeing it.
        await this.store.put(ENDED, `slot:${slot}`, { at: this.now() }, this.markTtlSeconds());
        await this.store.destroySlot({ namespace: SESSION_NAMESPACE, slot });
        const ref = { namespace: SESSION_NAMESPACE, slot };
        if (card.sid) await this.store.removeFromIndex(SID_INDEX, card.sid, ref);
        await this.store.removeFromIndex(SUB_INDEX, sub, ref);
        await this.roster.remove(sub, target.id);
        for (const cache of this.caches()) cache.delete(slot);
        this.touchedAt.delete(slot);
        await this.deps.bus.publish(`s:${slot}`);
        outcome.ended++;
        if (card.refreshToken) outcome.refreshTokens.push(card.refreshToken);
      } finally {
        await lock?.release();
      }
    }
    if (outcome.ended > 0) this.events.sessionsDestroyed?.('ended_elsewhere', outcome.ended);
    return outcome;
  }

  /**
   * The hot path: what to forward for this cookie, refreshing first when the access token is about to
   * expire. Undefined when there is no such session (absent, expired, altered, or its refresh was refused).
   * With `resource`, the session's token for that API (RFC 8707), obtained from the refresh token the first
   * time it is asked for; without it, the token of the login.
   */
  async authorize(dek: string, resource?: string): Promise<HotSession | undefined> {
    return (await this.authorizeRequest(dek, resource))?.session;
  }

  /**
   * {@link authorize}, with how many seconds the session has left if it is not used again (the idle timeout as this
   * instance last pushed it back, bounded by the absolute limit): what an app may show to warn before it ends.
   */
  async authorizeRequest(
    dek: string,
    resource?: string,
  ): Promise<{ session: HotSession; expiresInSeconds: number } | undefined> {
    const nowS = this.now() / 1000;
    const cache = this.cacheFor(resource);
    const useCache = cache.enabled && this.deps.bus.live;
    const cached = useCache ? cache.get(dek) : undefined;
    let slot: string;
    let hot: HotSession | undefined;
    let absoluteExpiresAt: number;
    if (cached !== undefined) {
      ({ slot, session: hot } = cached);
      absoluteExpiresAt = hot.absoluteExpiresAt;
    } else {
      slot = this.store.slotOf(SESSION_NAMESPACE, dek);
      const view = await this.readView(dek, slot, resource);
      if (view === undefined) return undefined;
      hot = view.hot;
      absoluteExpiresAt = view.base.absoluteExpiresAt;
      if (hot && useCache) cache.set(dek, slot, hot);
    }
    if (absoluteExpiresAt <= nowS) {
      await this.destroy(dek, 'logout');
      return undefined;
    }
    if (hot === undefined || hot.accessExpiresAt - this.settings.refreshSkewSeconds <= nowS) {
      const stale = hot;
      try {
        hot = await this.refreshOnce(dek, slot, resource);
      } catch (error) {
        // The token in hand is still valid for a moment: use it rather than fail the request.
        if (error instanceof RefreshUnavailable && stale && stale.accessExpiresAt > nowS)
          return { session: stale, expiresInSeconds: this.expiresIn(slot, stale) };
        throw error;
      }
      if (hot === undefined) return undefined;
    }
    this.touch(dek, slot, hot);
    return { session: hot, expiresInSeconds: this.expiresIn(slot, hot) };
  }

  private expiresIn(slot: string, hot: HotSession): number {
    const nowMs = this.now();
    const pushedBackAt = this.touchedAt.get(slot) ?? hot.createdAtMs;
    const idle = this.settings.idleTimeoutSeconds - (nowMs - pushedBackAt) / 1000;
    return Math.max(0, Math.floor(Math.min(idle, hot.absoluteExpiresAt - nowMs / 1000)));
  }

  /** Who is logged in and until when, without a token, or undefined. */
  async info(dek: string): Promise<SessionInfo | undefined> {
    const record = await this.readFull(dek);
    if (!record) return undefined;
    const ttl = await this.store.ttl(SESSION_NAMESPACE, dek);
    if (ttl === undefined) return undefined;
    return {
      user: record.user,
      expiresAt: Math.min(record.absoluteExpiresAt, Math.floor(this.now() / 1000) + ttl),
    };
  }

  /** The whole session (for logout and token-size displays), or undefined. */
  async readFull(dek: string): Promise<SessionRecord | undefined> {
    const bytes = await this.readBytes(dek);
    if (!bytes) return undefined;
    try {
      return decodeSession(bytes);
    } catch (error) {
      if (error instanceof SessionEncodingInvalid) return undefined;
      throw error;
    }
  }

  /**
   * Ends one session and returns what it held (to revoke its refresh token and build the end-session URL).
   * Waits for a refresh in flight so the refresh token returned is the latest one.
   */
  async destroy(
    dek: string,
    reason: 'logout' | 'replaced' | 'refresh_failed' = 'logout',
  ): Promise<SessionRecord | undefined> {
    const slot = this.store.slotOf(SESSION_NAMESPACE, dek);
    const lock = await this.acquireWaiting(slot);
    try {
      return await this.destroyUnlocked(dek, slot, reason);
    } finally {
      await lock?.release();
    }
  }

  /** Back-channel logout: ends every session of an OIDC `sid` (or of a `sub`) on every instance. */
  async endAll(by: 'sid' | 'sub', value: string): Promise<number> {
    const key = this.store.slotOf(by === 'sid' ? SID_INDEX : SUB_INDEX, value);
    // The mark first: a refresh or touch racing with this one checks it after writing and undoes itself.
    await this.store.put(ENDED, `${by}:${key}`, { at: this.now() }, this.markTtlSeconds());
    const count = await this.store.destroyIndex(by === 'sid' ? SID_INDEX : SUB_INDEX, value);
    for (const cache of this.caches()) cache.deleteWhere(by === 'sid' ? 'sidKey' : 'subKey', key);
    await this.deps.bus.publish(`${by}:${key}`);
    this.events.sessionsDestroyed?.('backchannel', count);
    return count;
  }

  private async destroyUnlocked(
    dek: string,
    slot: string,
    reason: 'logout' | 'replaced' | 'refresh_failed',
  ): Promise<SessionRecord | undefined> {
    const record = await this.readFull(dek);
    const deleted = await this.store.destroy(SESSION_NAMESPACE, dek);
    const member = { namespace: SESSION_NAMESPACE, secret: dek };
    if (record?.sid) await this.store.removeFromIndex(SID_INDEX, record.sid, member);
    if (record) await this.store.removeFromIndex(SUB_INDEX, record.user.sub, member);
    if (record?.id) await this.roster.remove(record.user.sub, record.id);
    for (const cache of this.caches()) cache.delete(slot);
    this.touchedAt.delete(slot);
    await this.deps.bus.publish(`s:${slot}`);
    if (deleted) this.events.sessionsDestroyed?.(reason, 1);
    return record;
  }

  /** One refresh per session and resource at a time in this process; the others share its outcome. */
  private refreshOnce(dek: string, slot: string, resource?: string): Promise<HotSession | undefined> {
    const key = resource === undefined ? slot : `${slot} ${resource}`;
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = this.refreshAcrossInstances(dek, slot, resource).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    } else {
      this.events.refresh?.('joined');
    }
    return pending;
  }

  private async refreshAcrossInstances(
    dek: string,
    slot: string,
    resource?: string,
  ): Promise<HotSession | undefined> {
    const started = this.now();
    for (;;) {
      const lock = await this.deps.lock.tryAcquire(slot);
      if (lock) {
        if (this.now() > started) this.events.lockWait?.((this.now() - started) / 1000);
        try {
          return await this.refreshHoldingLock(dek, slot, resource);
        } finally {
          await lock.release();
        }
      }
      // Another instance is refreshing: wait for its result instead of redeeming the token again.
      await sleep(this.settings.lockPollMs);
      const view = await this.readView(dek, slot, resource);
      if (view === undefined) return undefined;
      if (view.hot && this.isFresh(view.hot)) {
        this.events.lockWait?.((this.now() - started) / 1000);
        this.events.refresh?.('joined');
        this.cacheIfLive(dek, slot, view.hot, resource);
        return view.hot;
      }
      if (this.now() - started > this.settings.lockWaitMs) {
        throw new RefreshUnavailable('another instance is still refreshing this session');
      }
    }
  }

  private async refreshHoldingLock(
    dek: string,
    slot: string,
    resource?: string,
  ): Promise<HotSession | undefined> {
    // Re-read under the lock: the previous holder may have refreshed already (its refresh token is spent).
    const bytes = await this.readBytes(dek, slot);
    if (!bytes) return undefined;
    let current: SessionRecord;
    let currentHot: HotSession | undefined;
    try {
      const base = decodeHotSession(bytes);
      current = decodeSession(bytes);
      currentHot = resource === undefined ? base : hotSessionFor(base, current, resource);
    } catch (error) {
      if (error instanceof SessionEncodingInvalid) return undefined;
      throw error;
    }
    if (currentHot && this.isFresh(currentHot)) {
      this.cacheIfLive(dek, slot, currentHot, resource);
      return currentHot;
    }
    if (!current.refreshToken) {
      // Without a refresh token no other resource's token can be had; the session itself is still good.
      if (resource !== undefined) throw new ResourceRefused(resource);
      await this.destroyUnlocked(dek, slot, 'refresh_failed');
      return undefined;
    }
    let tokens: RefreshedTokens;
    try {
      tokens = await this.deps.refresher.refresh(current.refreshToken, resource);
    } catch (error) {
      if (error instanceof ResourceRefused) throw error;
      if (error instanceof RefreshRejected) {
        this.events.refresh?.('rejected');
        await this.destroyUnlocked(dek, slot, 'refresh_failed');
        return undefined;
      }
      this.events.refresh?.('unavailable');
      throw error instanceof RefreshUnavailable
        ? error
        : new RefreshUnavailable('authorization server did not answer', { cause: error });
    }
    const renewed =
      resource === undefined
        ? { accessToken: tokens.accessToken, accessExpiresAt: tokens.accessExpiresAt }
        : {
            resourceTokens: {
              ...current.resourceTokens,
              [resource]: { accessToken: tokens.accessToken, accessExpiresAt: tokens.accessExpiresAt },
            },
          };
    const next: SessionRecord = {
      ...current,
      ...renewed,
      refreshToken: tokens.refreshToken ?? current.refreshToken,
      idToken: tokens.idToken ?? current.idToken,
      refreshExpiresAt: tokens.refreshExpiresAt ?? current.refreshExpiresAt,
      scope: tokens.scope ?? current.scope,
    };
    const base = await this.write(dek, next);
    if (next.id && next.refreshToken !== current.refreshToken)
      await this.roster.put(next.user.sub, next.id, this.cardOf(next, slot));
    if (await this.wasEnded(base, slot)) {
      await this.destroyUnlocked(dek, slot, 'refresh_failed');
      return undefined;
    }
    const hot = resource === undefined ? base : hotSessionFor(base, next, resource);
    this.events.refresh?.('success');
    this.touchedAt.set(slot, this.now());
    await this.deps.bus.publish(`s:${slot}`);
    if (hot) this.cacheIfLive(dek, slot, hot, resource);
    return hot;
  }

  /** Slides the idle timeout, at most once per touch interval per session and instance. */
  private touch(dek: string, slot: string, hot: HotSession): void {
    const nowMs = this.now();
    const last = this.touchedAt.get(slot);
    if (last !== undefined && nowMs - last < this.touchIntervalMs) return;
    if (this.touchedAt.size >= 10_000) this.touchedAt.delete(this.touchedAt.keys().next().value as string);
    this.touchedAt.delete(slot);
    this.touchedAt.set(slot, nowMs);
    if (last === undefined && nowMs - hot.createdAtMs < this.touchIntervalMs) return;
    const ttl = Math.min(this.settings.idleTimeoutSeconds, hot.absoluteExpiresAt - nowMs / 1000);
    if (ttl <= 0) return;
    void this.extend(dek, ttl).catch(() => undefined);
  }

  private async extend(dek: string, ttl: number): Promise<void> {
    // A TTL change, never a rewrite: it cannot undo a refresh nor bring back a session ended meanwhile.
    if (!(await this.store.touch(SESSION_NAMESPACE, dek, ttl))) return;
    const record = await this.readFull(dek);
    if (record?.id) await this.roster.seen(record.user.sub, record.id, this.now());
  }

  private cardOf(record: SessionRecord, slot: string): SessionCard {
    return {
      slot,
      ...(record.sid ? { sid: record.sid } : {}),
      device: record.device ?? 'Unknown device',
      createdAt: record.createdAtMs ?? record.createdAt * 1000,
      ...(record.refreshToken ? { refreshToken: record.refreshToken } : {}),
    };
  }

  private async write(dek: string, record: SessionRecord): Promise<HotSession> {
    const sidKey = record.sid ? this.store.slotOf(SID_INDEX, record.sid) : '';
    const subKey = this.store.slotOf(SUB_INDEX, record.user.sub);
    const bytes = encodeSession(record, { sidKey, subKey });
    await this.store.put(SESSION_NAMESPACE, dek, bytes, this.ttlOf(record));
    return decodeHotSession(bytes);
  }

  /** Idle timeout, bounded by the absolute limit and the refresh token's own lifetime. */
  private ttlOf(record: SessionRecord): number {
    const nowS = this.now() / 1000;
    const bounds = [this.settings.idleTimeoutSeconds, record.absoluteExpiresAt - nowS];
    if (record.refreshExpiresAt !== undefined) bounds.push(record.refreshExpiresAt - nowS);
    if (!record.refreshToken) bounds.push(record.accessExpiresAt - nowS);
    return Math.max(1, Math.ceil(Math.min(...bounds)));
  }

  private async readBytes(dek: string, slot?: string): Promise<Buffer | undefined> {
    const value = await this.store.get(SESSION_NAMESPACE, dek, slot);
    return Buffer.isBuffer(value) ? value : undefined;
  }

  private async readHot(dek: string, slot?: string): Promise<HotSession | undefined> {
    const bytes = await this.readBytes(dek, slot);
    if (!bytes) return undefined;
    try {
      return decodeHotSession(bytes);
    } catch (error) {
      if (error instanceof SessionEncodingInvalid) return undefined;
      throw error;
    }
  }

  private async wasEnded(hot: HotSession, slot: string): Promise<boolean> {
    const marks = await Promise.all([
      hot.sidKey ? this.store.get<{ at: number }>(ENDED, `sid:${hot.sidKey}`) : undefined,
      this.store.get<{ at: number }>(ENDED, `sub:${hot.subKey}`),
      this.store.get<{ at: number }>(ENDED, `slot:${slot}`),
    ]);
    return marks.some((mark) => mark !== undefined && mark.at >= hot.createdAtMs);
  }

  private markTtlSeconds(): number {
    // Long enough for any refresh or touch that started before the mark to finish and look at it.
    return Math.ceil(this.settings.lockWaitMs / 1000) + 120;
  }

  private isFresh(hot: HotSession): boolean {
    return hot.accessExpiresAt - this.settings.refreshSkewSeconds > this.now() / 1000;
  }

  private cacheIfLive(dek: string, slot: string, hot: HotSession, resource?: string): void {
    if (this.deps.bus.live) this.cacheFor(resource).set(dek, slot, hot);
  }

  private caches(): SessionCache[] {
    return [this.cache, ...this.resourceCaches.values()];
  }

  private cacheFor(resource: string | undefined): SessionCache {
    if (resource === undefined) return this.cache;
    let cache = this.resourceCaches.get(resource);
    if (!cache) {
      cache = new SessionCache({
        maxEntries: this.settings.cacheMaxEntries,
        maxAgeMs: this.settings.cacheMaxAgeMs,
        now: this.now,
      });
      this.resourceCaches.set(resource, cache);
    }
    return cache;
  }

  /**
   * The stored session's hot part (`base`) and, for a resource, its token for that resource (`hot`, undefined
   * while it has none). Undefined when there is no such session.
   */
  private async readView(
    dek: string,
    slot: string,
    resource?: string,
  ): Promise<{ base: HotSession; hot?: HotSession } | undefined> {
    if (resource === undefined) {
      const base = await this.readHot(dek, slot);
      return base && { base, hot: base };
    }
    const bytes = await this.readBytes(dek, slot);
    if (!bytes) return undefined;
    try {
      const base = decodeHotSession(bytes);
      return { base, hot: hotSessionFor(base, decodeSession(bytes), resource) };
    } catch (error) {
      if (error instanceof SessionEncodingInvalid) return undefined;
      throw error;
    }
  }

  /** Takes the session lock, waiting up to lockWaitMs for a holder; proceeds without it after that. */
  private async acquireWaiting(slot: string): Promise<HeldLock | undefined> {
    const started = this.now();
    for (;;) {
      const lock = await this.deps.lock.tryAcquire(slot);
      if (lock || this.now() - started > this.settings.lockWaitMs) return lock;
      await sleep(this.settings.lockPollMs);
    }
  }

  private onInvalidation(message: string): void {
    for (const cache of this.caches()) {
      if (message === INVALIDATE_ALL) cache.clear();
      else if (message.startsWith('s:')) cache.delete(message.slice(2));
      else if (message.startsWith('sid:')) cache.deleteWhere('sidKey', message.slice(4));
      else if (message.startsWith('sub:')) cache.deleteWhere('subKey', message.slice(4));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
