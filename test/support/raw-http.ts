import { connect } from 'node:net';

/** A raw TCP connection to an HTTP server: what was sent is exactly what the test wrote. */
export interface RawConnection {
  write(text: string): void;
  /** Everything received so far. */
  received(): string;
  /** Resolves when the server has closed the connection, with the milliseconds since it was opened. */
  closed: Promise<number>;
  destroy(): void;
}

export async function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const opened = performance.now();
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - opened)),
  );
  return {
    write: (text) => socket.write(text),
    received: () => data,
    closed,
    destroy: () => socket.destroy(),
  };
}

/** Resolves when a new TCP connection to `url` is refused (true) or accepted (false). */
export function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Polls until `done` holds, for `ms` at most. */
export async function until(done: () => boolean, ms = 3000): Promise<void> {
  const started = performance.now();
  while (!done() && performance.now() - started < ms) await new Promise((resolve) => setTimeout(resolve, 10));
}
