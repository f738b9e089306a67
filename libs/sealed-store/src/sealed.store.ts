import { Envelope, SealedValueInvalid, open, seal } from '@cloakroom/envelope';
import { StoreMisuse } from './errors.js';

/** What the store keeps: JSON-serialisable data, or raw bytes. */
export type StoreValue = unknown;

/** The outcome of {@link SealedStore.consume}: exactly one caller ever sees `consumed`. */
export type ConsumeOutcome = 'consumed' | 'already-consumed' | 'absent';

/** A value read from the store, with the consumed mark it carries. */
export interface StoredEntry<T> {
  value: T;
  consumed: boolean;
  /** When it was consumed, in seconds since the epoch (absent for values consumed before this was kept). */
  consumedAt?: number;
}

/** A stored value's address: the namespace and the secret only its holder knows. */
export interface EntryRef {
  namespace: string;
  secret: string;
}

/** A value known by its slot only: one holder of a group may end another member it cannot open. */
export interface SlotRef {
  namespace: string;
  slot: string;
}

/** One member of a group, as {@link SealedStore.members} lists it. */
export interface GroupMember<T> {
  id: string;
  value: T;
  /** Epoch milliseconds after which the member is gone. */
  expiresAt: number;
}

const SLOT = /^[A-Za-z0-9_-]{43}$/;
const MEMBER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Flag byte in front of every sealed value, so consume can flip it atomically without opening it. */
export const FRESH = 0x30; // '0'
/** Consumed, with no time kept (values consumed by an earlier version): still read as consumed. */
export const CONSUMED = 0x31; // '1'
/** Consumed, and the time of consumption follows the sealed value as CONSUMED_AT_DIGITS ASCII digits. */
export const CONSUMED_AT = 0x32; // '2'
export const CONSUMED_AT_DIGITS = 12;

/** The suffix consume appends: the time in seconds, fixed width so the sealed value can be cut off it. */
export function consumedAtSuffix(nowMs: number): string {
  return String(Math.floor(nowMs / 1000)).padStart(CONSUMED_AT_DIGITS, '0');
}

const JSON_TAG = 0x6a; // 'j'
const BYTES_TAG = 0x62; // 'b'
/** Longest TTL accepted by put: 400 days. Callers set their own, shorter ceilings. */
export const MAX_TTL_SECONDS = 400 * 24 * 3600;

/**
 * The sealed store port. Values are encrypted with a key derived from their secret and stored under an
 * irreversible slot, always with a TTL; the backends only ever see slots and ciphertexts.
 *
 * Subclasses implement the raw operations on opaque keys and bytes; this class owns every use of the
 * envelope so that all backends encrypt identically.
 */
export abstract class SealedStore {
  protected constructor(protected readonly envelope: Envelope) {}

  /**
   * The irreversible slot of (namespace, secret), as this store computes it: for callers that key caches, locks
   * or invalidations by it (it names an entry without revealing the secret).
   */
  slotOf(namespace: string, secret: string): string {
    return this.envelope.slotOf(namespace, secret);
  }

  /** Seals and stores a value under (namespace, secret) for ttlSeconds, replacing any previous value. */
  async put(namespace: string, secret: string, value: StoreValue, ttlSeconds: number): Promise<void> {
    const ttlMs = ttlToMs(ttlSeconds);
    const key = this.keyOf(namespace, secret);
    await this.rawSet(key, this.sealAt(key, namespace, secret, value, FRESH), ttlMs);
  }

  /**
   * The value stored under (namespace, secret), or undefined when absent, expired or not openable. A caller
   * that has computed the secret's slot already may pass it to save computing it again; a wrong one finds
   * nothing (the slot is authenticated with the value).
   */
  async get<T = StoreValue>(namespace: string, secret: string, slot?: string): Promise<T | undefined> {
    return (await this.getEntry<T>(namespace, secret, slot))?.value;
  }

  /** Like {@link get}, with the consumed mark. */
  async getEntry<T = StoreValue>(
    namespace: string,
    secret: string,
    slot?: string,
  ): Promise<StoredEntry<T> | undefined> {
    const key = this.keyOf(namespace, secret, slot);
    const raw = await this.rawGet(key);
    if (raw === undefined) return undefined;
    if (raw[0] !== CONSUMED_AT) {
      const value = this.openAt<T>(key, namespace, secret, raw);
      return value === undefined ? undefined : { value: value.value, consumed: raw[0] === CONSUMED };
    }
    if (raw.length <= 1 + CONSUMED_AT_DIGITS) return undefined;
    const cut = raw.length - CONSUMED_AT_DIGITS;
    const value = this.openAt<T>(key, namespace, secret, raw.subarray(0, cut));
    const consumedAt = Number(raw.toString('latin1', cut));
    if (value === undefined) return undefined;
    return Number.isSafeInteger(consumedAt)
      ? { value: value.value, consumed: true, consumedAt }
      : { value: value.value, consumed: true };
  }

  /** Deletes the value; true when something was deleted. */
  async destroy(namespace: string, secret: string): Promise<boolean> {
    return (await this.rawDelete([this.keyOf(namespace, secret)])) > 0;
  }

  /** Seconds a value known by its slot has left to live, or undefined when absent. */
  async slotTtl(ref: SlotRef): Promise<number | undefined> {
    const ms = await this.rawTtl(this.slotKeyOf(ref));
    return ms === undefined ? undefined : Math.ceil(ms / 1000);
  }

  /** Deletes a value known by its slot (its secret is another holder's); true when something was deleted. */
  async destroySlot(ref: SlotRef): Promise<boolean> {
    return (await this.rawDelete([this.slotKeyOf(ref)])) > 0;
  }

  /**
   * Gives an existing value a new TTL without rewriting it (a sliding idle timeout): it cannot bring back a
   * value destroyed meanwhile, nor undo a concurrent put. False when there was nothing to touch.
   */
  async touch(namespace: string, secret: string, ttlSeconds: number): Promise<boolean> {
    return this.rawTouch(this.keyOf(namespace, secret), ttlToMs(ttlSeconds));
  }

  /** Marks the value consumed, atomically: of any number of concurrent callers exactly one wins. */
  async consume(namespace: string, secret: string): Promise<ConsumeOutcome> {
    return this.rawConsume(this.keyOf(namespace, secret));
  }

  /** Seconds the value has left to live, or undefined when absent. */
  async ttl(namespace: string, secret: string): Promise<number | undefined> {
    const ms = await this.rawTtl(this.keyOf(namespace, secret));
    return ms === undefined ? undefined : Math.ceil(ms / 1000);
  }

  /**
   * Records that `member` belongs to the group named by (indexNamespace, indexSecret), e.g. a token of a
   * grant or a session of a user. The index holds only slots and lives as long as its longest member.
   */
  async addToIndex(
    indexNamespace: string,
    indexSecret: string,
    member: EntryRef,
    ttlSeconds: number,
  ): Promise<void> {
    await this.rawIndexAdd(
      this.indexKeyOf(indexNamespace, indexSecret),
      this.keyOf(member.namespace, member.secret),
      ttlToMs(ttlSeconds),
    );
  }

  /** Removes one member from an index (when the member itself is destroyed). */
  async removeFromIndex(
    indexNamespace: string,
    indexSecret: string,
    member: EntryRef | SlotRef,
  ): Promise<void> {
    await this.rawIndexRemove(
      this.indexKeyOf(indexNamespace, indexSecret),
      'slot' in member ? this.slotKeyOf(member) : this.keyOf(member.namespace, member.secret),
    );
  }

  /**
   * Keeps `value` as member `id` of the group named by (namespace, secret), e.g. one session among a user's
   * sessions, sealed with the group's key (derived from its secret) and bound to its id, for ttlSeconds. Each member
   * is written on its own: two writers of two members never undo each other. The group lives as long as its longest
   * member.
   */
  async putMember(
    namespace: string,
    secret: string,
    id: string,
    value: StoreValue,
    ttlSeconds: number,
  ): Promise<void> {
    assertMemberId(id);
    const ttlMs = ttlToMs(ttlSeconds);
    const key = this.groupKeyOf(namespace, secret);
    const expiresAt = this.clock() + ttlMs;
    const sealed = this.sealAt(`${key}\u0000${id}`, namespace, secret, { v: value, e: expiresAt }, FRESH);
    await this.rawGroupSet(key, id, sealed, ttlMs);
  }

  /** The live members of a group (expired ones are dropped as they are found), or none. */
  async members<T = StoreValue>(namespace: string, secret: string): Promise<Array<GroupMember<T>>> {
    const key = this.groupKeyOf(namespace, secret);
    const now = this.clock();
    const found: Array<GroupMember<T>> = [];
    const stale: string[] = [];
    for (const [id, raw] of await this.rawGroupAll(key)) {
      const opened = this.openAt<{ v: T; e: number }>(`${key}\u0000${id}`, namespace, secret, raw)?.value;
      if (opened === undefined || typeof opened.e !== 'number' || opened.e <= now) stale.push(id);
      else found.push({ id, value: opened.v, expiresAt: opened.e });
    }
    if (stale.length > 0) await this.rawGroupDelete(key, stale);
    return found;
  }

  /** Removes one member of a group; true when it was there. */
  async removeMember(namespace: string, secret: string, id: string): Promise<boolean> {
    assertMemberId(id);
    return (await this.rawGroupDelete(this.groupKeyOf(namespace, secret), [id])) > 0;
  }

  /** Deletes every member of the index and the index itself; returns how many members were deleted. */
  async destroyIndex(indexNamespace: string, indexSecret: string): Promise<number> {
    return this.rawIndexDestroy(this.indexKeyOf(indexNamespace, indexSecret));
  }

  /**
   * Stores a sealed pointer: a value found by a second secret (a session by its uid, a device code by its
   * user code). The pointer holds the target's secret, encrypted under the pointer's own secret.
   */
  async putPointer(
    pointerNamespace: string,
    pointerSecret: string,
    target: EntryRef,
    ttlSeconds: number,
  ): Promise<void> {
    await this.put(pointerNamespace, pointerSecret, { n: target.namespace, s: target.secret }, ttlSeconds);
  }

  /** The target a pointer names, or undefined. */
  async followPointer(pointerNamespace: string, pointerSecret: string): Promise<EntryRef | undefined> {
    const ref = await this.get<{ n: string; s: string }>(pointerNamespace, pointerSecret);
    return ref && typeof ref.n === 'string' && typeof ref.s === 'string'
      ? { namespace: ref.n, secret: ref.s }
      : undefined;
  }

  /**
   * Deletes a pointer, but only while it still names `target`: a record that gave its uid or user code up to
   * another must not take the other's pointer along when it goes. Atomic against a concurrent putPointer:
   * only the very bytes that were read and checked are deleted. True when the pointer was deleted.
   */
  async destroyPointer(pointerNamespace: string, pointerSecret: string, target: EntryRef): Promise<boolean> {
    const key = this.keyOf(pointerNamespace, pointerSecret);
    const raw = await this.rawGet(key);
    if (raw === undefined) return false;
    const ref = this.openAt<{ n?: unknown; s?: unknown }>(key, pointerNamespace, pointerSecret, raw)?.value;
    if (ref?.n !== target.namespace || ref?.s !== target.secret) return false;
    return this.rawDeleteIfUnchanged(key, raw);
  }

  /**
   * Counts an event in a fixed window that starts at its first occurrence (login attempts per user or per
   * address) and returns the count including this one. Only the slot of (namespace, secret) is stored.
   */
  async increment(namespace: string, secret: string, windowSeconds: number): Promise<number> {
    return this.rawIncrement(this.counterKeyOf(namespace, secret), ttlToMs(windowSeconds));
  }

  /** The current count of a window, 0 when none is open. */
  async countOf(namespace: string, secret: string): Promise<number> {
    return this.rawCount(this.counterKeyOf(namespace, secret));
  }

  /** Closes a counting window (a successful login clears its failures). */
  async resetCount(namespace: string, secret: string): Promise<void> {
    await this.rawDelete([this.counterKeyOf(namespace, secret)]);
  }

  /** Resolves when the backend answers; rejects with StoreUnavailable otherwise. */
  abstract ping(): Promise<void>;
  /** Releases connections and timers. */
  abstract close(): Promise<void>;

  protected abstract rawSet(key: string, bytes: Buffer, ttlMs: number): Promise<void>;
  protected abstract rawGet(key: string): Promise<Buffer | undefined>;
  protected abstract rawDelete(keys: string[]): Promise<number>;
  /** Deletes the key only if it still holds exactly these bytes (sealed values never repeat: random IVs). */
  protected abstract rawDeleteIfUnchanged(key: string, bytes: Buffer): Promise<boolean>;
  protected abstract rawConsume(key: string): Promise<ConsumeOutcome>;
  protected abstract rawTtl(key: string): Promise<number | undefined>;
  protected abstract rawTouch(key: string, ttlMs: number): Promise<boolean>;
  protected abstract rawIndexAdd(indexKey: string, memberKey: string, ttlMs: number): Promise<void>;
  protected abstract rawIndexRemove(indexKey: string, memberKey: string): Promise<void>;
  protected abstract rawIndexDestroy(indexKey: string): Promise<number>;
  protected abstract rawIncrement(counterKey: string, windowMs: number): Promise<number>;
  /** Sets one field of a group; the group's TTL becomes at least ttlMs. */
  protected abstract rawGroupSet(
    groupKey: string,
    field: string,
    bytes: Buffer,
    ttlMs: number,
  ): Promise<void>;
  protected abstract rawGroupAll(groupKey: string): Promise<Map<string, Buffer>>;
  /** Deletes fields of a group; how many were there. */
  protected abstract rawGroupDelete(groupKey: string, fields: string[]): Promise<number>;
  protected abstract rawCount(counterKey: string): Promise<number>;

  /** The backend key of a value: namespace in clear (not secret, useful to operators), slot as hash tag. */
  protected keyOf(namespace: string, secret: string, slot?: string): string {
    assertSecret(secret);
    return `${namespace}:{${slot ?? this.envelope.slotOf(namespace, secret)}}`;
  }

  /** Epoch milliseconds, as the backend counts expiry (the memory store's clock may be a test's). */
  protected clock(): number {
    return Date.now();
  }

  protected slotKeyOf(ref: SlotRef): string {
    if (typeof ref.slot !== 'string' || !SLOT.test(ref.slot)) throw new StoreMisuse('slot must be a slot');
    return `${ref.namespace}:{${ref.slot}}`;
  }

  protected groupKeyOf(namespace: string, secret: string): string {
    assertSecret(secret);
    return `grp:${namespace}:{${this.envelope.slotOf(namespace, secret)}}`;
  }

  protected indexKeyOf(namespace: string, secret: string): string {
    assertSecret(secret);
    return `idx:${namespace}:{${this.envelope.slotOf(namespace, secret)}}`;
  }

  protected counterKeyOf(namespace: string, secret: string): string {
    assertSecret(secret);
    return `cnt:${namespace}:{${this.envelope.slotOf(namespace, secret)}}`;
  }

  private sealAt(key: string, namespace: string, secret: string, value: StoreValue, flag: number): Buffer {
    const plaintext = encode(value);
    const sealed = seal(this.envelope.keyOf(namespace, secret), plaintext, key);
    const out = Buffer.allocUnsafe(sealed.length + 1);
    out[0] = flag;
    sealed.copy(out, 1);
    return out;
  }

  private openAt<T>(key: string, namespace: string, secret: string, raw: Buffer): { value: T } | undefined {
    try {
      // The AAD is the key (slot included): a value copied to another slot does not open.
      const plaintext = open(this.envelope.keyOf(namespace, secret), raw.subarray(1), key);
      return { value: decode(plaintext) as T };
    } catch (error) {
      if (error instanceof SealedValueInvalid) return undefined;
      throw error;
    }
  }
}

function assertSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0 || secret.length > 4096) {
    throw new StoreMisuse('secret must be a non-empty string of at most 4096 characters');
  }
}

function assertMemberId(id: string): void {
  if (typeof id !== 'string' || !MEMBER_ID.test(id)) {
    throw new StoreMisuse('a member id is 1 to 64 base64url characters');
  }
}

function ttlToMs(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TTL_SECONDS) {
    throw new StoreMisuse(`ttlSeconds must be in (0, ${MAX_TTL_SECONDS}], got ${ttlSeconds}`);
  }
  return Math.ceil(ttlSeconds * 1000);
}

function encode(value: StoreValue): Buffer {
  if (value instanceof Uint8Array) return Buffer.concat([Buffer.of(BYTES_TAG), value]);
  const json = JSON.stringify(value);
  if (json === undefined) throw new StoreMisuse('value must be JSON-serialisable or bytes');
  const out = Buffer.allocUnsafe(1 + Buffer.byteLength(json));
  out[0] = JSON_TAG;
  out.write(json, 1, 'utf8');
  return out;
}

function decode(plaintext: Buffer): StoreValue {
  if (plaintext[0] === BYTES_TAG) return plaintext.subarray(1);
  return JSON.parse(plaintext.toString('utf8', 1));
}
