import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { BearerGuard, CurrentPrincipal } from '@cloakroom/resource-server';
import type { Principal } from '@cloakroom/resource-server';

/** Who the token says is calling, and what it cost to carry that. */
@Controller('api/whoami')
@UseGuards(BearerGuard)
export class WhoamiController {
  /** `?group=<name>` (repeatable) also says whether the caller is in each of those groups. */
  @Get()
  whoami(@CurrentPrincipal() principal: Principal, @Query('group') asked?: string | string[]) {
    const names = ([] as string[]).concat(asked ?? []).slice(0, 20);
    const groups = new Set(principal.groups);
    return {
      sub: principal.sub,
      clientId: principal.clientId,
      scopes: principal.scopes,
      groupsCount: principal.groups.length,
      tokenBytes: principal.tokenBytes,
      via: principal.via,
      ...(names.length > 0 ? { memberOf: Object.fromEntries(names.map((n) => [n, groups.has(n)])) } : {}),
    };
  }
}
