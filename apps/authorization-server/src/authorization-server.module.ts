import { Module } from '@nestjs/common';
import { GracefulShutdown } from '@cloakroom/config';
import type { DynamicModule } from '@nestjs/common';
import Provider from 'oidc-provider';
import { SealedStore } from '@cloakroom/sealed-store';
import { AuthorizationServerConfig } from './authorization-server.config.js';
import { InteractionController } from './interactions/interaction.controller.js';
import { Authenticator, InteractionService } from './interactions/interaction.service.js';
import { ClaimsController } from './oidc/claims.controller.js';
import { ClientPolicies } from './oidc/client-policies.js';
import { ResourceClaims } from './oidc/resource-claims.js';
import { AuthorizationServerMetrics } from './ops/metrics.js';
import { OpsController } from './ops/ops.controller.js';

export interface AuthorizationServerParts {
  config: AuthorizationServerConfig;
  provider: Provider;
  store: SealedStore;
  metrics: AuthorizationServerMetrics;
  authenticator: Authenticator;
  policies: ClientPolicies;
  resourceClaims: ResourceClaims;
  shutdown: GracefulShutdown;
}

/** The Nest side of the authorization server: interaction pages and operations endpoints. */
@Module({})
export class AuthorizationServerModule {
  static register(parts: AuthorizationServerParts): DynamicModule {
    return {
      module: AuthorizationServerModule,
      controllers: [InteractionController, OpsController, ClaimsController],
      providers: [
        { provide: AuthorizationServerConfig, useValue: parts.config },
        { provide: Provider, useValue: parts.provider },
        { provide: SealedStore, useValue: parts.store },
        { provide: AuthorizationServerMetrics, useValue: parts.metrics },
        { provide: Authenticator, useValue: parts.authenticator },
        { provide: ClientPolicies, useValue: parts.policies },
        { provide: ResourceClaims, useValue: parts.resourceClaims },
        { provide: GracefulShutdown, useValue: parts.shutdown },
        InteractionService,
      ],
    };
  }
}
