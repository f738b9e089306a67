import { Cluster } from 'ioredis';
import type { Envelope } from '@cloakroom/envelope';
import { StoreUnavailable } from './errors.js';
import { createRedisClient } from './redis-connection.js';
import type { RedisClient, RedisConnection } from './redis-connection.js';
import { SealedStore, consumedAtSuffix } from './sealed.store.js';
import type { ConsumeOutcome } from './sealed.store.js';

export interface RedisSealedStoreOptions {
  connection: RedisConnection;
  /** Prepended to every key, so deployments can share one Redis. */
  keyPrefix?: string;
}

// Atomic test-and-set on the flag byte, with the time of consumption appended; SETRANGE and APPEND keep the
// key's TTL.
const CONSUME = `
local f = redis.call('GETRANGE', KEYS[1], 0, 0)
if f == '' then return -1 end
if f ~= '0' then return 0 end
redis.call('SETRANGE', KEYS[1], 0, '2')
redis.call('APPEND', KEYS[1], ARGV[1])
return 1`;

// Compare-and-delete: a value rewritten since it was read is kept.
const DELETE_IF_UNCHANGED = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// An index lives as long as its longest member.
const INDEX_ADD = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// A group lives as long as its longest member.
const GROUP_SET = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`;

// A fixed window: the first increment sets the expiry, later ones keep it.
const INCREMENT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

type ScriptClient = RedisClient & {
  cloakroomConsume(key: string, consumedAt: string): Promise<number>;
  cloakroomDeleteIfUnchanged(key: string, bytes: Buffer): Promise<number>;
  cloakroomIndexAdd(key: string, member: string, ttlMs: number): Promise<number>;
  cloakroomIncrement(key: string, windowMs: number): Promise<number>;
  cloakroomGroupSet(key: string, field: string, bytes: Buffer, ttlMs: number): Promise<number>;
};

/** The sealed store on Redis: every key with a TTL, atomic operations in Lua, slots as hash tags. */
export class RedisSealedStore extends SealedStore {
  readonly client: RedisClient;
  private readonly prefix: string;
  private connecting?: Promise<void>;
  /** Why the last connection attempt failed, in words of our own; cleared once connected. */
  private connectionProblem?: string;

  constructor(envelope: Envelope, options: RedisSealedStoreOptions) {
    super(envelope);
    this.prefix = options.keyPrefix ?? 'cloakroom:';
    this.client = createRedisClient(options.connection);
    // Connection errors surface as StoreUnavailable on each command, described by the last one seen; the
    // event itself must not crash.
    const note = (error: unknown) => (this.connectionProblem = connectionProblem(error));
    this.client.on('error', note);
    if (this.client instanceof Cluster) this.client.on('node error', note);
    this.client.on('ready', () => (this.connectionProblem = undefined));
    this.client.defineCommand('cloakroomConsume', { numberOfKeys: 1, lua: CONSUME });
    this.client.defineCommand('cloakroomDeleteIfUnchanged', { numberOfKeys: 1, lua: DELETE_IF_UNCHANGED });
    this.client.defineCommand('cloakroomIndexAdd', { numberOfKeys: 1, lua: INDEX_ADD });
    this.client.defineCommand('cloakroomIncrement', { numberOfKeys: 1, lua: INCREMENT });
    this.client.defineCommand('cloakroomGroupSet', { numberOfKeys: 1, lua: GROUP_SET });
  }

  /**
   * Connects (once); later calls resolve immediately. Commands issued before connect fail fast. The first
   * failed attempt rejects, while the client keeps retrying with its back-off: with no sentinel answering,
   * ioredis' own promise would wait for one indefinitely.
   */
  connect(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    this.connecting ??= new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: unknown) => {
        if (settled) return;
        settled = true;
        this.client.off('error', settle);
        this.client.off('ready', ready);
        if (error === undefined) return resolve();
        this.connecting = undefined;
        // No `cause`: ioredis attaches the failed command's arguments to its errors, AUTH's password among them.
        reject(
          new StoreUnavailable(
            `cannot connect to Redis: ${this.connectionProblem ?? connectionProblem(error)}`,
          ),
        );
      };
      const ready = () => settle();
      this.client.on('error', settle);
      this.client.on('ready', ready);
      // Otherwise already (re)connecting after an earlier failure: wait for that attempt.
      if (this.client.status === 'wait' || this.client.status === 'end') this.client.connect().catch(settle);
    });
    return this.connecting;
  }

  async ping(): Promise<void> {
    await this.call(() => this.client.ping());
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }

  /** The full key in Redis for a store key. */
  redisKey(key: string): string {
    return this.prefix + key;
  }

  protected async rawSet(key: string, bytes: Buffer, ttlMs: number): Promise<void> {
    await this.call(() => this.client.set(this.redisKey(key), bytes, 'PX', ttlMs));
  }

  protected async rawGet(key: string): Promise<Buffer | undefined> {
    const value = await this.call(() => this.client.getBuffer(this.redisKey(key)));
    return value ?? undefined;
  }

  protected async rawDelete(keys: string[]): Promise<number> {
    // One DEL per key: keys of different slots may live on different Cluster nodes.
    const counts = await this.call(() => Promise.all(keys.map((key) => this.client.del(this.redisKey(key)))));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  protected async rawDeleteIfUnchanged(key: string, bytes: Buffer): Promise<boolean> {
    return (await this.call(() => this.scripts.cloakroomDeleteIfUnchanged(this.redisKey(key), bytes))) === 1;
  }

  protected async rawConsume(key: string): Promise<ConsumeOutcome> {
    const at = consumedAtSuffix(Date.now());
    const result = await this.call(() => this.scripts.cloakroomConsume(this.redisKey(key), at));
    return result === 1 ? 'consumed' : result === 0 ? 'already-consumed' : 'absent';
  }

  protected async rawTtl(key: string): Promise<number | undefined> {
    const ms = await this.call(() => this.client.pttl(this.redisKey(key)));
    return ms < 0 ? undefined : ms;
  }

  protected async rawTouch(key: string, ttlMs: number): Promise<boolean> {
    return (await this.call(() => this.client.pexpire(this.redisKey(key), ttlMs))) === 1;
  }

  protected async rawIndexAdd(indexKey: string, memberKey: string, ttlMs: number): Promise<void> {
    await this.call(() => this.scripts.cloakroomIndexAdd(this.redisKey(indexKey), memberKey, ttlMs));
  }

  protected async rawIndexRemove(indexKey: string, memberKey: string): Promise<void> {
    await this.call(() => this.client.srem(this.redisKey(indexKey), memberKey));
  }

  protected async rawIndexDestroy(indexKey: string): Promise<number> {
    const members = await this.call(() => this.client.smembers(this.redisKey(indexKey)));
    const deleted = await this.rawDelete(members);
    await this.rawDelete([indexKey]);
    return deleted;
  }

  protected async rawIncrement(counterKey: string, windowMs: number): Promise<number> {
    return this.call(() => this.scripts.cloakroomIncrement(this.redisKey(counterKey), windowMs));
  }

  protected async rawGroupSet(groupKey: string, field: string, bytes: Buffer, ttlMs: number): Promise<void> {
    await this.call(() => this.scripts.cloakroomGroupSet(this.redisKey(groupKey), field, bytes, ttlMs));
  }

  protected async rawGroupAll(groupKey: string): Promise<Map<string, Buffer>> {
    const all = await this.call(() => this.client.hgetallBuffer(this.redisKey(groupKey)));
    return new Map(Object.entries(all));
  }

  protected async rawGroupDelete(groupKey: string, fields: string[]): Promise<number> {
    return this.call(() => this.client.hdel(this.redisKey(groupKey), ...fields));
  }

  protected async rawCount(counterKey: string): Promise<number> {
    const value = await this.call(() => this.client.get(this.redisKey(counterKey)));
    return value === null ? 0 : Number(value);
  }

  private get scripts(): ScriptClient {
    return this.client as ScriptClient;
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    if (this.client.status === 'wait') await this.connect();
    try {
      return await command();
    } catch (error) {
      if (isReplyError(error) && !REFUSED.test(messageOf(error))) throw error;
      throw new StoreUnavailable(this.reasonFor(error));
    }
  }

  private reasonFor(error: unknown): string {
    if (TIMED_OUT.test(messageOf(error))) return 'Redis did not answer in time';
    if (isReplyError(error)) return connectionProblem(error);
    return this.connectionProblem ?? connectionProblem(error);
  }
}

const TIMED_OUT = /timed? ?out/i;
// Replies that mean this deployment may not use Redis as configured: unavailable (503), not a bug (500).
const REFUSED = /^(WRONGPASS|NOAUTH|NOPERM)\b/;

function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What went wrong with a Redis connection, in words of our own that quote nothing from the error: ioredis
 * errors carry the failed command's arguments (HELLO and AUTH with the password), TLS errors the peer's
 * certificate. Only an error code that looks like one (ECONNREFUSED, SELF_SIGNED_CERT_IN_CHAIN) is kept.
 */
export function connectionProblem(error: unknown): string {
  const lastNodeError = (error as { lastNodeError?: unknown } | undefined)?.lastNodeError;
  if (lastNodeError) return connectionProblem(lastNodeError); // Cluster: the node's own reason
  const message = messageOf(error);
  const raw = (error as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'string' && /^[A-Z0-9_]{1,64}$/.test(raw) ? raw : undefined;
  const who = /sentinel/i.test(message) ? 'the sentinels' : 'Redis';
  if (/\b(WRONGPASS|NOAUTH)\b|invalid (username-)?password/i.test(message)) {
    return `${who} refused the user name or password`;
  }
  if (/\bNOPERM\b/.test(message))
    return 'the Redis user lacks a permission the store needs (NOPERM): check its ACL';
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_|^ERR_TLS_|^ERR_SSL_|^ERR_OSSL_/.test(code)) {
    return `the TLS handshake with ${who} failed (${code})`;
  }
  if (/certificate|handshake|\bssl\b|\btls\b/i.test(message)) return `the TLS handshake with ${who} failed`;
  if (TIMED_OUT.test(message) || code === 'ETIMEDOUT') return `${who} did not answer in time`;
  if (/All sentinels are unreachable/.test(message)) return 'no sentinel answers';
  return code && code.startsWith('E') ? `Redis is not reachable (${code})` : 'Redis is not reachable';
}
