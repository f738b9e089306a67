import type { Envelope } from '@cloakroom/envelope';
import { CONSUMED_AT, FRESH, SealedStore, consumedAtSuffix } from './sealed.store.js';
import type { ConsumeOutcome } from './sealed.store.js';

export interface MemorySealedStoreOptions {
  /** Most entries (values and indexes) kept; past it, expired entries go first, then the least recently used. */
  maxEntries?: number;
  /** How often expired entries are swept, in milliseconds. */
  sweepIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface Entry {
  bytes: Buffer;
  expiresAt: number;
}

interface IndexEntry {
  members: Set<string>;
  expiresAt: number;
}

interface GroupEntry {
  fields: Map<string, Buffer>;
  expiresAt: number;
}

/**
 * The sealed store in process memory, for a machine with no Redis: the same contract and the same
 * encryption (the maps hold slots and ciphertexts only), bounded, with expiry on read and by a sweep.
 * Not for production: it is neither shared between instances nor durable.
 */
export class MemorySealedStore extends SealedStore {
  private readonly values = new Map<string, Entry>();
  private readonly indexes = new Map<string, IndexEntry>();
  private readonly groups = new Map<string, GroupEntry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(envelope: Envelope, options: MemorySealedStoreOptions = {}) {
    super(envelope);
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.sweeper.unref();
  }

  /** Number of live entries (values and indexes). */
  get size(): number {
    return this.values.size + this.indexes.size + this.groups.size;
  }

  /** Every key and stored byte string with its remaining TTL, as a heap dump would show them (for audits). */
  *rawEntries(): Iterable<{ key: string; value: Buffer; ttlMs: number }> {
    const now = this.now();
    for (const [key, entry] of this.values) yield { key, value: entry.bytes, ttlMs: entry.expiresAt - now };
    for (const [key, index] of this.indexes) {
      yield { key, value: Buffer.from([...index.members].join('\n')), ttlMs: index.expiresAt - now };
    }
    for (const [key, group] of this.groups) {
      yield { key, value: Buffer.concat([...group.fields.values()]), ttlMs: group.expiresAt - now };
    }
  }

  /** Removes every expired entry. */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.values) if (entry.expiresAt <= now) this.values.delete(key);
    for (const [key, entry] of this.indexes) if (entry.expiresAt <= now) this.indexes.delete(key);
    for (const [key, entry] of this.groups) if (entry.expiresAt <= now) this.groups.delete(key);
  }

  async ping(): Promise<void> {}

  protected override clock(): number {
    return this.now();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  protected async rawSet(key: string, bytes: Buffer, ttlMs: number): Promise<void> {
    this.values.delete(key);
    this.makeRoom();
    this.values.set(key, { bytes: Buffer.from(bytes), expiresAt: this.now() + ttlMs });
  }

  protected async rawGet(key: string): Promise<Buffer | undefined> {
    const entry = this.live(this.values, key);
    if (!entry) return undefined;
    // Map order is recency order: move the entry to the end.
    this.values.delete(key);
    this.values.set(key, entry);
    return Buffer.from(entry.bytes);
  }

  protected async rawDelete(keys: string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) {
      if (this.live(this.values, key)) deleted++;
      this.values.delete(key);
      this.indexes.delete(key);
      this.groups.delete(key);
    }
    return deleted;
  }

  protected async rawDeleteIfUnchanged(key: string, bytes: Buffer): Promise<boolean> {
    const entry = this.live(this.values, key);
    if (!entry?.bytes.equals(bytes)) return false;
    this.values.delete(key);
    return true;
  }

  protected async rawConsume(key: string): Promise<ConsumeOutcome> {
    // Synchronous from check to write: no other caller can interleave.
    const entry = this.live(this.values, key);
    if (!entry) return 'absent';
    if (entry.bytes[0] !== FRESH) return 'already-consumed';
    entry.bytes = Buffer.concat([entry.bytes, Buffer.from(consumedAtSuffix(this.now()), 'latin1')]);
    entry.bytes[0] = CONSUMED_AT;
    return 'consumed';
  }

  protected async rawTtl(key: string): Promise<number | undefined> {
    const entry = this.live(this.values, key) ?? this.live(this.indexes, key);
    return entry ? entry.expiresAt - this.now() : undefined;
  }

  protected async rawTouch(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.live(this.values, key);
    if (entry) entry.expiresAt = this.now() + ttlMs;
    return entry !== undefined;
  }

  protected async rawIndexAdd(indexKey: string, memberKey: string, ttlMs: number): Promise<void> {
    const expiresAt = this.now() + ttlMs;
    let index = this.live(this.indexes, indexKey);
    if (!index) {
      this.makeRoom();
      index = { members: new Set(), expiresAt };
      this.indexes.set(indexKey, index);
    }
    index.members.add(memberKey);
    index.expiresAt = Math.max(index.expiresAt, expiresAt);
  }

  protected async rawIndexRemove(indexKey: string, memberKey: string): Promise<void> {
    this.live(this.indexes, indexKey)?.members.delete(memberKey);
  }

  protected async rawIndexDestroy(indexKey: string): Promise<number> {
    const index = this.live(this.indexes, indexKey);
    this.indexes.delete(indexKey);
    return index ? this.rawDelete([...index.members]) : 0;
  }

  protected async rawIncrement(counterKey: string, windowMs: number): Promise<number> {
    const entry = this.live(this.values, counterKey);
    const count = (entry ? Number(entry.bytes.toString()) : 0) + 1;
    if (entry) entry.bytes = Buffer.from(String(count));
    else {
      this.makeRoom();
      this.values.set(counterKey, { bytes: Buffer.from(String(count)), expiresAt: this.now() + windowMs });
    }
    return count;
  }

  protected async rawGroupSet(groupKey: string, field: string, bytes: Buffer, ttlMs: number): Promise<void> {
    const expiresAt = this.now() + ttlMs;
    let group = this.live(this.groups, groupKey);
    if (!group) {
      this.makeRoom();
      group = { fields: new Map(), expiresAt };
      this.groups.set(groupKey, group);
    }
    group.fields.set(field, Buffer.from(bytes));
    group.expiresAt = Math.max(group.expiresAt, expiresAt);
  }

  protected async rawGroupAll(groupKey: string): Promise<Map<string, Buffer>> {
    const group = this.live(this.groups, groupKey);
    return new Map([...(group?.fields ?? [])].map(([field, bytes]) => [field, Buffer.from(bytes)]));
  }

  protected async rawGroupDelete(groupKey: string, fields: string[]): Promise<number> {
    const group = this.live(this.groups, groupKey);
    let deleted = 0;
    for (const field of fields) if (group?.fields.delete(field)) deleted++;
    if (group && group.fields.size === 0) this.groups.delete(groupKey);
    return deleted;
  }

  protected async rawCount(counterKey: string): Promise<number> {
    const entry = this.live(this.values, counterKey);
    return entry ? Number(entry.bytes.toString()) : 0;
  }

  private live<E extends { expiresAt: number }>(map: Map<string, E>, key: string): E | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  private makeRoom(): void {
    if (this.size < this.maxEntries) return;
    this.sweep();
    // Still full: drop the least recently used values (the first in Map order).
    for (const key of this.values.keys()) {
      if (this.size < this.maxEntries) return;
      this.values.delete(key);
    }
    for (const key of this.indexes.keys()) {
      if (this.size < this.maxEntries) return;
      this.indexes.delete(key);
    }
    for (const key of this.groups.keys()) {
      if (this.size < this.maxEntries) return;
      this.groups.delete(key);
    }
  }
}
