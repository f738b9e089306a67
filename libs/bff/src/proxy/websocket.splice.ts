import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** An HTTP/1.1 WebSocket opening handshake (RFC 6455 §4.1): a GET asking to upgrade to `websocket`. */
export function isWebSocketHandshake(req: IncomingMessage): boolean {
  return req.method === 'GET' && /^\s*websocket\s*$/i.test(req.headers.upgrade ?? '');
}

/**
 * Joins the browser's socket to the upstream's once the upstream switched protocols: the 101 head (the upstream's
 * fields as shaped for any answer) to the browser, then bytes both ways, frames untouched. Either side closing or
 * failing closes the other; so does silence in both directions for `idleTimeoutMs` (0: none).
 */
export function spliceWebSocket(
  client: Duplex,
  clientHead: Buffer,
  fields: OutgoingHttpHeaders,
  upstream: Duplex,
  options: { idleTimeoutMs: number },
): void {
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  for (const side of [client, upstream]) {
    side.on('error', close);
    side.on('close', close);
  }
  let head = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n';
  try {
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      for (const line of Array.isArray(value) ? value : [String(value)]) {
        validateHeaderName(name);
        validateHeaderValue(name, line);
        head += `${name}: ${line}\r\n`;
      }
    }
  } catch {
    // A field Node would refuse to write: the handshake fails rather than carry it.
    return close();
  }
  // Every byte either way passes through the browser's socket, so its inactivity is the connection's.
  if (options.idleTimeoutMs > 0) (client as Socket).setTimeout(options.idleTimeoutMs, close);
  client.write(`${head}\r\n`);
  if (clientHead.length > 0) upstream.write(clientHead);
  upstream.pipe(client);
  client.pipe(upstream);
}
