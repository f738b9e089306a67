import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** An internal API for the gateway tests: records what it receives, echoes bodies, can be slow. */
export async function startFixtureUpstream(): Promise<{
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (req.url?.startsWith('/api/slow')) {
      const timer = setTimeout(() => res.end('late'), 2000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (req.url?.startsWith('/api/echo')) {
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    const authorization = req.headers.authorization ?? '';
    res.writeHead(200, {
      'content-type': 'application/json',
      'set-cookie': ['cloakroom=stolen; Path=/', 'upstream-pref=1; Path=/'],
      'keep-alive': 'timeout=99',
    });
    res.end(
      JSON.stringify({
        path: req.url,
        tokenBytes: authorization.replace(/^Bearer /, '').length,
        sawCookie: req.headers.cookie !== undefined,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
