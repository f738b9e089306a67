import { isIPv4, isIPv6 } from 'node:net';
import type { SealedStore } from '@cloakroom/sealed-store';

export interface FailureThrottleSettings {
  /** Failures of one name (user, client) from one address before that address is refused for that name. */
  maxFailuresPerAddress: number;
  /** Window of the per-(name, address) count, in seconds, from its first failure. */
  addressWindowSeconds: number;
  /** Failures of one name from anywhere after which each attempt waits, the wait doubling each time. */
  delayAfterFailures: number;
  delayBaseMs: number;
  delayMaxMs: number;
  /** Window of the per-name count, in seconds, from its first failure. */
  windowSeconds: number;
}

/** Too many failures for this name from this address: come back in retryAfterSeconds. */
export class Throttled extends Error {
  override readonly name = 'Throttled';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failures; retry in ${retryAfterSeconds} seconds`);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Counts failed attempts of a name (a username, a client id) in fixed windows of the sealed store, two ways:
 *
 * - per (name, address): over the limit, that address is refused for that name. It locks out a guesser, not
 *   the name's owner, who signs in from elsewhere.
 * - per name, from anywhere: over the limit, attempts wait, longer each time up to a cap, but are never
 *   refused: many addresses guessing one name are slowed down, and no one can lock the name itself.
 *
 * Two ways to count, for two kinds of callers:
 *
 * - {@link admit} (passwords) counts every attempt when it is admitted, before the secret is checked,
 *   atomically: concurrent guesses cannot all slip under the limit, and a refused one computes no hash. One
 *   person does not sign in many times at once, so honest attempts never pile up; a success clears both.
 * - {@link check} then {@link failed} (client secrets) count failures only, after the check: a client making
 *   a hundred authentications at once from one address is never counted, and only a wrong secret waits.
 */
export class FailureThrottle {
  constructor(
    private readonly store: SealedStore,
    private readonly namespace: string,
    private readonly settings: FailureThrottleSettings,
    private readonly wait: (ms: number) => Promise<void> = sleep,
  ) {}

  /** Counts one attempt: throws Throttled when the address is locked out for the name, else waits if due. */
  async admit(name: string, address: string): Promise<void> {
    const { maxFailuresPerAddress, addressWindowSeconds, windowSeconds } = this.settings;
    const pair = pairOf(name, address);
    const pairCount = await countIn(this.store, `${this.namespace}-pair`, pair, addressWindowSeconds);
    if (pairCount > maxFailuresPerAddress) {
      throw new Throttled(await retryAfter(this.store, `${this.namespace}-pair`, pair, addressWindowSeconds));
    }
    const count = await countIn(this.store, `${this.namespace}-name`, name, windowSeconds);
    const delay = this.delayFor(count);
    if (delay > 0) await this.wait(delay);
  }

  /**
   * Counts nothing: throws Throttled when the address has used up its failures for the name, else returns
   * how many it has (a success need not clear a count of 0).
   */
  async check(name: string, address: string): Promise<number> {
    const { maxFailuresPerAddress, addressWindowSeconds } = this.settings;
    const pair = pairOf(name, address);
    const failures = await this.store.countOf(`${this.namespace}-pair`, pair);
    if (failures >= maxFailuresPerAddress) {
      throw new Throttled(await retryAfter(this.store, `${this.namespace}-pair`, pair, addressWindowSeconds));
    }
    return failures;
  }

  /** Counts one failure, then waits as long as the name's failures from anywhere call for. */
  async failed(name: string, address: string): Promise<void> {
    const { addressWindowSeconds, windowSeconds } = this.settings;
    const [, count] = await Promise.all([
      countIn(this.store, `${this.namespace}-pair`, pairOf(name, address), addressWindowSeconds),
      countIn(this.store, `${this.namespace}-name`, name, windowSeconds),
    ]);
    const delay = this.delayFor(count);
    if (delay > 0) await this.wait(delay);
  }

  /** The wait before the attempt that brings the name's count to `count`. */
  delayFor(count: number): number {
    const { delayAfterFailures, delayBaseMs, delayMaxMs } = this.settings;
    if (count <= delayAfterFailures) return 0;
    return Math.min(delayMaxMs, delayBaseMs * 2 ** Math.min(30, count - delayAfterFailures - 1));
  }

  /**
   * The right secret: this address's failures for the name are forgiven, and with `everywhere` the name's
   * failures from anywhere too (a person signing in; not a client, whose every success would erase the
   * traces of a distributed guesser).
   */
  async succeeded(name: string, address: string, everywhere = true): Promise<void> {
    await Promise.all([
      this.store.resetCount(`${this.namespace}-pair`, pairOf(name, address)),
      everywhere ? this.store.resetCount(`${this.namespace}-name`, name) : undefined,
    ]);
  }
}

/** Counts one event in a fixed window; the first event opens the window, whose twin entry answers Retry-After. */
export async function countIn(
  store: SealedStore,
  namespace: string,
  secret: string,
  windowSeconds: number,
): Promise<number> {
  const count = await store.increment(namespace, secret, windowSeconds);
  if (count === 1) await store.put(`${namespace}-window`, secret, 0, windowSeconds);
  return count;
}

/** Seconds left in the window of a count opened by {@link countIn}. */
export async function retryAfter(
  store: SealedStore,
  namespace: string,
  secret: string,
  windowSeconds: number,
): Promise<number> {
  const left = await store.ttl(`${namespace}-window`, secret);
  return Math.max(1, Math.min(left ?? windowSeconds, windowSeconds));
}

function pairOf(name: string, address: string): string {
  return `${name}\u0000${addressBucket(address)}`;
}

/**
 * The address an attempt is counted against: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its /64,
 * since one subscriber usually holds a whole /64.
 */
export function addressBucket(address: string): string {
  const ip = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(ip)) return ip;
  if (isIPv6(ip)) return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
  return ip.length > 0 && ip.length <= 256 ? `other:${ip}` : 'unknown';
}

function expandIPv6(ip: string): string[] {
  let text = ip.split('%')[0];
  // A trailing dotted quad stands for the last two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((group) => parseInt(group, 16).toString(16));
}
