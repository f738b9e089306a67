import { Catch } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  AuthorizationServerUnavailable,
  DpopReplayCacheFull,
  InsufficientScope,
  InvalidDpopProof,
  InvalidToken,
} from './resource-server.errors.js';
import { DEFAULT_DPOP_ALGORITHMS } from './resource-server.config.js';

const quoted = (value: string) => value.replace(/["\\]/g, "'");

/** The error of a challenge: its code and, where there is one, the reason and the scope needed. */
interface ChallengeError {
  error: string;
  description?: string;
  scope?: string;
}

/**
 * Token failures as RFC 6750 and RFC 9449 §7.1 want them: 401 with a challenge for each scheme this API takes,
 * `Bearer` and `DPoP algs="…"`, the error on the scheme the request used (`invalid_token`,
 * `invalid_dpop_proof`); 403 `insufficient_scope`; 503 when the authorization server cannot be asked. JSON
 * bodies, never a token.
 */
@Catch(InvalidToken, InvalidDpopProof, InsufficientScope, AuthorizationServerUnavailable, DpopReplayCacheFull)
export class ResourceServerExceptionFilter implements ExceptionFilter {
  private readonly algs: string;

  constructor(
    private readonly realm: string,
    dpopAlgorithms: string[] = DEFAULT_DPOP_ALGORITHMS.split(','),
  ) {
    this.algs = dpopAlgorithms.join(' ');
  }

  catch(exception: Error, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const usedDpop = /^DPoP /i.test(http.getRequest<Request>().headers.authorization ?? '');
    res.setHeader('Cache-Control', 'no-store');
    if (exception instanceof InvalidToken || exception instanceof InvalidDpopProof) {
      const missing = exception instanceof InvalidToken && exception.missing;
      const error = exception instanceof InvalidDpopProof ? 'invalid_dpop_proof' : 'invalid_token';
      res.setHeader(
        'WWW-Authenticate',
        this.challenges(missing ? undefined : { error, description: exception.reason }, usedDpop),
      );
      res.status(401).json({
        error: missing ? 'unauthorized' : error,
        error_description: exception.reason,
      });
      return;
    }
    if (exception instanceof InsufficientScope) {
      const scope = exception.required.scopes.join(' ');
      res.setHeader(
        'WWW-Authenticate',
        this.challenges({ error: 'insufficient_scope', scope: scope || undefined }, usedDpop),
      );
      res.status(403).json({ error: 'insufficient_scope', error_description: exception.message });
      return;
    }
    if (exception instanceof DpopReplayCacheFull) {
      res.setHeader('Retry-After', '1');
      res.status(503).json({ error: 'temporarily_unavailable', error_description: exception.message });
      return;
    }
    res.setHeader('Retry-After', '5');
    res.status(503).json({
      error: 'authorization_server_unavailable',
      error_description: 'the authorization server could not be reached to check the token',
    });
  }

  /** One challenge per scheme; the error goes on the scheme the request used. */
  private challenges(failure: ChallengeError | undefined, usedDpop: boolean): string[] {
    const params = (f: ChallengeError | undefined) =>
      f
        ? `, error="${f.error}"` +
          (f.description ? `, error_description="${quoted(f.description)}"` : '') +
          (f.scope ? `, scope="${quoted(f.scope)}"` : '')
        : '';
    const realm = `realm="${quoted(this.realm)}"`;
    return [
      `Bearer ${realm}${params(usedDpop ? undefined : failure)}`,
      `DPoP ${realm}, algs="${this.algs}"${params(usedDpop ? failure : undefined)}`,
    ];
  }
}
