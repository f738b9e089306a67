import type { HotSession } from './session.codec.js';

export interface SessionCacheOptions {
  /** Most sessions kept; the least recently used goes first. 0 disables the cache. */
  maxEntries: number;
  /** An entry older than this is not served, whatever else happens (a bound if an invalidation is missed). */
  maxAgeMs: number;
  now?: () => number;
}

/** A cached session and its slot (the name other instances use for it in invalidations). */
export interface CachedSession {
  session: HotSession;
  slot: string;
}

interface Entry extends CachedSession {
  storedAt: number;
}

/**
 * Opened sessions in process memory, found by the cookie's value itself: a hit then costs no slot hash, no
 * store round trip, no decryption and no inflate. The cookie value is no more secret than the access token the
 * entry already holds. Bounded in entries and in age; emptied by invalidations (logout, back-channel logout,
 * refresh) that other instances publish by slot, and switched off by its owner while those cannot arrive.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  /** Slot → ticket, for invalidations, which name sessions by slot only. */
  private readonly tickets = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly options: SessionCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get enabled(): boolean {
    return this.options.maxEntries > 0;
  }

  get(ticket: string): CachedSession | undefined {
    const entry = this.entries.get(ticket);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt > this.options.maxAgeMs) {
      this.remove(ticket, entry.slot);
      return undefined;
    }
    // Map order is recency order: move the entry to the end.
    this.entries.delete(ticket);
    this.entries.set(ticket, entry);
    return entry;
  }

  set(ticket: string, slot: string, session: HotSession): void {
    if (this.options.maxEntries <= 0) return;
    const previous = this.entries.get(ticket);
    if (previous) this.remove(ticket, previous.slot);
    while (this.entries.size >= this.options.maxEntries) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Entry];
      this.remove(oldest, entry.slot);
    }
    this.entries.set(ticket, { session, slot, storedAt: this.now() });
    this.tickets.set(slot, ticket);
  }

  /** Drops the session with this slot, if cached. */
  delete(slot: string): void {
    const ticket = this.tickets.get(slot);
    if (ticket !== undefined) this.remove(ticket, slot);
  }

  /** Drops every session of an OIDC `sid` or `sub` (by key): back-channel logout. */
  deleteWhere(field: 'sidKey' | 'subKey', key: string): number {
    if (key === '') return 0;
    let deleted = 0;
    for (const [ticket, entry] of this.entries) {
      if (entry.session[field] === key) {
        this.remove(ticket, entry.slot);
        deleted++;
      }
    }
    return deleted;
  }

  clear(): void {
    this.entries.clear();
    this.tickets.clear();
  }

  private remove(ticket: string, slot: string): void {
    this.entries.delete(ticket);
    this.tickets.delete(slot);
  }
}
