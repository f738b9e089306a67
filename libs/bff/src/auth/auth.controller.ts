import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Inject,
  Post,
  Query,
  Redirect,
  Req,
  Res,
} from '@nestjs/common';
import type { HttpRedirectResponse } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BffConfig } from '../bff.config.js';
import { checkCsrf } from '../http/csrf.js';
import type { SessionView } from '../session/session-view.js';
import { SessionCookies } from '../session/session.cookie.js';
import { AuthService } from './auth.service.js';
import type { AuthOutcome } from './auth.service.js';

/** The BFF's own endpoints. Each calls the service and hands its outcome back to Nest. */
@Controller('auth')
export class AuthController {
  private readonly allowedOrigins: Set<string>;

  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(SessionCookies) private readonly cookies: SessionCookies,
    @Inject(BffConfig) config: BffConfig,
  ) {
    this.allowedOrigins = new Set(config.allowedOrigins);
  }

  @Get('login')
  @Redirect()
  @Header('Cache-Control', 'no-store')
  async login(
    @Query('returnTo') returnTo: unknown,
    @Query('restart') restart: unknown,
    @Headers('cookie') cookie: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HttpRedirectResponse> {
    return redirect(res, await this.auth.login(returnTo, cookie, restart === '1'));
  }

  /**
   * `mode=iframe`: the callback ends on a page that posts the outcome to its parent; otherwise the browser comes back
   * to `returnTo` with the outcome in the fragment (`#silent-login=ok`, `#silent-login=login_required` …).
   */
  @Get('silent-login')
  @Redirect()
  @Header('Cache-Control', 'no-store')
  async silentLogin(
    @Query('returnTo') returnTo: unknown,
    @Query('mode') mode: unknown,
    @Headers('cookie') cookie: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HttpRedirectResponse> {
    return redirect(
      res,
      await this.auth.silentLogin(returnTo, mode === 'iframe' ? 'iframe' : 'redirect', cookie),
    );
  }

  /** A redirect, or for a silent login in an iframe the page that tells its parent: written here, not by Nest. */
  @Get('callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const outcome = await this.auth.callback(req.originalUrl, req.headers.cookie, req.headers['user-agent']);
    res.set('cache-control', 'no-store');
    if (outcome.cookies.length > 0) res.append('set-cookie', outcome.cookies);
    if (outcome.page) {
      res
        .status(outcome.status)
        .set('content-security-policy', outcome.page.csp)
        .type('html')
        .send(outcome.page.html);
      return;
    }
    res.redirect(outcome.status, outcome.location!);
  }

  @Get('session')
  @Header('Cache-Control', 'no-store')
  session(@Headers('cookie') cookie: string | undefined): Promise<SessionView> {
    return this.auth.session(SessionCookies.find(cookie, this.cookies.session));
  }

  @Post('logout')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    checkCsrf(req.method, req.headers, this.allowedOrigins);
    const ticket = SessionCookies.find(req.headers.cookie, this.cookies.session);
    return body(res, await this.auth.logout(ticket));
  }

  @Post('backchannel-logout')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async backchannelLogout(
    @Body() form: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const token =
      form && typeof form === 'object' ? (form as Record<string, unknown>).logout_token : undefined;
    return body(res, await this.auth.backchannelLogout(token));
  }
}

function redirect(res: Response, outcome: AuthOutcome): HttpRedirectResponse {
  if (outcome.cookies.length > 0) res.append('set-cookie', outcome.cookies);
  return { url: outcome.location!, statusCode: outcome.status };
}

function body(res: Response, outcome: AuthOutcome): unknown {
  if (outcome.cookies.length > 0) res.append('set-cookie', outcome.cookies);
  return outcome.body;
}
