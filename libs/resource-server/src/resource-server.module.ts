import { Global, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import {
  AutoBearerStrategy,
  BearerGuard,
  IntrospectionBearerStrategy,
  IntrospectionGuard,
  JwtBearerStrategy,
  JwtGuard,
  VERIFIERS,
} from './resource-server.guards.js';
import type { Verifiers } from './resource-server.guards.js';
import type { ResourceServerConfig, TokenValidation } from './resource-server.config.js';
import { DpopProofVerifier } from './dpop-proof.verifier.js';
import { TokenVerifier, dpopOptions } from './token-verifier.js';
import type { ResourceServerTracing } from './resource-server.tracing.js';

/**
 * Builds one verifier per validation mode from one configuration, sharing one DPoP replay cache; with `tracing`, their
 * calls to the authorization server are spans.
 */
export function createVerifiers(config: ResourceServerConfig, tracing?: ResourceServerTracing): Verifiers {
  const modes: TokenValidation[] = ['jwt', 'introspection', 'auto'];
  const dpop = new DpopProofVerifier(dpopOptions(config));
  return Object.fromEntries(
    modes.map((mode) => [
      mode,
      new TokenVerifier(
        Object.assign(Object.create(config), { TOKEN_VALIDATION: mode }),
        Date.now,
        dpop,
        tracing,
      ),
    ]),
  ) as Verifiers;
}

/**
 * Bearer-token protection for an internal API: `@UseGuards(BearerGuard)` (or JwtGuard, IntrospectionGuard),
 * `@RequireScopes`, `@RequireGroups`, `@CurrentPrincipal()`; register ResourceServerExceptionFilter.
 */
@Global()
@Module({})
export class ResourceServerModule {
  static forRoot(
    config: ResourceServerConfig,
    verifiers: Verifiers = createVerifiers(config),
  ): DynamicModule {
    return {
      module: ResourceServerModule,
      imports: [PassportModule],
      providers: [
        { provide: VERIFIERS, useValue: verifiers },
        JwtBearerStrategy,
        IntrospectionBearerStrategy,
        AutoBearerStrategy,
        JwtGuard,
        IntrospectionGuard,
        BearerGuard,
      ],
      exports: [VERIFIERS, JwtGuard, IntrospectionGuard, BearerGuard],
    };
  }
}
