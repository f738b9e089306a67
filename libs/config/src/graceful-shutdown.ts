import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** How a drain ended: every connection closed by itself, or the grace period ran out first. */
export interface DrainOutcome {
  forced: boolean;
}

/**
 * Stops an HTTP server without cutting requests short: it stops accepting connections, closes idle
 * keep-alive connections at once, lets requests in flight finish (each answered with `Connection: close`,
 * so no client reuses the connection), and after the grace period closes whatever is left.
 *
 * Node's own `server.close()` only closes the connections idle at that moment: a connection whose request
 * finishes later goes back to keep-alive and holds the close until its idle timeout.
 */
export class GracefulShutdown {
  #draining = false;
  #server: Server | undefined;
  #drained: Promise<DrainOutcome> | undefined;
  readonly #open = new Set<ServerResponse>();

  constructor(private readonly graceMs: number) {}

  /** True once a drain has started: readiness answers 503 so that a load balancer stops sending. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Follows the server's responses, so that a drain can tell their clients not to reuse the connection. */
  watch(server: Server): void {
    this.#server = server;
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      this.#open.add(res);
      res.once('close', () => this.#open.delete(res));
      if (this.#draining) this.#closeAfter(res);
    });
  }

  /** Drains the watched server; resolves once its last connection is closed. Calling it again waits the same. */
  drain(): Promise<DrainOutcome> {
    return (this.#drained ??= this.#drain());
  }

  async #drain(): Promise<DrainOutcome> {
    this.#draining = true;
    const server = this.#server;
    if (!server?.listening) return { forced: false };
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const res of this.#open) this.#closeAfter(res);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<true>((resolve) => (timer = setTimeout(resolve, this.graceMs, true)));
    const forced = await Promise.race([closed.then(() => false), graceOver]);
    clearTimeout(timer);
    if (forced) {
      server.closeAllConnections();
      await closed;
    }
    return { forced };
  }

  #closeAfter(res: ServerResponse): void {
    if (!res.headersSent) res.setHeader('connection', 'close');
    // A response whose head already went out said keep-alive: its connection is closed once it is idle.
    res.once('finish', () => setImmediate(() => this.#server?.closeIdleConnections()));
  }
}

/**
 * Runs `close` on the first SIGTERM or SIGINT and exits 0, or 1 if it failed. A close still running after
 * `deadlineMs` (a store that does not answer) exits 1; a second signal exits at once.
 */
export function closeOnSignals(
  close: () => Promise<void>,
  deadlineMs: number,
  report: (message: string) => void = console.error,
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      report(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    setTimeout(() => {
      report(`shutdown did not finish within ${deadlineMs} ms: exiting`);
      process.exit(1);
    }, deadlineMs).unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        report(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
