import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { connectionRefused, openRaw, until } from '../../../test/support/raw-http.js';
import { GracefulShutdown } from './graceful-shutdown.js';

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`;

/** A plain server: `/fast` answers at once, `/held` when the test releases it, `/stream` sends its head first. */
async function start(graceMs: number) {
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === '/held') return void held.push(res);
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('head ');
      return void held.push(res);
    }
    res.end(shutdown.draining ? 'draining' : 'fast');
  });
  const shutdown = new GracefulShutdown(graceMs);
  shutdown.watch(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
  return { server, shutdown, url, held };
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe(GracefulShutdown.name, () => {
  it('lets a request in flight finish with Connection: close, closes idle connections at once and refuses new ones', async () => {
    const { shutdown, url, held } = await start(10_000);
    const idle = await openRaw(url);
    idle.write(GET('/fast'));
    await until(() => idle.received().endsWith('fast'));
    const busy = await openRaw(url);
    busy.write(GET('/held'));
    await until(() => held.length === 1);

    const drained = shutdown.drain();
    expect(shutdown.draining).toBe(true);
    expect(await idle.closed).toBeGreaterThan(0);
    expect(await connectionRefused(url)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    held[0]!.end('late');

    expect(await drained).toEqual({ forced: false });
    await busy.closed;
    expect(busy.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(busy.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect(busy.received().endsWith('late')).toBe(true);
  });

  it('answers a request that arrives on a kept-alive connection during the drain, with Connection: close', async () => {
    const { shutdown, url } = await start(10_000);
    const client = await openRaw(url);
    client.write(GET('/fast'));
    await until(() => client.received().endsWith('fast'));
    // The next request has begun: the connection is busy, not idle, when the drain starts.
    client.write('GET /fast HTTP/1.1\r\nHost: test\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const drained = shutdown.drain();
    client.write('\r\n');

    expect(await drained).toEqual({ forced: false });
    await client.closed;
    const second = client.received().split('HTTP/1.1 ')[2] ?? '';
    expect(second).toMatch(/^200 OK\r\n/);
    expect(second).toMatch(/\r\nConnection: close\r\n/i);
    expect(second.endsWith('draining')).toBe(true);
  });

  it('closes a connection whose response had already said keep-alive as soon as that response ends', async () => {
    const { shutdown, url, held } = await start(10_000);
    const client = await openRaw(url);
    client.write(GET('/stream'));
    await until(() => client.received().includes('head '));
    const drained = shutdown.drain();
    held[0]!.end('tail');

    expect(await drained).toEqual({ forced: false });
    // Without the drain the connection would stay open for Node's 5 s keep-alive timeout.
    expect(await client.closed).toBeLessThan(2000);
    expect(client.received()).toMatch(/head [\s\S]*tail/);
  });

  it('closes the connections left when the grace period is over', async () => {
    const { shutdown, url, held } = await start(300);
    const client = await openRaw(url);
    client.write(GET('/held'));
    await until(() => held.length === 1);

    const started = performance.now();
    expect(await shutdown.drain()).toEqual({ forced: true });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1000);
    await client.closed;
    expect(client.received()).toBe('');
  });

  it('drains once: a second call waits for the same drain', async () => {
    const { shutdown } = await start(1000);
    const first = shutdown.drain();
    expect(shutdown.drain()).toBe(first);
    expect(await first).toEqual({ forced: false });
  });
});
