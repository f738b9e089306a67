import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ClaimsTokenInvalid, CLAIMS_PATH, ResourceClaims } from './resource-claims.js';

/**
 * The distributed claims endpoint (OpenID Connect Core §5.6.2): an API that received an access token whose
 * heavy claims were moved out presents that token here and gets them back as a signed JWT.
 */
@Controller()
export class ClaimsController {
  constructor(@Inject(ResourceClaims) private readonly claims: ResourceClaims) {}

  @Get(CLAIMS_PATH.slice(1))
  async distributed(@Headers('authorization') authorization: string | undefined, @Res() res: Response) {
    res.set('Cache-Control', 'no-store');
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
    if (!match) {
      res.set('WWW-Authenticate', 'Bearer');
      res.status(401).json({ error: 'invalid_request', error_description: 'an access token is required' });
      return;
    }
    try {
      res.type('application/jwt').send(await this.claims.answer(match[1]!));
    } catch (error) {
      if (!(error instanceof ClaimsTokenInvalid)) throw error;
      const description = error.message;
      res.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`);
      res.status(401).json({ error: 'invalid_token', error_description: description });
    }
  }
}
