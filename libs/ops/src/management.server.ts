import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { writeHealth } from './health.js';
import type { Health } from './health.js';

export interface ManagementServerOptions {
  host: string;
  port: number;
  registry: Registry;
  health: Health;
  /** Where a failing metrics collection is reported. */
  logger?: Logger;
}

export interface ManagementServer {
  /** Where it listens, e.g. `http://127.0.0.1:9300`. */
  url: string;
  close(): Promise<void>;
}

/** The management port could not be opened (taken, or an address this host does not have). */
export class ManagementPortUnavailable extends Error {
  override readonly name = 'ManagementPortUnavailable';
  constructor(host: string, port: number, cause: Error & { code?: string }) {
    super(
      `the management server cannot listen on ${host}:${port} (${cause.code ?? cause.message}): set MANAGEMENT_PORT and MANAGEMENT_HOST`,
    );
  }
}

/**
 * `GET /healthz`, `/readyz` and `/metrics` on a port of their own, kept off the public port: metrics tell
 * traffic, error rates and internals to whoever can read them. Anything else is a JSON 404, another method on
 * these paths a 405. Not access-logged: a scraper every few seconds would drown the requests that matter.
 */
export async function startManagementServer(options: ManagementServerOptions): Promise<ManagementServer> {
  const server = createServer((req, res) => {
    answer(req, res, options).catch((error: unknown) => {
      options.logger?.error({ err: error }, 'management request failed');
      if (!res.headersSent) json(res, 503, { error: 'unavailable' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ManagementPortUnavailable(options.host, options.port, error)));
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}`, close: () => close(server) };
}

async function answer(req: IncomingMessage, res: ServerResponse, options: ManagementServerOptions) {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
    return json(res, 404, {
      error: 'not_found',
      error_description: 'the management port serves /healthz, /readyz and /metrics',
    });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return json(res, 405, { error: 'method_not_allowed', error_description: `${path} answers GET` });
  }
  if (path === '/healthz') return writeHealth(res, options.health.liveness());
  if (path === '/readyz') return writeHealth(res, await options.health.readiness());
  const text = await options.registry.metrics();
  res.writeHead(200, {
    'content-type': options.registry.contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function json(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Scrapers keep their connections open: those are closed at once, there is nothing to drain here. */
function close(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
