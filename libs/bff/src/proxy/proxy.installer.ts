import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { ApiProxy } from './api.proxy.js';

/**
 * Puts the proxy in front of the framework on the HTTP server: a request under a route prefix is proxied at once
 * (the hot path pays for no routing or middleware), anything else goes to the framework's listener as before.
 * WebSocket handshakes under a route are proxied too.
 */
export function installProxy(server: Server, proxy: ApiProxy): void {
  const listeners = server.listeners('request') as RequestListener[];
  const framework = listeners.at(-1);
  if (framework === undefined)
    throw new Error('the HTTP server has no request listener to put the proxy before');
  server.removeListener('request', framework);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const route = proxy.match(req.url);
    if (route === undefined) return framework(req, res);
    proxy.handle(req, res, route).catch(() => res.destroy());
  });
  proxy.serveUpgrades(server);
}
