import type { Cluster, Redis } from 'ioredis';

/** `*` tells listeners to forget everything: invalidations may have been missed. */
export const INVALIDATE_ALL = '*';

/**
 * Carries cache invalidations (a session slot, or the key of an OIDC sid/sub) between gateway instances.
 * While `live` is false, messages from other instances may be missed, so caches must not serve.
 */
export abstract class InvalidationBus {
  private readonly listeners: Array<(message: string) => void> = [];

  abstract get live(): boolean;
  abstract publish(message: string): Promise<void>;
  abstract start(): Promise<void>;
  abstract close(): Promise<void>;

  onMessage(listener: (message: string) => void): void {
    this.listeners.push(listener);
  }

  protected emit(message: string): void {
    for (const listener of this.listeners) listener(message);
  }
}

/** One instance, nobody else to tell: messages go straight to local listeners. */
export class LocalInvalidationBus extends InvalidationBus {
  get live(): boolean {
    return true;
  }

  async publish(message: string): Promise<void> {
    this.emit(message);
  }

  async start(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * Redis pub/sub. The subscriber has its own connection; the bus is live only between a confirmed
 * SUBSCRIBE and the next disconnect, and every disconnect tells listeners to forget everything. A
 * heartbeat catches what TCP does not report quickly (a silent partition): an unanswered PING counts as
 * a disconnect.
 */
export class RedisInvalidationBus extends InvalidationBus {
  private subscribed = false;
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly publisher: Redis | Cluster,
    private readonly subscriber: Redis | Cluster,
    private readonly channel: string,
    heartbeatMs = 1000,
  ) {
    super();
    this.heartbeat = setInterval(() => void this.beat(heartbeatMs), heartbeatMs);
    this.heartbeat.unref();
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.emit(message);
    });
    const lost = () => {
      if (this.subscribed) this.emit(INVALIDATE_ALL);
      this.subscribed = false;
    };
    subscriber.on('close', lost);
    subscriber.on('reconnecting', lost);
    subscriber.on('end', lost);
    subscriber.on('ready', () => {
      if (!this.closed && !this.subscribed) void this.subscribe();
    });
  }

  get live(): boolean {
    return this.subscribed;
  }

  async publish(message: string): Promise<void> {
    // Best effort: a failed publish leaves other instances' caches to their age bound.
    await this.publisher.publish(this.channel, message).catch(() => undefined);
  }

  async start(): Promise<void> {
    if (this.subscriber.status === 'wait') await this.subscriber.connect().catch(() => undefined);
    else if (this.subscriber.status === 'ready') await this.subscribe();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribed = false;
    clearInterval(this.heartbeat);
    this.subscriber.disconnect();
  }

  private async beat(timeoutMs: number): Promise<void> {
    if (this.closed || this.subscriber.status !== 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      this.subscriber.ping().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!answered && this.subscribed) {
      this.subscribed = false;
      this.emit(INVALIDATE_ALL);
    } else if (answered && !this.subscribed && !this.closed) {
      await this.subscribe();
    }
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel);
      // Anything cached before this point may have missed a message.
      this.emit(INVALIDATE_ALL);
      this.subscribed = !this.closed;
    } catch {
      this.subscribed = false;
    }
  }
}
