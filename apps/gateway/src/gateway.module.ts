import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { BffModule } from '@cloakroom/bff';
import type { BffModuleOptions } from '@cloakroom/bff';
import { HealthModule } from '@cloakroom/ops';
import type { Health } from '@cloakroom/ops';
import { DemoPageController } from './demo-page.controller.js';

/** The gateway: the BFF, health on the public port, and the demo page. */
@Module({})
export class GatewayModule {
  static forRoot(config: BffModuleConfig, bff: BffModuleOptions, health: Health): DynamicModule {
    return {
      module: GatewayModule,
      imports: [BffModule.forRoot(config, bff), HealthModule.register(health)],
      controllers: [DemoPageController],
    };
  }
}

type BffModuleConfig = Parameters<typeof BffModule.forRoot>[0];
