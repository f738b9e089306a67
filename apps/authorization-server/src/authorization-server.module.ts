import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { SealedStore } from '@cloakroom/sealed-store';
import { Health, HealthModule } from '@cloakroom/ops';
import { AuthorizationServerConfig } from './authorization-server.config.js';
import { InteractionController } from './interactions/interaction.controller.js';
import { Authenticator, InteractionService } from './interactions/interaction.service.js';
import { ClaimsController } from './oidc/claims.controller.js';
import { ClientPolicies } from './oidc/client-policies.js';
import { ProviderSwitch } from './oidc/provider.switch.js';
import { ResourceClaims } from './oidc/resource-claims.js';
import { AuthorizationServerMetrics } from './authorization-server.metrics.js';

export interface AuthorizationServerParts {
  config: AuthorizationServerConfig;
  providers: ProviderSwitch;
  store: SealedStore;
  metrics: AuthorizationServerMetrics;
  authenticator: Authenticator;
  policies: ClientPolicies;
  resourceClaims: ResourceClaims;
  health: Health;
}

/** The Nest side of the authorization server: interaction pages, claims, and /healthz and /readyz. */
@Module({})
export class AuthorizationServerModule {
  static register(parts: AuthorizationServerParts): DynamicModule {
    return {
      module: AuthorizationServerModule,
      imports: [HealthModule.register(parts.health)],
      controllers: [InteractionController, ClaimsController],
      providers: [
        { provide: AuthorizationServerConfig, useValue: parts.config },
        { provide: ProviderSwitch, useValue: parts.providers },
        { provide: SealedStore, useValue: parts.store },
        { provide: AuthorizationServerMetrics, useValue: parts.metrics },
        { provide: Authenticator, useValue: parts.authenticator },
        { provide: ClientPolicies, useValue: parts.policies },
        { provide: ResourceClaims, useValue: parts.resourceClaims },
        InteractionService,
      ],
    };
  }
}
