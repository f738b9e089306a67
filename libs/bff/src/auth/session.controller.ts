import { Controller, Delete, Get, Header, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BffConfig } from '../bff.config.js';
import { checkCsrf, checkCsrfHeader } from '../http/csrf.js';
import { SESSION_EXPIRES_IN } from '../proxy/api.proxy.js';
import { SessionCookies } from '../session/session.cookie.js';
import type { UserView } from '../session/user-view.js';
import { SessionControlService } from './session-control.service.js';
import type { SessionListView, SessionsEnded } from './session-control.service.js';

/**
 * The session as a single-page app sees it and controls it. Reading needs `X-CSRF: 1` too, so a cross-site page
 * cannot have it read with the user's cookie; ending needs the header and an allowed Origin, like logout.
 */
@Controller('auth')
export class SessionController {
  private readonly allowedOrigins: Set<string>;

  constructor(
    @Inject(SessionControlService) private readonly control: SessionControlService,
    @Inject(SessionCookies) private readonly cookies: SessionCookies,
    @Inject(BffConfig) config: BffConfig,
  ) {
    this.allowedOrigins = new Set(config.allowedOrigins);
  }

  @Get('user')
  @Header('Cache-Control', 'no-store')
  async user(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<UserView> {
    checkCsrfHeader(req.headers);
    const view = await this.control.user(this.ticketOf(req.headers.cookie));
    res.set(SESSION_EXPIRES_IN, String(view.session.expiresInSeconds));
    return view;
  }

  @Get('sessions')
  @Header('Cache-Control', 'no-store')
  sessions(@Req() req: Request): Promise<{ sessions: SessionListView[] }> {
    checkCsrfHeader(req.headers);
    return this.control.list(this.ticketOf(req.headers.cookie));
  }

  /** "Sign out everywhere else". */
  @Post('sessions/sign-out-others')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  signOutOthers(@Req() req: Request): Promise<SessionsEnded> {
    checkCsrf(req.method, req.headers, this.allowedOrigins);
    return this.control.end(this.ticketOf(req.headers.cookie));
  }

  /** Ends one other session of this user; this session itself is ended by `POST /auth/logout`. */
  @Delete('sessions/:id')
  @Header('Cache-Control', 'no-store')
  endOne(@Req() req: Request, @Param('id') id: string): Promise<SessionsEnded> {
    checkCsrf(req.method, req.headers, this.allowedOrigins);
    return this.control.end(this.ticketOf(req.headers.cookie), id);
  }

  private ticketOf(cookieHeader: string | undefined): string | undefined {
    return SessionCookies.find(cookieHeader, this.cookies.session);
  }
}
