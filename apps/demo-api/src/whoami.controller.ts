import { Controller, Get, UseGuards } from '@nestjs/common';
import { BearerGuard, CurrentPrincipal } from '@cloakroom/resource-server';
import type { Principal } from '@cloakroom/resource-server';

/** Who the token says is calling, and what it cost to carry that. */
@Controller('api/whoami')
@UseGuards(BearerGuard)
export class WhoamiController {
  @Get()
  whoami(@CurrentPrincipal() principal: Principal) {
    return {
      sub: principal.sub,
      clientId: principal.clientId,
      scopes: principal.scopes,
      groupsCount: principal.groups.length,
      tokenBytes: principal.tokenBytes,
      via: principal.via,
    };
  }
}
