import { connect, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { UpstreamProtocolError, UpstreamTimeout, UpstreamUnreachable } from './errors.js';
import { ResponseParser, type ResponseHead } from './response.parser.js';

export interface Http1PoolOptions {
  /** Most connections open to the origin at once; further requests wait for one to be free. */
  connections: number;
  /** Longest wait for the response head after the request is sent. */
  headersTimeoutMs: number;
  /** Longest pause between two parts of a response body. */
  bodyTimeoutMs: number;
  connectTimeoutMs: number;
  /** An idle connection is closed after this long (under the usual 5 s of Node and nginx upstreams). */
  idleTimeoutMs?: number;
  maxHeaderBytes?: number;
}

/** A request without a body. */
export interface Http1Request {
  method: string;
  /** Path and query, already checked by the caller. */
  path: string;
  /** Header fields, each as `name: value\r\n`, latin1; without Host, which the pool adds. */
  fields: string;
  /**
   * One more field, written as a piece of its own so that a large value (an 8 KB bearer token) is not copied
   * into the head first. The caller vouches for the value: visible ASCII only.
   */
  largeField?: { name: string; value: string };
}

/** A connection handed to a request; `reused` when it carried an earlier one. */
interface Lease {
  connection: Connection;
  reused: boolean;
}

/** A connection that failed before any byte of an answer: the upstream had closed it while it sat idle. */
class StaleConnection extends Error {}

/**
 * Keep-alive HTTP/1.1 connections to one plain-http origin, for requests without a body: the request head is
 * written in one gathered write (a large field as a piece of its own), the response is read by {@link ResponseParser} and
 * streamed into the sink with backpressure. A request that meets a connection the upstream closed while it was
 * idle is sent again once on a new connection (these methods are idempotent and nothing was answered).
 */
export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly waiting: Array<{ resolve(lease: Lease): void; reject(error: unknown): void }> = [];
  private open = 0;
  private closed = false;
  private readonly hostname: string;
  private readonly port: number;
  private readonly hostField: string;
  readonly idleTimeoutMs: number;
  readonly maxHeaderBytes: number;

  constructor(
    origin: URL,
    readonly options: Http1PoolOptions,
  ) {
    if (origin.protocol !== 'http:') throw new TypeError('Http1Pool speaks plain http only');
    this.hostname = origin.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(origin.port || 80);
    this.hostField = `host: ${origin.host}\r\n`;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 4000;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
  }

  /**
   * Sends the request and streams the answer into the sink `onHead` returns for its head. Resolves once the
   * body is written and the sink ended, or the sink closed early; rejects with UpstreamUnreachable,
   * UpstreamTimeout or UpstreamProtocolError, after which a sink already handed out must be destroyed.
   */
  async stream(request: Http1Request, onHead: (head: ResponseHead) => Writable): Promise<void> {
    let head = `${request.method} ${request.path} HTTP/1.1\r\n${this.hostField}${request.fields}`;
    if (request.largeField) head += `${request.largeField.name}: `;
    const { connection, reused } = await this.acquire();
    try {
      return await connection.exchange(head, request, onHead, reused);
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error;
      return (await this.connect()).exchange(head, request, onHead, false);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
    for (const waiter of this.waiting.splice(0)) waiter.reject(new UpstreamUnreachable('pool closed'));
  }

  /** Back from an exchange: kept for the next request when it may carry one, closed otherwise. */
  release(connection: Connection, reusable: boolean): void {
    if (!reusable || this.closed) {
      connection.socket.destroy();
      return;
    }
    if (connection.socket.isPaused()) connection.socket.resume();
    const waiter = this.waiting.shift();
    if (waiter) return waiter.resolve({ connection, reused: true });
    connection.socket.setTimeout(this.idleTimeoutMs);
    this.idle.push(connection);
  }

  /** The connection is gone (closed by either side): make room for a request that waits. */
  forget(connection: Connection): void {
    this.open--;
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    if (!this.closed) this.next();
  }

  private async acquire(): Promise<Lease> {
    if (this.closed) throw new UpstreamUnreachable('pool closed');
    const idle = this.idle.pop();
    if (idle) return { connection: idle, reused: true };
    if (this.open < this.options.connections) return { connection: await this.connect(), reused: false };
    return new Promise<Lease>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private connect(): Promise<Connection> {
    this.open++;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.hostname, port: this.port, noDelay: true });
      socket.setTimeout(this.options.connectTimeoutMs);
      const fail = (reason: string, cause?: unknown) => {
        socket.off('error', onError);
        socket.off('timeout', onTimeout);
        socket.on('error', () => undefined);
        socket.destroy();
        this.open--;
        reject(new UpstreamUnreachable(reason, { cause }));
        this.next();
      };
      const onError = (error: NodeJS.ErrnoException) => fail(error.code ?? 'connection error', error);
      const onTimeout = () => fail('connect timeout');
      socket.once('error', onError);
      socket.once('timeout', onTimeout);
      socket.once('connect', () => {
        socket.off('error', onError);
        socket.off('timeout', onTimeout);
        resolve(new Connection(this, socket));
      });
    });
  }

  /** A connection slot came free: open one for the request that has waited longest. */
  private next(): void {
    const waiter = this.waiting.shift();
    if (waiter)
      this.connect().then((connection) => waiter.resolve({ connection, reused: false }), waiter.reject);
  }
}

/** One socket and the exchange it carries, if any; idle sockets that hear anything are closed. */
class Connection {
  private current: Exchange | undefined;

  constructor(
    private readonly pool: Http1Pool,
    readonly socket: Socket,
  ) {
    socket.on('data', (data: Buffer) => (this.current ? this.current.data(data) : socket.destroy()));
    socket.on('end', () => this.current?.ended());
    socket.on('error', (error) => this.current?.failed(error));
    socket.on('timeout', () => (this.current ? this.current.timedOut() : socket.destroy()));
    socket.on('close', () => {
      this.current?.ended();
      this.pool.forget(this);
    });
  }

  exchange(
    head: string,
    request: Http1Request,
    onHead: (head: ResponseHead) => Writable,
    reused: boolean,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const exchange = new Exchange(this, request.method === 'HEAD', onHead, reused, (error, reusable) => {
        this.current = undefined;
        if (error) {
          this.socket.destroy();
          reject(error);
        } else {
          if (reusable) this.pool.release(this, true);
          else this.socket.destroy();
          resolve();
        }
      });
      this.current = exchange;
      this.socket.setTimeout(this.pool.options.headersTimeoutMs);
      // One gathered write: a single buffer of head and token would cost a fresh allocation per request.
      this.socket.cork();
      this.socket.write(head, 'latin1');
      if (request.largeField) {
        this.socket.write(request.largeField.value, 'latin1');
        this.socket.write('\r\n\r\n', 'latin1');
      } else {
        this.socket.write('\r\n', 'latin1');
      }
      this.socket.uncork();
    });
  }

  get maxHeaderBytes(): number {
    return this.pool.maxHeaderBytes;
  }

  bodyPhase(): void {
    this.socket.setTimeout(this.pool.options.bodyTimeoutMs);
  }
}

/** One request's answer: parser events to the sink, socket events to the outcome. Settles once. */
class Exchange {
  private readonly parser: ResponseParser;
  private sink: Writable | undefined;
  private settled = false;
  private waitingForDrain = false;

  constructor(
    private readonly connection: Connection,
    headRequest: boolean,
    onHead: (head: ResponseHead) => Writable,
    private readonly reused: boolean,
    private readonly done: (error: unknown, reusable: boolean) => void,
  ) {
    this.parser = new ResponseParser(headRequest, connection.maxHeaderBytes, {
      head: (responseHead) => {
        connection.bodyPhase();
        try {
          this.sink = onHead(responseHead);
        } catch {
          throw new UpstreamProtocolError('response head cannot be forwarded');
        }
        if (this.sink.destroyed) {
          // The client went away while the upstream was thinking.
          this.settle(undefined, false);
          return;
        }
        this.sink.once('close', () => {
          // The client went away before the body was complete: nothing to report, the connection is spoilt.
          if (!this.settled) this.settle(undefined, false);
        });
      },
      body: (chunk) => {
        if (this.settled || this.sink!.write(chunk) || this.waitingForDrain) return;
        this.waitingForDrain = true;
        connection.socket.pause();
        this.sink!.once('drain', () => {
          this.waitingForDrain = false;
          if (!this.settled) connection.socket.resume();
        });
      },
      end: (reusable) => {
        if (this.settled) return;
        this.sink!.end();
        this.settle(undefined, reusable);
      },
    });
  }

  data(data: Buffer): void {
    if (this.settled) return;
    try {
      this.parser.push(data);
    } catch (error) {
      this.settle(error, false);
    }
  }

  ended(): void {
    if (this.settled) return;
    if (this.reused && !this.parser.receiving) return this.settle(new StaleConnection(), false);
    try {
      this.parser.close();
    } catch (error) {
      this.settle(error, false);
    }
  }

  failed(error: NodeJS.ErrnoException): void {
    if (this.settled) return;
    if (this.reused && !this.parser.receiving) return this.settle(new StaleConnection(), false);
    this.settle(
      this.parser.receiving
        ? new UpstreamProtocolError(`connection failed mid-response (${error.code ?? 'error'})`)
        : new UpstreamUnreachable(error.code ?? 'connection error', { cause: error }),
      false,
    );
  }

  timedOut(): void {
    if (this.settled) return;
    this.settle(new UpstreamTimeout(this.sink ? 'body' : 'headers'), false);
  }

  private settle(error: unknown, reusable: boolean): void {
    this.settled = true;
    this.done(error, reusable);
  }
}
