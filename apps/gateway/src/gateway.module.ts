import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { AuthController } from './auth.controller.js';
import { DemoPageController } from './demo-page.controller.js';
import { GatewayContext } from './gateway.context.js';
import { HealthController } from './health.controller.js';

/** The framework side of the gateway: auth endpoints, health, metrics, the demo page. */
@Module({})
export class GatewayModule {
  static with(context: GatewayContext): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [AuthController, HealthController, DemoPageController],
      providers: [{ provide: GatewayContext, useValue: context }],
    };
  }
}
