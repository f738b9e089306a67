import { Strategy } from 'passport-strategy';
import type { Request } from 'express';
import { InvalidToken } from './resource-server.errors.js';

type Done = (error: unknown, user?: unknown) => void;
type Verify = (req: Request, token: string, done: Done) => void;

/** The token of an `Authorization: Bearer` header (RFC 6750 §2.1); undefined when there is none. */
export function bearerToken(req: Pick<Request, 'headers'>): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match) throw new InvalidToken('the Authorization header is not a Bearer token');
  return match[1];
}

/**
 * A passport strategy that hands the bearer token to a verify callback; @nestjs/passport's
 * `PassportStrategy` mixin supplies that callback from the subclass's `validate`.
 */
export class BearerTokenStrategy extends Strategy {
  readonly verifyToken: Verify;

  constructor(...args: unknown[]) {
    super();
    this.verifyToken = args[args.length - 1] as Verify;
  }

  override authenticate(req: Request): void {
    let token: string | undefined;
    try {
      token = bearerToken(req);
    } catch (error) {
      return this.error(error as Error);
    }
    if (!token) return this.error(new InvalidToken('no bearer token', true));
    this.verifyToken(req, token, (error, principal) => {
      if (error) return this.error(error as Error);
      if (!principal) return this.error(new InvalidToken('the token does not verify'));
      this.success(principal as Express.User);
    });
  }
}
