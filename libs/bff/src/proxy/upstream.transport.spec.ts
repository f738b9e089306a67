import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { UpstreamTransport } from './upstream.transport.js';

const servers: Server[] = [];
let transport: UpstreamTransport | undefined;

afterEach(async () => {
  await transport?.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An upstream that records the client port of every request per owner, and a front that forwards through `t`. */
async function setUp(sessionPools: number) {
  const ports = new Map<string, Set<number>>();
  const open = new Set<number>();
  const upstream = createServer((req, res) => {
    const owner = String(req.headers['x-owner']);
    const port = req.socket.remotePort!;
    if (!ports.has(owner)) ports.set(owner, new Set());
    ports.get(owner)!.add(port);
    if (!open.has(port)) {
      open.add(port);
      req.socket.once('close', () => open.delete(port));
    }
    res.end(owner);
  });
  const upstreamUrl = new URL(await listen(upstream));
  const t = new UpstreamTransport({
    headTimeoutMs: 2000,
    bodyIdleTimeoutMs: 2000,
    streamIdleTimeoutMs: 0,
    connectTimeoutMs: 1000,
    connectionsPerSession: 4,
    sessionPools,
  });
  transport = t;
  const front = createServer((req, res) => {
    const owner = String(req.headers['x-owner']);
    t.forward(
      { upstream: upstreamUrl, owner, method: 'GET', path: '/', headers: { 'x-owner': owner }, body: null },
      res,
      (_status, headers) => ({ 'content-length': String(headers['content-length']) }),
    ).catch(() => res.destroy());
  });
  const frontUrl = await listen(front);
  const call = async (owner: string) => (await fetch(frontUrl, { headers: { 'x-owner': owner } })).text();
  return { ports, open, call };
}

describe(UpstreamTransport.name, () => {
  it('never lets two owners share a connection', async () => {
    const { ports, call } = await setUp(10);
    const owners = ['a', 'b', 'c'];
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, n) => owners[n % 3]).map(async (owner) => [owner, await call(owner)]),
    );
    for (const [owner, answer] of answers) expect(answer).toBe(owner);
    const all = owners.flatMap((owner) => [...ports.get(owner)!]);
    expect(new Set(all).size).toBe(all.length);
    for (const owner of owners) expect(ports.get(owner)!.size).toBeLessThanOrEqual(4);
  });

  it('closes the connections of the least recently active owner beyond the limit', async () => {
    const { ports, open, call } = await setUp(2);
    await call('a');
    await call('b');
    const [portOfA] = ports.get('a')!;
    expect(open.has(portOfA)).toBe(true);
    await call('a'); // a is now the most recent: b goes when c arrives
    await call('c');
    const [portOfB] = ports.get('b')!;
    const started = performance.now();
    while (open.has(portOfB) && performance.now() - started < 2000)
      await new Promise((r) => setTimeout(r, 10));
    expect(open.has(portOfB)).toBe(false);
    expect(open.has(portOfA)).toBe(true);
  });
});
