import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One server frame (never masked, RFC 6455 §5.1), whole in one piece. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const head =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 65_536
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigEndian64(length)]);
  return Buffer.concat([head, payload]);
}

function bigEndian64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

/** Reads the complete client frames at the start of `buffer`; gives back the bytes of an incomplete one. */
function readFrames(buffer: Buffer, each: (opcode: number, payload: Buffer) => void): Buffer {
  let at = 0;
  for (;;) {
    if (buffer.length - at < 2) break;
    const opcode = buffer[at]! & 0x0f;
    let length = buffer[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (buffer.length < offset + 2) break;
      length = buffer.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (buffer.length < offset + 8) break;
      length = Number(buffer.readBigUInt64BE(offset));
      offset += 8;
    }
    const masked = (buffer[at + 1]! & 0x80) !== 0;
    const mask = masked ? buffer.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (buffer.length < offset + length) break;
    const payload = Buffer.from(buffer.subarray(offset, offset + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    each(opcode, payload);
    at = offset + length;
  }
  return buffer.subarray(at);
}

export interface StreamsUpstream {
  url: string;
  /** The fields of every WebSocket handshake received. */
  handshakes: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * An internal API for the stream tests. WebSocket at `…/hang`: never answered; at `…/refuse`: a 404; elsewhere: echoes text and binary messages (whole frames only,
 * which is what the tests send), answers pings and closes. `GET /events?quiet=<ms>`: an event stream that sends an
 * event, stays silent for `quiet` ms, sends another and ends. `GET /stall?quiet=<ms>`: a plain body that does the same.
 */
export async function startStreamsUpstream(): Promise<StreamsUpstream> {
  const handshakes: IncomingHttpHeaders[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const quiet = Number(url.searchParams.get('quiet') ?? 0);
    const stream = url.pathname.endsWith('/events');
    res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'text/plain' });
    res.write(stream ? 'data: first\n\n' : 'first ');
    const timer = setTimeout(() => res.end(stream ? 'data: second\n\n' : 'second'), quiet);
    res.on('close', () => clearTimeout(timer));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    handshakes.push(req.headers);
    if (req.url?.endsWith('/hang')) return;
    if (req.url?.endsWith('/refuse')) {
      const body = '{"error":"no_such_channel"}';
      socket.end(
        `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1')
      .update(key + ACCEPT_GUID)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    let pending: Buffer = Buffer.from(head);
    const onData = (chunk: Buffer): void => {
      pending = readFrames(Buffer.concat([pending, chunk]), (opcode, payload) => {
        if (opcode === 0x1 || opcode === 0x2) socket.write(frame(opcode, payload));
        else if (opcode === 0x9) socket.write(frame(0xa, payload));
        else if (opcode === 0x8) socket.end(frame(0x8, payload.subarray(0, 2)));
      });
    };
    socket.on('data', onData);
    if (pending.length > 0) onData(Buffer.alloc(0));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handshakes,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
