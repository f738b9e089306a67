import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { BffTracing } from '../bff.tracing.js';
import type { ApiProxy, ProxyRoute } from './api.proxy.js';

/** Sees every request as it arrives (an access log); `route` is the template of a proxied one (`/api/*`). */
export interface RequestObserver {
  observe(req: IncomingMessage, res: ServerResponse, route?: string): void;
}

/**
 * Puts the proxy in front of the framework on the HTTP server: a request under a route prefix is proxied at once
 * (the hot path pays for no routing or middleware), anything else goes to the framework's listener as before.
 * WebSocket handshakes under a route are proxied too. With `tracing`, every request is served in a server span.
 */
export function installProxy(
  server: Server,
  proxy: ApiProxy,
  requests?: RequestObserver,
  tracing?: BffTracing,
): void {
  const listeners = server.listeners('request') as RequestListener[];
  const framework = listeners.at(-1);
  if (framework === undefined)
    throw new Error('the HTTP server has no request listener to put the proxy before');
  server.removeListener('request', framework);
  const templates = new Map(proxy.routes.map((route) => [route, `${route.prefix}/*`]));
  const serve = (req: IncomingMessage, res: ServerResponse, route: ProxyRoute | undefined): void => {
    if (route === undefined) return framework(req, res);
    proxy.handle(req, res, route).catch(() => res.destroy());
  };
  server.on(
    'request',
    tracing === undefined
      ? (req: IncomingMessage, res: ServerResponse) => {
          const route = proxy.match(req.url);
          requests?.observe(req, res, route && templates.get(route));
          serve(req, res, route);
        }
      : (req: IncomingMessage, res: ServerResponse) => {
          const route = proxy.match(req.url);
          const template = route && templates.get(route);
          requests?.observe(req, res, template);
          // The proxy only awaits: its listeners need no context, and binding them would cost on every request.
          const options = route === undefined ? {} : { route: template, bindListeners: false };
          tracing.serve(req, res, () => serve(req, res, route), options);
        },
  );
  proxy.serveUpgrades(server);
}
