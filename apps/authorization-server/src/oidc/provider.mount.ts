import type { NextFunction, Request, Response } from 'express';
import type Provider from 'oidc-provider';

/** Paths served by Nest; everything else is oidc-provider's (discovery, /auth, /token, /jwks, ...). */
const NEST_PATHS = /^\/(interaction\/|claims$|healthz$|readyz$|metrics$)/;

/**
 * oidc-provider parses its own bodies, so it must see the raw request: it is mounted in front of Nest's
 * routes (Nest's body parser is off) and steps aside for the paths Nest serves.
 */
export function mountProvider(provider: Provider): (req: Request, res: Response, next: NextFunction) => void {
  const callback = provider.callback();
  return (req, res, next) => {
    if (NEST_PATHS.test(req.path)) return next();
    void callback(req, res);
  };
}
