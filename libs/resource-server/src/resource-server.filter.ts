import { Catch } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { AuthorizationServerUnavailable, InsufficientScope, InvalidToken } from './resource-server.errors.js';

const quoted = (value: string) => value.replace(/["\\]/g, "'");

/**
 * Token failures as RFC 6750 wants them: 401 with a `WWW-Authenticate: Bearer` challenge, 403
 * `insufficient_scope`, and 503 when the authorization server cannot be asked. JSON bodies, never a token.
 */
@Catch(InvalidToken, InsufficientScope, AuthorizationServerUnavailable)
export class ResourceServerExceptionFilter implements ExceptionFilter {
  constructor(private readonly realm: string) {}

  catch(exception: Error, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.setHeader('Cache-Control', 'no-store');
    if (exception instanceof InvalidToken) {
      const challenge = exception.missing
        ? `Bearer realm="${quoted(this.realm)}"`
        : `Bearer realm="${quoted(this.realm)}", error="invalid_token", error_description="${quoted(exception.reason)}"`;
      res.setHeader('WWW-Authenticate', challenge);
      res.status(401).json({
        error: exception.missing ? 'unauthorized' : 'invalid_token',
        error_description: exception.reason,
      });
      return;
    }
    if (exception instanceof InsufficientScope) {
      const scope = exception.required.scopes.join(' ');
      res.setHeader(
        'WWW-Authenticate',
        `Bearer realm="${quoted(this.realm)}", error="insufficient_scope"${scope ? `, scope="${quoted(scope)}"` : ''}`,
      );
      res.status(403).json({ error: 'insufficient_scope', error_description: exception.message });
      return;
    }
    res.setHeader('Retry-After', '5');
    res.status(503).json({
      error: 'authorization_server_unavailable',
      error_description: 'the authorization server could not be reached to check the token',
    });
  }
}
