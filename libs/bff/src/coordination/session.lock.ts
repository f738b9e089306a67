import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailable } from '@cloakroom/sealed-store';

/** A lock held by this process. Its lease is renewed until it is released. */
export interface HeldLock {
  /** True once a renewal found the lease gone (this process stalled longer than the lease). */
  readonly lost: boolean;
  release(): Promise<void>;
}

/**
 * Mutual exclusion per session across gateway instances, so one refresh token is redeemed once. The port is
 * the injection token; the backend matches the store's (Redis for a fleet, in-process for one instance).
 */
export abstract class SessionLock {
  /** Takes the lock if it is free; undefined when another holder has it. Never waits. */
  abstract tryAcquire(name: string): Promise<HeldLock | undefined>;
  abstract close(): Promise<void>;
}

/** For a single instance (the memory store): a set of names. */
export class LocalSessionLock extends SessionLock {
  private readonly held = new Set<string>();

  async tryAcquire(name: string): Promise<HeldLock | undefined> {
    if (this.held.has(name)) return undefined;
    this.held.add(name);
    let released = false;
    return {
      lost: false,
      release: async () => {
        if (released) return;
        released = true;
        this.held.delete(name);
      },
    };
  }

  async close(): Promise<void> {
    this.held.clear();
  }
}

// Renew or release only a lease that is still ours: a stalled holder must not extend or free a successor's.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type LockClient = (Redis | Cluster) & {
  cloakroomLockRenew(key: string, token: string, leaseMs: number): Promise<number>;
  cloakroomLockRelease(key: string, token: string): Promise<number>;
};

export interface RedisSessionLockOptions {
  /** Prefix of the lock keys (the deployment's key prefix). */
  keyPrefix: string;
  /** Lease of a lock; renewed every third of it while held. */
  leaseMs: number;
}

/** `SET NX PX` with a random token, a renewed lease, and compare-and-delete on release. */
export class RedisSessionLock extends SessionLock {
  private readonly client: LockClient;

  constructor(
    client: Redis | Cluster,
    private readonly options: RedisSessionLockOptions,
  ) {
    super();
    client.defineCommand('cloakroomLockRenew', { numberOfKeys: 1, lua: RENEW });
    client.defineCommand('cloakroomLockRelease', { numberOfKeys: 1, lua: RELEASE });
    this.client = client as LockClient;
  }

  async tryAcquire(name: string): Promise<HeldLock | undefined> {
    // The name is a slot (a hash), used as the hash tag so Cluster keeps the lock next to nothing in particular.
    const key = `${this.options.keyPrefix}lock:gateway.session:{${name}}`;
    const token = randomBytes(16).toString('base64url');
    const { leaseMs } = this.options;
    const ok = await redisCall(() => this.client.set(key, token, 'PX', leaseMs, 'NX'));
    if (ok !== 'OK') return undefined;
    let lost = false;
    const renewer = setInterval(
      () => {
        this.client.cloakroomLockRenew(key, token, leaseMs).then(
          (renewed) => {
            if (renewed === 0) lost = true;
          },
          () => undefined,
        );
      },
      Math.max(10, Math.floor(leaseMs / 3)),
    );
    renewer.unref();
    let released = false;
    return {
      get lost() {
        return lost;
      },
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renewer);
        // A failed release is harmless: the lease expires on its own.
        await this.client.cloakroomLockRelease(key, token).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {}
}

async function redisCall<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    throw new StoreUnavailable('Redis is not reachable', { cause: error });
  }
}
