import { Catch, HttpException, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RefreshUnavailable } from '@cloakroom/bff-session';
import { StoreUnavailable } from '@cloakroom/sealed-store';
import { ERROR_PAGE_SECURITY_POLICY, PAGES, prefersHtml, renderErrorPage } from './error-page.js';
import type { ErrorPage } from './error-page.js';
import {
  CsrfRejected,
  IssuerUnavailable,
  LoginFailed,
  LogoutTokenInvalid,
  PendingLoginUnknown,
  Unauthenticated,
} from './errors.js';

/** Where a navigation whose login is not in progress goes: a new login, marked as a restart. */
const RESTART_LOGIN = '/auth/login?returnTo=%2F&restart=1';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  page: ErrorPage;
}

/**
 * The one place typed errors become HTTP answers: JSON for scripts, a page with a sentence and a link for
 * a person's browser. Messages never carry a secret.
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Gateway');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    if (res.headersSent) {
      res.end();
      return;
    }
    res.set('cache-control', 'no-store');
    const html = prefersHtml(req);
    if (error instanceof PendingLoginUnknown && error.restartable && html) {
      this.logger.warn(`${error.message}; starting a new login`);
      res.redirect(302, RESTART_LOGIN);
      return;
    }
    const { status, body, page } = this.map(error);
    if (html) {
      res.status(status).set('content-security-policy', ERROR_PAGE_SECURITY_POLICY).type('html');
      res.send(renderErrorPage(status, page));
      return;
    }
    res.status(status).json(body);
  }

  private map(error: unknown): Answer {
    if (error instanceof Unauthenticated) return answer(401, 'unauthenticated', PAGES.unauthenticated);
    if (error instanceof CsrfRejected) {
      return {
        ...answer(403, 'csrf_check_failed', PAGES.csrf),
        body: { error: 'csrf_check_failed', reason: error.reason },
      };
    }
    if (error instanceof LoginFailed || error instanceof PendingLoginUnknown) {
      this.logger.warn(error.message);
      return answer(
        400,
        'login_failed',
        error instanceof LoginFailed ? PAGES.loginFailed : PAGES.loginUnknown,
      );
    }
    if (error instanceof LogoutTokenInvalid) {
      this.logger.warn(error.message);
      return {
        ...answer(400, 'invalid_request', PAGES.badRequest),
        body: { error: 'invalid_request', reason: error.reason },
      };
    }
    if (error instanceof StoreUnavailable)
      return answer(503, 'session_store_unavailable', PAGES.storeUnavailable);
    if (error instanceof IssuerUnavailable || error instanceof RefreshUnavailable) {
      this.logger.warn(error.message);
      return answer(503, 'authorization_server_unavailable', PAGES.issuerUnavailable);
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return status === 404
        ? answer(404, 'not_found', PAGES.notFound)
        : answer(status, 'bad_request', PAGES.badRequest);
    }
    this.logger.error(`unexpected ${error instanceof Error ? error.name : typeof error}`);
    return answer(500, 'internal_error', PAGES.internal);
  }
}

function answer(status: number, error: string, page: ErrorPage): Answer {
  return { status, body: { error }, page };
}
