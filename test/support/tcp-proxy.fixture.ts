import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP relay to a target that the test can cut and restore, as a Redis outage would look from a client. */
export async function startTcpProxy(
  targetHost: string,
  targetPort: number,
): Promise<{
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** Keeps connections open but carries nothing: a silent partition, which TCP does not report. */
  freeze(): void;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let frozen = false;
  let server: Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = createConnection(targetPort, targetHost);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        for (const [from, to] of [
          [client, upstream],
          [upstream, client],
        ]) {
          from.on('data', (chunk: Buffer) => {
            if (!frozen) to.write(chunk);
          });
        }
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  await listen();
  return {
    port,
    cut,
    restore: async () => {
      frozen = false;
      await listen();
    },
    freeze: () => {
      frozen = true;
    },
    close: cut,
  };
}
