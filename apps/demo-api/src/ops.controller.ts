import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { GracefulShutdown } from '@cloakroom/config';
import { DemoApiMetrics } from './demo-api.metrics.js';

@Controller()
export class OpsController {
  constructor(
    @Inject(DemoApiMetrics) private readonly metrics: DemoApiMetrics,
    @Inject(GracefulShutdown) private readonly shutdown: GracefulShutdown,
  ) {}

  @Get('healthz')
  health(): { status: string } {
    return { status: 'ok' };
  }

  /** Not ready while shutting down, so that a load balancer stops sending. */
  @Get('readyz')
  ready(@Res({ passthrough: true }) res: Response): { status: string } {
    if (!this.shutdown.draining) return { status: 'ready' };
    res.status(503);
    return { status: 'shutting_down' };
  }

  @Get('metrics')
  async metricsText(@Res() res: Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
