import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InteractionService } from './interaction.service.js';

/** The pages oidc-provider sends the browser to; each answer is written by the service. */
@Controller('interaction/:uid')
export class InteractionController {
  constructor(@Inject(InteractionService) private readonly interactions: InteractionService) {}

  @Get()
  show(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.interactions.show(req, res);
  }

  @Post('login')
  login(@Req() req: Request, @Res() res: Response, @Body() body: unknown): Promise<void> {
    return this.interactions.login(req, res, body);
  }

  @Post('confirm')
  confirm(@Req() req: Request, @Res() res: Response, @Body() body: unknown): Promise<void> {
    return this.interactions.confirm(req, res, body);
  }

  @Post('abort')
  abort(@Req() req: Request, @Res() res: Response, @Body() body: unknown): Promise<void> {
    return this.interactions.abort(req, res, body);
  }
}
