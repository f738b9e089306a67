import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/** Who asked, as the upstream sees it: a short hash of the forwarded Authorization field. */
export function userOf(authorization: string): string {
  return createHash('sha256').update(authorization).digest('hex').slice(0, 16);
}

function response(status: string, fields: string[], body = ''): string {
  return `HTTP/1.1 ${status}\r\n${fields.map((field) => `${field}\r\n`).join('')}\r\n${body}`;
}

function named(user: string, tag: string): string {
  const body = JSON.stringify({ user, tag });
  return response('200 OK', ['content-type: application/json', `content-length: ${body.length}`], body);
}

/**
 * An internal API over raw TCP that breaks HTTP/1.1 in the ways a gateway must survive, chosen by the request path.
 * It reads request heads only (the tests send no bodies) and answers each as its path says.
 */
export async function startMisbehavingUpstream(): Promise<{
  url: string;
  /** Connections still receiving `/api/endless`. */
  streaming(): number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const endless = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let served = 0;
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        answer(socket, head, served++);
      }
    });
  });

  function answer(socket: Socket, head: string, earlier: number): void {
    const [method, target] = head.split(' ', 2);
    const url = new URL(target, 'http://upstream');
    const authorization = /^authorization: (.*)$/im.exec(head)?.[1] ?? '';
    const user = userOf(authorization);
    const tag = url.searchParams.get('tag') ?? '';
    const write = (text: string) => socket.writable && socket.write(text);
    // Bytes after a complete answer, a little later: a whole second response naming the same user.
    const junkLater = () => setTimeout(() => write(named(user, `junk-${tag}`)), 2);
    switch (url.pathname) {
      case '/api/length-empty':
        return void write(response('200 OK', ['content-length: '], 'x'.repeat(64)));
      case '/api/length-comma':
        return void write(response('200 OK', ['content-length: ,'], 'x'.repeat(64)));
      case '/api/length-spaced-comma':
        return void write(response('200 OK', ['content-length:  , '], 'x'.repeat(64)));
      case '/api/too-large':
        // What Node.js answers to a request past its header limit (nginx's own refusal is a 400 page).
        return void write(response('431 Request Header Fields Too Large', ['content-length: 0'], ''));
      case '/api/bad-chunk':
        return void write(response('200 OK', ['transfer-encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n'));
      case '/api/reset-if-reused':
        // As if the upstream had closed an idle keep-alive connection just as the request went out.
        if (earlier > 0) return void socket.destroy();
        return void write(named(user, tag));
      case '/api/hang':
        return;
      case '/api/drip': {
        // A head that never ends, one byte every 200 ms: each byte is "progress" to an inter-byte timer.
        write('HTTP/1.1 200 OK\r\nx-drip: ');
        const timer = setInterval(() => write('x'), 200);
        socket.once('close', () => clearInterval(timer));
        return;
      }
      case '/api/endless': {
        write(response('200 OK', ['transfer-encoding: chunked']));
        endless.add(socket);
        const timer = setInterval(() => write('5\r\nchunk\r\n'), 20);
        socket.once('close', () => {
          clearInterval(timer);
          endless.delete(socket);
        });
        return;
      }
      case '/api/no-content':
        return void write(response('204 No Content', ['content-length: 5']));
      case '/api/not-modified':
        return void write(response('304 Not Modified', ['content-length: 64', 'etag: "1"']));
      case '/api/connection-named':
        return void write(
          response('200 OK', ['connection: x-secret, keep-alive', 'x-secret: s', 'content-length: 2'], 'ok'),
        );
      case '/api/session-expires':
        // A field the gateway sets on its own answers: the client must get the gateway's value.
        return void write(response('200 OK', ['x-session-expires-in: 99999', 'content-length: 2'], 'ok'));
      case '/api/cookies':
        return void write(
          response(
            '200 OK',
            [
              'set-cookie: =cloakroom=stolen; Path=/',
              'set-cookie:  = cloakroom=stolen',
              'set-cookie: cloakroom',
              'set-cookie: __host-CLOAKROOM=stolen; Path=/; Secure',
              'set-cookie: \tcloakroom-login =stolen',
              'set-cookie: upstream-pref=1; Path=/',
              'content-length: 2',
            ],
            'ok',
          ),
        );
      case '/api/junk':
        write(
          method === 'HEAD' ? named(user, tag).replace(/\r\n\r\n[\s\S]*$/, '\r\n\r\n') : named(user, tag),
        );
        return void junkLater();
      case '/api/junk-204':
        write(response('204 No Content', []));
        return void junkLater();
      default:
        return void write(named(user, tag));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streaming: () => endless.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
