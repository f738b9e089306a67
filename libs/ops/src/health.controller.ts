import { Controller, Get, Inject, Module, Res } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Health, writeHealth } from './health.js';

/** `/healthz` and `/readyz` on the app's public port, for load balancers that see only that port. */
@Controller()
export class HealthController {
  constructor(@Inject(Health) private readonly health: Health) {}

  @Get('healthz')
  liveness(@Res() res: ServerResponse): void {
    writeHealth(res, this.health.liveness());
  }

  @Get('readyz')
  async readiness(@Res() res: ServerResponse): Promise<void> {
    writeHealth(res, await this.health.readiness());
  }
}

@Module({})
export class HealthModule {
  static register(health: Health): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [{ provide: Health, useValue: health }],
    };
  }
}
