import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { UpstreamProtocolError, UpstreamTimeout, UpstreamUnreachable } from './errors.js';
import { Http1Pool, type Http1PoolOptions } from './http1.pool.js';
import { ResponseParser, type ResponseHead } from './response.parser.js';

/** A TCP server that answers each request head with whatever the test says, byte for byte. */
interface Scripted {
  url: URL;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

const servers: Server[] = [];
const pools: Http1Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(() => resolve(undefined)))),
  );
});

async function scripted(answer: (socket: Socket, request: string, index: number) => void): Promise<Scripted> {
  const sockets = new Set<Socket>();
  const state: Scripted = {
    url: new URL('http://127.0.0.1'),
    connections: 0,
    requests: [],
    close: async () => {},
  };
  const server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const request = buffered.slice(0, end + 4);
        buffered = buffered.slice(end + 4);
        state.requests.push(request);
        answer(socket, request, state.requests.length - 1);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  state.close = async () => {
    for (const socket of sockets) socket.destroy();
  };
  return state;
}

function pool(url: URL, options: Partial<Http1PoolOptions> = {}): Http1Pool {
  const created = new Http1Pool(url, {
    connections: 8,
    headersTimeoutMs: 2000,
    bodyTimeoutMs: 2000,
    connectTimeoutMs: 1000,
    ...options,
  });
  pools.push(created);
  return created;
}

/** A sink that keeps what it is given; `slow` makes it take its time with every chunk (backpressure). */
function sink(slow = false): { writable: Writable; body(): string; heads: ResponseHead[]; ended(): boolean } {
  const chunks: Buffer[] = [];
  const heads: ResponseHead[] = [];
  let ended = false;
  const writable = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      if (slow) setTimeout(done, 1);
      else done();
    },
    final(done) {
      ended = true;
      done();
    },
  });
  return { writable, heads, body: () => Buffer.concat(chunks).toString('latin1'), ended: () => ended };
}

async function get(
  client: Http1Pool,
  options: {
    method?: string;
    path?: string;
    fields?: string;
    largeField?: { name: string; value: string };
    slow?: boolean;
  } = {},
) {
  const out = sink(options.slow);
  await client.stream(
    {
      method: options.method ?? 'GET',
      path: options.path ?? '/',
      fields: options.fields ?? '',
      largeField: options.largeField,
    },
    (head) => {
      out.heads.push(head);
      return out.writable;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return {
    status: out.heads[0]?.status,
    headers: out.heads[0]?.headers,
    body: out.body(),
    ended: out.ended(),
  };
}

/** A request expected to fail: its error, and how many response heads reached the sink first. */
async function failure(client: Http1Pool): Promise<{ error: unknown; heads: number }> {
  let heads = 0;
  const error = await client
    .stream({ method: 'GET', path: '/', fields: '' }, () => {
      heads++;
      return sink().writable;
    })
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  return { error, heads };
}

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe(Http1Pool.name, () => {
  it('sends the head with Host and the large field, and reuses the connection for the next request', async () => {
    const upstream = await scripted((socket) =>
      socket.write(ok('hello', 'set-cookie: a=1\r\nset-cookie: b=2\r\n')),
    );
    const client = pool(upstream.url);
    const largeField = { name: 'authorization', value: `Bearer ${'x'.repeat(9000)}` };
    const first = await get(client, { path: '/api/a?b=c', fields: 'accept: */*\r\n', largeField });
    const second = await get(client, { path: '/api/b' });
    expect(first).toMatchObject({ status: 200, body: 'hello', ended: true });
    expect(first.headers!['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(second.body).toBe('hello');
    expect(upstream.connections).toBe(1);
    expect(upstream.requests[0]).toBe(
      `GET /api/a?b=c HTTP/1.1\r\nhost: ${upstream.url.host}\r\naccept: */*\r\nauthorization: Bearer ${'x'.repeat(9000)}\r\n\r\n`,
    );
  });

  it('decodes chunked bodies with extensions and trailers, and keeps the connection', async () => {
    const upstream = await scripted((socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n',
      ),
    );
    const client = pool(upstream.url);
    const first = await get(client);
    expect(first).toMatchObject({ status: 200, body: 'hello world', ended: true });
    expect(first.headers!['content-length']).toBeUndefined();
    expect((await get(client)).body).toBe('hello world');
    expect(upstream.connections).toBe(1);
  });

  it('reads a body without length to the end of the connection and opens a new one next time', async () => {
    const upstream = await scripted((socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end'));
    const client = pool(upstream.url);
    expect((await get(client)).body).toBe('until the end');
    expect((await get(client)).body).toBe('until the end');
    expect(upstream.connections).toBe(2);
  });

  it('expects no body after HEAD, 204 and 304, and skips interim 1xx answers', async () => {
    const upstream = await scripted((socket, request) => {
      if (request.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n');
      else if (request.includes('/204')) socket.write('HTTP/1.1 204 No Content\r\n\r\n');
      else if (request.includes('/304'))
        socket.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n');
      else socket.write(`HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n${ok('after hints')}`);
    });
    const client = pool(upstream.url);
    const head = await get(client, { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers!['content-length']).toBe('1234');
    expect(await get(client, { path: '/204' })).toMatchObject({ status: 204, body: '' });
    expect(await get(client, { path: '/304' })).toMatchObject({ status: 304, body: '' });
    expect(await get(client)).toMatchObject({ status: 200, body: 'after hints' });
    expect(upstream.connections).toBe(1);
  });

  it.each([
    ['a malformed status line', 'HTTP/1.1 OK\r\n\r\n'],
    ['a folded header field', 'HTTP/1.1 200 OK\r\nx-a: 1\r\n continued\r\ncontent-length: 0\r\n\r\n'],
    ['a bare LF inside a field', 'HTTP/1.1 200 OK\r\nx-a: 1\nx-b: 2\r\ncontent-length: 0\r\n\r\n'],
    ['a control character inside a field', 'HTTP/1.1 200 OK\r\nx-a: a\x01b\r\ncontent-length: 0\r\n\r\n'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\ncontent-length : 0\r\n\r\n'],
    ['conflicting lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab'],
    ['a negative length', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n'],
    ['a protocol switch nobody asked for', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n'],
    ['a head larger than the limit', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`],
  ])('refuses %s before anything is forwarded', async (_label, response) => {
    const upstream = await scripted((socket) => socket.write(response));
    const { error, heads } = await failure(pool(upstream.url));
    expect(error).toBeInstanceOf(UpstreamProtocolError);
    expect(heads).toBe(0);
  });

  it('honours chunked coding over a length, and never reuses such a connection', async () => {
    const upstream = await scripted((socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      ),
    );
    const client = pool(upstream.url);
    expect((await get(client)).body).toBe('ok');
    expect((await get(client)).body).toBe('ok');
    expect(upstream.connections).toBe(2);
  });

  it('delivers a response followed by bytes nobody asked for, then drops that connection', async () => {
    const upstream = await scripted((socket) => socket.write(`${ok('one')}HTTP/1.1 200 OK\r\n\r\n`));
    const client = pool(upstream.url);
    expect((await get(client)).body).toBe('one');
    expect((await get(client)).body).toBe('one');
    expect(upstream.connections).toBe(2);
  });

  it('fails a body cut short after the head was forwarded', async () => {
    const upstream = await scripted((socket) =>
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'),
    );
    const { error, heads } = await failure(pool(upstream.url));
    expect(error).toBeInstanceOf(UpstreamProtocolError);
    expect(heads).toBe(1);
  });

  it('times out waiting for the head and between parts of the body', async () => {
    const upstream = await scripted((socket, request) => {
      if (request.includes('/body')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
    });
    const client = pool(upstream.url, { headersTimeoutMs: 100, bodyTimeoutMs: 100 });
    await expect(get(client)).rejects.toEqual(new UpstreamTimeout('headers'));
    await expect(get(client, { path: '/body' })).rejects.toEqual(new UpstreamTimeout('body'));
  });

  it('reports an upstream that refuses connections as unreachable', async () => {
    const upstream = await scripted(() => undefined);
    const url = upstream.url;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    await expect(get(pool(url))).rejects.toBeInstanceOf(UpstreamUnreachable);
  });

  it('sends a request again on a new connection when the idle one was closed by the upstream', async () => {
    // The upstream drops the kept-alive connection just as the second request arrives on it (its
    // keep-alive timeout racing the request): the request is sent again, once, on a new connection.
    const upstream = await scripted((socket, _request, index) => {
      if (index === 1) socket.destroy();
      else socket.write(ok(`answer ${index}`));
    });
    const client = pool(upstream.url);
    expect((await get(client)).body).toBe('answer 0');
    expect((await get(client)).body).toBe('answer 2');
    expect(upstream.connections).toBe(2);
  });

  it('does not send a request again when a new connection fails', async () => {
    const upstream = await scripted((socket) => socket.destroy());
    const { error } = await failure(pool(upstream.url));
    expect(error).toEqual(new UpstreamProtocolError('connection closed before a response'));
    expect(upstream.requests).toHaveLength(1);
  });

  it('keeps to its connection limit: further requests wait their turn', async () => {
    const upstream = await scripted((socket) => setTimeout(() => socket.write(ok('turn')), 20));
    const client = pool(upstream.url, { connections: 2 });
    const bodies = await Promise.all(Array.from({ length: 7 }, () => get(client)));
    expect(bodies.map((b) => b.body)).toEqual(Array(7).fill('turn'));
    expect(upstream.connections).toBe(2);
  });

  it('streams a large body intact into a slow sink', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024, 'abcdefghij').toString('latin1');
    const upstream = await scripted((socket) => socket.write(ok(body)));
    const client = pool(upstream.url);
    const got = await get(client, { slow: true });
    expect(got.body.length).toBe(body.length);
    expect(got.body === body).toBe(true);
    expect((await get(client)).body.length).toBe(body.length);
    expect(upstream.connections).toBe(1);
  });

  it('stops reading when the sink goes away, and does not reuse that connection', async () => {
    const upstream = await scripted((socket) =>
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc'),
    );
    const client = pool(upstream.url, { bodyTimeoutMs: 200 });
    const writable = new Writable({ write: (_c, _e, done) => done() });
    await client.stream({ method: 'GET', path: '/', fields: '' }, () => {
      setTimeout(() => writable.destroy(), 10);
      return writable;
    });
    expect(writable.destroyed).toBe(true);
    // The second answer is cut short too: it times out, on a connection of its own.
    await expect(get(client, { path: '/again' })).rejects.toEqual(new UpstreamTimeout('body'));
    expect(upstream.connections).toBe(2);
  });
});

describe(ResponseParser.name, () => {
  it('reads the same response whatever the split of its bytes', () => {
    const response = Buffer.from(
      'HTTP/1.1 200 OK\r\nx-a: one\r\nx-a: two\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n',
    );
    for (const size of [1, 2, 3, 7, response.length]) {
      const seen: { head?: ResponseHead; body: string; reusable?: boolean } = { body: '' };
      const parser = new ResponseParser(false, 1024, {
        head: (head) => (seen.head = head),
        body: (chunk) => (seen.body += chunk.toString()),
        end: (reusable) => (seen.reusable = reusable),
      });
      for (let at = 0; at < response.length; at += size) parser.push(response.subarray(at, at + size));
      expect(seen).toEqual({
        head: { status: 200, headers: { 'x-a': ['one', 'two'], 'transfer-encoding': 'chunked' } },
        body: 'abc0123456789abcdef',
        reusable: true,
      });
    }
  });

  it('does not reuse a connection the upstream says it closes, nor an HTTP/1.0 one', () => {
    for (const response of [
      'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n',
    ]) {
      let reusable: boolean | undefined;
      const parser = new ResponseParser(false, 1024, {
        head: () => undefined,
        body: () => undefined,
        end: (value) => (reusable = value),
      });
      parser.push(Buffer.from(response));
      expect(reusable).toBe(false);
    }
  });
});
