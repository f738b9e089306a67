import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { GracefulShutdown } from '@cloakroom/config';
import { SealedStore } from '@cloakroom/sealed-store';
import { GatewayMetrics } from './gateway.metrics.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(SealedStore) private readonly store: SealedStore,
    @Inject(GracefulShutdown) private readonly shutdown: GracefulShutdown,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
  ) {}

  @Get('healthz')
  health(): { status: string } {
    return { status: 'ok' };
  }

  /**
   * Ready when the session store answers; the authorization server is discovered lazily and retried. Not ready
   * while shutting down, so that a load balancer stops sending.
   */
  @Get('readyz')
  async ready(@Res() res: Response): Promise<void> {
    if (this.shutdown.draining) {
      res.status(503).json({ status: 'unavailable', error: 'shutting_down' });
      return;
    }
    try {
      await this.store.ping();
      res.status(200).json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'unavailable', error: 'session_store_unavailable' });
    }
  }

  @Get('metrics')
  async metricsText(@Res() res: Response): Promise<void> {
    res.set('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
