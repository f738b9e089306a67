import type { HotSession } from './session.codec.js';

export interface SessionCacheOptions {
  /** Most sessions kept; the least recently used goes first. 0 disables the cache. */
  maxEntries: number;
  /** An entry older than this is not served, whatever else happens (a bound if an invalidation is missed). */
  maxAgeMs: number;
  now?: () => number;
}

interface Entry {
  session: HotSession;
  storedAt: number;
}

/**
 * Opened sessions by slot, in process memory: the hot path then needs no store round trip, no decryption and
 * no inflate. Bounded in entries and in age; emptied by invalidations (logout, back-channel logout, refresh)
 * that other instances publish, and switched off by its owner while those invalidations cannot arrive.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
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

  get(slot: string): HotSession | undefined {
    const entry = this.entries.get(slot);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt > this.options.maxAgeMs) {
      this.entries.delete(slot);
      return undefined;
    }
    // Map order is recency order: move the entry to the end.
    this.entries.delete(slot);
    this.entries.set(slot, entry);
    return entry.session;
  }

  set(slot: string, session: HotSession): void {
    if (this.options.maxEntries <= 0) return;
    this.entries.delete(slot);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(slot, { session, storedAt: this.now() });
  }

  delete(slot: string): void {
    this.entries.delete(slot);
  }

  /** Drops every session of an OIDC `sid` or `sub` (by key): back-channel logout. */
  deleteWhere(field: 'sidKey' | 'subKey', key: string): number {
    if (key === '') return 0;
    let deleted = 0;
    for (const [slot, entry] of this.entries) {
      if (entry.session[field] === key) {
        this.entries.delete(slot);
        deleted++;
      }
    }
    return deleted;
  }

  clear(): void {
    this.entries.clear();
  }
}
