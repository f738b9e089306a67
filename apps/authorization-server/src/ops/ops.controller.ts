import { Controller, Get, Header, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { GracefulShutdown } from '@cloakroom/config';
import { SealedStore } from '@cloakroom/sealed-store';
import { AuthorizationServerMetrics } from './metrics.js';

@Controller()
export class OpsController {
  constructor(
    @Inject(SealedStore) private readonly store: SealedStore,
    @Inject(AuthorizationServerMetrics) private readonly metrics: AuthorizationServerMetrics,
    @Inject(GracefulShutdown) private readonly shutdown: GracefulShutdown,
  ) {}

  /** The process is up. */
  @Get('healthz')
  health(): { status: string } {
    return { status: 'ok' };
  }

  /** The store answers and the server is not shutting down: it can take traffic. */
  @Get('readyz')
  async ready(@Res({ passthrough: true }) res: Response): Promise<{ status: string }> {
    if (this.shutdown.draining) {
      res.status(503);
      return { status: 'shutting_down' };
    }
    try {
      await this.store.ping();
      return { status: 'ready' };
    } catch {
      res.status(503);
      return { status: 'store_unavailable' };
    }
  }

  @Get('metrics')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async metricsText(@Res() res: Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
