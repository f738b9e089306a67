import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DemoApiMetrics } from './demo-api.metrics.js';

@Controller()
export class OpsController {
  constructor(@Inject(DemoApiMetrics) private readonly metrics: DemoApiMetrics) {}

  @Get('healthz')
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Get('metrics')
  async metricsText(@Res() res: Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
