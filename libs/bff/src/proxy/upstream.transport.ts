import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { UpstreamFailed } from '../errors.js';

export interface UpstreamTransportOptions {
  /** Longest time from handing a request over to receiving the response head, waiting for a connection included. */
  headTimeoutMs: number;
  /** Longest silence within a response body once the head has arrived. */
  bodyIdleTimeoutMs: number;
  /** The same for an event stream (`text/event-stream`), which may stay quiet for long by design; 0: no limit. */
  streamIdleTimeoutMs: number;
  connectTimeoutMs: number;
  /** Connections one session may hold to one upstream; further requests of that session wait their turn. */
  connectionsPerSession: number;
  /** Sessions that keep their own connections; beyond this the least recently active gives them up. */
  sessionPools: number;
}

export interface UpstreamRequest {
  upstream: URL;
  /** Who the request is for: connections are never shared across owners (see {@link UpstreamTransport}). */
  owner: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Readable | null;
}

/** Called with the upstream's socket once it switched protocols (101); the caller owns the socket from then on. */
export type UpgradeHandler = (headers: IncomingHttpHeaders, socket: Duplex) => void;

/** Turns the upstream's status and header fields into what the client receives. */
export type ResponseShaper = (
  status: number,
  headers: Record<string, string | string[] | undefined>,
) => OutgoingHttpHeaders;

/**
 * Upstream requests over undici (llhttp validates and frames every response). Keep-alive connections belong to one
 * session: an upstream that sends bytes after a complete response (a second response, a body after a 204 or a HEAD
 * answer) makes HTTP/1.1 hand them to whatever request is sent next on that connection, and no client can tell them
 * apart from the real answer; when that next request can only be the same session's, nobody receives another
 * user's data.
 */
export class UpstreamTransport {
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  constructor(private readonly options: UpstreamTransportOptions) {}

  /**
   * Sends the request and relays the answer into `res`. Resolves with the status once the head is relayed (with the
   * first body bytes, so a body that is malformed from its start still gets a clean 502); rejects with
   * {@link UpstreamFailed} when nothing was relayed. Failures after that cut the client's connection.
   */
  forward(request: UpstreamRequest, res: ServerResponse, shape: ResponseShaper): Promise<number> {
    return new Promise((resolve, reject) => {
      const pool = this.pool(request.upstream.origin, request.owner);
      const options: Dispatcher.DispatchOptions = {
        path: request.path,
        method: request.method as Dispatcher.HttpMethod,
        headers: request.headers,
        body: request.body,
      };
      const relay: ResponseRelay = new ResponseRelay(res, shape, this.options, resolve, reject);
      // A keep-alive connection the upstream closed as the request went out: HTTP/1.1 lets an idempotent request
      // without a body go once more, on another connection of the same pool (so still the same owner's).
      if (request.body === null && IDEMPOTENT.has(request.method))
        relay.retry = () => pool.dispatch(options, relay);
      pool.dispatch(options, relay);
    });
  }

  /**
   * Asks the upstream to switch to the WebSocket protocol, under the same deadlines as {@link forward}. Resolves with
   * 101 once `upgraded` has the upstream's socket (nothing is written to `res` then); any other answer is relayed into
   * `res` as {@link forward} would, and failures reject the same way.
   */
  upgrade(
    request: Omit<UpstreamRequest, 'method' | 'body'>,
    res: ServerResponse,
    shape: ResponseShaper,
    upgraded: UpgradeHandler,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      const pool = this.pool(request.upstream.origin, request.owner);
      const relay = new ResponseRelay(res, shape, this.options, resolve, reject);
      relay.upgraded = upgraded;
      pool.dispatch(
        { path: request.path, method: 'GET', headers: request.headers, body: null, upgrade: 'websocket' },
        relay,
      );
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }

  private pool(origin: string, owner: string): Pool {
    const key = `${owner} ${origin}`;
    let pool = this.pools.get(key);
    if (pool !== undefined) {
      // Most recently used last: the first entry is the one to give up.
      this.pools.delete(key);
      this.pools.set(key, pool);
      return pool;
    }
    if (this.closed) throw new UpstreamFailed(502, 'gateway_closing');
    pool = new Pool(origin, {
      connections: this.options.connectionsPerSession,
      pipelining: 1,
      // undici's own timers restart on every byte; ResponseRelay's deadline is the one that holds. Body silence is
      // timed by ResponseRelay too: its limit depends on the content type, which undici's timer cannot know.
      headersTimeout: this.options.headTimeoutMs,
      bodyTimeout: 0,
      connect: { timeout: this.options.connectTimeoutMs },
    });
    this.pools.set(key, pool);
    if (this.pools.size > this.options.sessionPools) {
      const [oldestKey, oldest] = this.pools.entries().next().value!;
      this.pools.delete(oldestKey);
      void oldest.close(); // lets its requests in flight finish
    }
    return pool;
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The connection failed before any byte of an answer: nothing was seen, sending again is safe. */
const CONNECTION_LOST = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

const EVENT_STREAM = /^\s*text\/event-stream\s*(;|$)/i;

/**
 * One exchange: a hard deadline for the head, the head held back until the first body bytes (except an event
 * stream's, sent at once: its client waits for it and the first event may be long in coming), a body idle limit,
 * backpressure.
 */
class ResponseRelay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private head: OutgoingHttpHeaders | undefined;
  private committed = false;
  private failure: UpstreamFailed | undefined;
  private readonly timer: NodeJS.Timeout;
  private idle: NodeJS.Timeout | undefined;
  private idleMs = 0;
  /** Sends the request again, at most once. */
  retry: (() => void) | undefined;
  /** Set for a WebSocket handshake. */
  upgraded: UpgradeHandler | undefined;
  private switched = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly shape: ResponseShaper,
    private readonly timeouts: UpstreamTransportOptions,
    private readonly resolve: (status: number) => void,
    private readonly reject: (error: UpstreamFailed) => void,
  ) {
    const headTimeoutMs = timeouts.headTimeoutMs;
    this.timer = setTimeout(
      () =>
        this.fail(
          new UpstreamFailed(504, this.controller ? 'response_head_timeout' : 'no_connection_in_time'),
        ),
      headTimeoutMs,
    );
    // A client that leaves frees its upstream connection too, whether or not the answer had started.
    res.once('close', () => {
      clearTimeout(this.idle);
      if (res.writableFinished || this.switched) return;
      if (this.committed) this.controller?.abort(new UpstreamFailed(502, 'client_gone'));
      else this.fail(new UpstreamFailed(502, 'client_gone'));
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Timed out while waiting for a connection: do not send it at all.
    if (this.failure) controller.abort(this.failure);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.failure || status < 200) return; // interim answers (103) are not relayed
    // The upstream (or a proxy before it) refused the gateway's own request headers: not the client's fault.
    if (status === 431) return this.fail(new UpstreamFailed(502, 'request_headers_refused'));
    clearTimeout(this.timer);
    this.status = status;
    this.head = this.shape(status, headers);
    const stream = EVENT_STREAM.test(String(headers['content-type'] ?? ''));
    this.idleMs = stream ? this.timeouts.streamIdleTimeoutMs : this.timeouts.bodyIdleTimeoutMs;
    this.armIdle();
    // Not held back: Node would keep the head until the first write, and proxies in front buffer what is not flushed.
    if (stream && this.commit()) this.res.flushHeaders();
  }

  onRequestUpgrade(
    _controller: Dispatcher.DispatchController,
    _status: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    clearTimeout(this.timer);
    if (this.failure || this.upgraded === undefined) {
      socket.destroy();
      return;
    }
    this.switched = true;
    this.upgraded(headers, socket);
    this.resolve(101);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.failure || !this.commit()) return;
    this.idle?.refresh();
    if (!this.res.write(chunk)) {
      // A client slow to read is no silence of the upstream's.
      clearTimeout(this.idle);
      controller.pause();
      this.res.once('drain', () => {
        this.armIdle();
        controller.resume();
      });
    }
  }

  onResponseEnd(): void {
    clearTimeout(this.idle);
    if (this.failure || !this.commit()) return;
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.failure) return;
    const retry = this.retry;
    if (retry && this.status === 0 && CONNECTION_LOST.has((error as { code?: string }).code ?? '')) {
      this.retry = undefined;
      this.controller = undefined;
      retry();
      return;
    }
    clearTimeout(this.timer);
    clearTimeout(this.idle);
    if (this.committed) {
      this.failure = new UpstreamFailed(502, 'response_cut');
      this.res.destroy();
      return;
    }
    this.fail(UpstreamFailed.from(error));
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    if (this.idleMs > 0 && !this.failure) this.idle = setTimeout(() => this.onIdle(), this.idleMs);
  }

  private onIdle(): void {
    const silence = new UpstreamFailed(504, 'response_body_timeout');
    if (!this.committed) return this.fail(silence);
    this.failure = silence;
    this.controller?.abort(silence);
    this.res.destroy();
  }

  private commit(): boolean {
    if (this.committed) return true;
    try {
      this.res.writeHead(this.status, this.head);
    } catch {
      // A field Node refuses to write (llhttp admits a few bytes Node's writer does not).
      this.fail(new UpstreamFailed(502, 'invalid_response'));
      return false;
    }
    this.committed = true;
    this.resolve(this.status);
    return true;
  }

  private fail(failure: UpstreamFailed): void {
    if (this.failure || this.committed) return;
    clearTimeout(this.timer);
    clearTimeout(this.idle);
    this.failure = failure;
    this.controller?.abort(failure);
    this.reject(failure);
  }
}
