import { Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { BearerTokenStrategy, presentedRequest } from './bearer.strategy.js';
import type { Request } from 'express';
import { InsufficientScope, InvalidToken } from './resource-server.errors.js';
import type { Principal } from './principal.js';
import type { TokenValidation } from './resource-server.config.js';
import { TokenVerifier } from './token-verifier.js';
import type { PresentedToken } from './token-verifier.js';

const SCOPES = 'cloakroom:required-scopes';
const GROUPS = 'cloakroom:required-groups';

/** The route needs every one of these scopes (403 `insufficient_scope` otherwise). */
export const RequireScopes = (...scopes: string[]) => SetMetadata(SCOPES, scopes);
/** The route needs at least one of these groups. */
export const RequireGroups = (...groups: string[]) => SetMetadata(GROUPS, groups);
/** The verified principal of the request. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<{ user: Principal }>().user,
);

/** A token verifier per validation mode; the strategies and guards find theirs by this token. */
export const VERIFIERS = Symbol('cloakroom:token-verifiers');
export type Verifiers = Record<TokenValidation, TokenVerifier>;

/**
 * Passport keeps strategies in one process-wide registry, so a strategy cannot hold an app's verifiers:
 * the guard (one per app) hands them over on the request.
 */
const ON_REQUEST = Symbol('cloakroom:verifiers-of-this-app');
type WithVerifiers = { [ON_REQUEST]?: Verifiers };

function strategyFor(mode: TokenValidation) {
  @Injectable()
  class ModeStrategy extends PassportStrategy(BearerTokenStrategy, `cloakroom-${mode}`) {
    constructor() {
      super();
    }
    validate(req: Request & WithVerifiers, presented: PresentedToken): Promise<Principal> {
      const verifiers = req[ON_REQUEST];
      if (!verifiers) throw new Error('a cloakroom bearer strategy ran without its guard');
      return verifiers[mode].authenticate(presented, presentedRequest(req));
    }
  }
  return ModeStrategy;
}

export const JwtBearerStrategy = strategyFor('jwt');
export const IntrospectionBearerStrategy = strategyFor('introspection');
export const AutoBearerStrategy = strategyFor('auto');

function guardFor(mode: TokenValidation) {
  @Injectable()
  class ModeGuard extends AuthGuard(`cloakroom-${mode}`) implements CanActivate {
    constructor(
      @Inject(Reflector) readonly reflector: Reflector,
      @Inject(VERIFIERS) readonly verifiers: Verifiers,
    ) {
      super();
    }

    override async canActivate(context: ExecutionContext): Promise<boolean> {
      context.switchToHttp().getRequest<WithVerifiers>()[ON_REQUEST] = this.verifiers;
      await super.canActivate(context);
      const principal = context.switchToHttp().getRequest<{ user: Principal }>().user;
      const targets = [context.getHandler(), context.getClass()];
      const scopes = this.reflector.getAllAndOverride<string[]>(SCOPES, targets) ?? [];
      const groups = this.reflector.getAllAndOverride<string[]>(GROUPS, targets) ?? [];
      const missing = scopes.filter((scope) => !principal.scopes.includes(scope));
      if (missing.length > 0) {
        throw new InsufficientScope({ scopes, groups }, `this route needs the scope ${missing.join(' ')}`);
      }
      if (groups.length > 0 && !groups.some((group) => principal.groups.includes(group))) {
        throw new InsufficientScope(
          { scopes, groups },
          `this route needs membership of ${groups.join(' or ')}`,
        );
      }
      return true;
    }

    override handleRequest<T>(error: unknown, principal: T): T {
      if (error) throw error;
      if (!principal) throw new InvalidToken('the token does not verify');
      return principal;
    }
  }
  return ModeGuard;
}

/** Accepts only JWT access tokens, verified against the issuer's JWKS. */
export const JwtGuard = guardFor('jwt');
/** Accepts only tokens the introspection endpoint calls active. */
export const IntrospectionGuard = guardFor('introspection');
/** JWTs locally, everything else by introspection. */
export const BearerGuard = guardFor('auto');
