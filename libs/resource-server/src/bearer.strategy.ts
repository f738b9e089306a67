import { Strategy } from 'passport-strategy';
import type { Request } from 'express';
import { InvalidDpopProof, InvalidToken } from './resource-server.errors.js';
import type { PresentedRequest, PresentedToken } from './token-verifier.js';

type Done = (error: unknown, user?: unknown) => void;
type Verify = (req: Request, presented: PresentedToken, done: Done) => void;

const AUTHORIZATION = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The token of an `Authorization: Bearer` (RFC 6750 §2.1) or `Authorization: DPoP` (RFC 9449 §7.1) header,
 * with the `DPoP` proof header for the latter; undefined when there is no Authorization header.
 */
export function presentedToken(req: Pick<Request, 'headers'>): PresentedToken | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = AUTHORIZATION.exec(header);
  if (!match) throw new InvalidToken('the Authorization header is neither a Bearer nor a DPoP token');
  if (match[1].toLowerCase() === 'bearer') return { scheme: 'Bearer', token: match[2] };
  const proof = req.headers.dpop;
  if (typeof proof !== 'string') throw new InvalidDpopProof('the DPoP scheme needs one DPoP proof header');
  return { scheme: 'DPoP', token: match[2], proof };
}

/** Method and path as the client sent them (query dropped), for a DPoP proof's htm and htu. */
export function presentedRequest(req: Pick<Request, 'method' | 'originalUrl'>): PresentedRequest {
  return { method: req.method, path: req.originalUrl.split(/[?#]/, 1)[0] };
}

/**
 * A passport strategy that hands the presented token to a verify callback; @nestjs/passport's
 * `PassportStrategy` mixin supplies that callback from the subclass's `validate`.
 */
export class BearerTokenStrategy extends Strategy {
  readonly verifyToken: Verify;

  constructor(...args: unknown[]) {
    super();
    this.verifyToken = args[args.length - 1] as Verify;
  }

  override authenticate(req: Request): void {
    let presented: PresentedToken | undefined;
    try {
      presented = presentedToken(req);
    } catch (error) {
      return this.error(error as Error);
    }
    if (!presented) return this.error(new InvalidToken('no bearer token', true));
    this.verifyToken(req, presented, (error, principal) => {
      if (error) return this.error(error as Error);
      if (!principal) return this.error(new InvalidToken('the token does not verify'));
      this.success(principal as Express.User);
    });
  }
}
