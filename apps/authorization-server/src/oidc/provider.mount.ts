import type { NextFunction, Request, Response } from 'express';
import type { ProviderSwitch } from './provider.switch.js';

/** Paths served by Nest; everything else is oidc-provider's (discovery, /auth, /token, /jwks, ...). */
const NEST_PATHS = /^\/(interaction\/|claims$|healthz$|readyz$|metrics$)/;

/**
 * oidc-provider parses its own bodies, so it must see the raw request: it is mounted in front of Nest's
 * routes (Nest's body parser is off) and steps aside for the paths Nest serves. Each request goes to the
 * instance serving the keys in service when it arrives.
 */
export function mountProvider(
  providers: ProviderSwitch,
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (NEST_PATHS.test(req.path)) return next();
    void providers.callback(req, res);
  };
}

/**
 * oidc-provider builds every URL it publishes (discovery, redirects, the audience it accepts in client
 * assertions) from the request's host and protocol, which the caller controls (`Host`, and `X-Forwarded-*`
 * behind a trusted proxy). They are pinned to the issuer's, so a forged header cannot rename an endpoint.
 */
export function pinIssuerOrigin(issuer: string) {
  const { host, protocol } = new URL(issuer);
  const pinned = { host, protocol: protocol.slice(0, -1) };
  return async (ctx: { request: object }, next: () => Promise<void>) => {
    Object.defineProperties(ctx.request, {
      host: { value: pinned.host, configurable: true },
      protocol: { value: pinned.protocol, configurable: true },
    });
    await next();
  };
}
