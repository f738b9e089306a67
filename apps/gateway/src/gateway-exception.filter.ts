import { Catch, HttpException, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { RefreshUnavailable } from '@cloakroom/bff-session';
import { StoreUnavailable } from '@cloakroom/sealed-store';
import {
  CsrfRejected,
  IssuerUnavailable,
  LoginFailed,
  LogoutTokenInvalid,
  Unauthenticated,
} from './errors.js';

/** The one place typed errors become HTTP answers. Messages never carry a secret. */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Gateway');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.end();
      return;
    }
    const [status, body] = this.map(error);
    res.status(status).set('cache-control', 'no-store').json(body);
  }

  private map(error: unknown): [number, Record<string, unknown>] {
    if (error instanceof Unauthenticated) return [401, { error: 'unauthenticated' }];
    if (error instanceof CsrfRejected) return [403, { error: 'csrf_check_failed', reason: error.reason }];
    if (error instanceof LoginFailed) {
      this.logger.warn(error.message);
      return [400, { error: 'login_failed' }];
    }
    if (error instanceof LogoutTokenInvalid) {
      this.logger.warn(error.message);
      return [400, { error: 'invalid_request', reason: error.reason }];
    }
    if (error instanceof StoreUnavailable) return [503, { error: 'session_store_unavailable' }];
    if (error instanceof IssuerUnavailable || error instanceof RefreshUnavailable) {
      this.logger.warn(error.message);
      return [503, { error: 'authorization_server_unavailable' }];
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return [status, { error: status === 404 ? 'not_found' : 'bad_request' }];
    }
    this.logger.error(`unexpected ${error instanceof Error ? error.name : typeof error}`);
    return [500, { error: 'internal_error' }];
  }
}
