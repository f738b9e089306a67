import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { StoreUnavailable } from '@cloakroom/sealed-store';
import { CsrfRejected, FormInvalid } from './interactions/interaction.errors.js';
import { errorPage } from './interactions/pages.js';

interface Mapped {
  status: number;
  error: string;
  description?: string;
}

/** Every error outside oidc-provider's own routes becomes a page or JSON with a status and a reason. */
@Catch()
export class AuthorizationServerExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly appName: string,
    private readonly logger: Logger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const mapped = this.map(exception);
    if (mapped.status >= 500) {
      this.logger.error({ err: describe(exception), path: req.path, method: req.method }, mapped.error);
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(mapped.status).setHeader('Cache-Control', 'no-store');
    if (req.accepts(['json', 'html']) === 'html') {
      res.type('html').send(errorPage(this.appName, mapped.error, mapped.description));
    } else {
      res.json({ error: mapped.error, error_description: mapped.description });
    }
  }

  private map(exception: unknown): Mapped {
    if (exception instanceof CsrfRejected)
      return { status: 403, error: 'invalid_request', description: exception.message };
    if (exception instanceof FormInvalid)
      return { status: 400, error: 'invalid_request', description: exception.message };
    if (exception instanceof StoreUnavailable) {
      return {
        status: 503,
        error: 'temporarily_unavailable',
        description: 'the authorization store is unavailable',
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return {
        status,
        error: status === 404 ? 'not_found' : 'invalid_request',
        description: exception.message,
      };
    }
    // oidc-provider's errors (an expired interaction, an unknown client) carry an OAuth code and a status.
    const oidc = exception as {
      status?: number;
      error?: string;
      error_description?: string;
      expose?: boolean;
    };
    if (typeof oidc.status === 'number' && typeof oidc.error === 'string' && oidc.expose) {
      return { status: oidc.status, error: oidc.error, description: oidc.error_description };
    }
    return { status: 500, error: 'server_error' };
  }
}

function describe(error: unknown): { name?: string; message?: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
}
