import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SessionCookies } from './session.cookie.js';
import type { AuthOutcome } from './auth.service.js';
import { checkCsrf } from './csrf.js';
import { GatewayContext } from './gateway.context.js';

@Controller('auth')
export class AuthController {
  private readonly allowedOrigins: Set<string>;

  constructor(@Inject(GatewayContext) private readonly context: GatewayContext) {
    this.allowedOrigins = new Set(context.config.allowedOrigins);
  }

  @Get('login')
  async login(
    @Query('returnTo') returnTo: unknown,
    @Query('restart') restart: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    send(res, await this.context.auth.login(returnTo, req.headers.cookie, restart === '1'));
  }

  @Get('callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    send(res, await this.context.auth.callback(req.originalUrl, req.headers.cookie));
  }

  @Get('session')
  async session(@Req() req: Request, @Res() res: Response): Promise<void> {
    const view = await this.context.auth.session(ticketOf(req, this.context.cookies));
    res.set('cache-control', 'no-store').json(view);
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: Request, @Res() res: Response): Promise<void> {
    checkCsrf(req.method, req.headers, this.allowedOrigins);
    send(res, await this.context.auth.logout(ticketOf(req, this.context.cookies)));
  }

  @Post('backchannel-logout')
  @HttpCode(200)
  async backchannelLogout(@Body() body: unknown, @Res() res: Response): Promise<void> {
    const token =
      body && typeof body === 'object' ? (body as Record<string, unknown>).logout_token : undefined;
    send(res, await this.context.auth.backchannelLogout(token));
  }
}

function ticketOf(req: Request, cookies: SessionCookies): string | undefined {
  return SessionCookies.find(req.headers.cookie, cookies.session);
}

function send(res: Response, outcome: AuthOutcome): void {
  res.set('cache-control', 'no-store');
  if (outcome.cookies.length > 0) res.append('set-cookie', outcome.cookies);
  if (outcome.location !== undefined) {
    res.redirect(outcome.status, outcome.location);
    return;
  }
  res.status(outcome.status).json(outcome.body);
}
