import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { BffModule } from '@cloakroom/bff';
import { GracefulShutdown } from '@cloakroom/config';
import { DemoPageController } from './demo-page.controller.js';
import { GatewayConfig } from './gateway.config.js';
import { GatewayMetrics } from './gateway.metrics.js';
import { HealthController } from './health.controller.js';

/** The gateway: the BFF, its health and metrics, and the demo page. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, metrics: GatewayMetrics, shutdown: GracefulShutdown): DynamicModule {
    return {
      module: GatewayModule,
      imports: [BffModule.forRoot(config, { observer: metrics })],
      controllers: [HealthController, DemoPageController],
      providers: [
        { provide: GatewayConfig, useValue: config },
        { provide: GatewayMetrics, useValue: metrics },
        { provide: GracefulShutdown, useValue: shutdown },
      ],
    };
  }
}
