import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { GatewayContext } from './gateway.context.js';

@Controller()
export class HealthController {
  constructor(@Inject(GatewayContext) private readonly context: GatewayContext) {}

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
    if (this.context.shutdown.draining) {
      res.status(503).json({ status: 'unavailable', error: 'shutting_down' });
      return;
    }
    try {
      await this.context.store.ping();
      res.status(200).json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'unavailable', error: 'session_store_unavailable' });
    }
  }

  @Get('metrics')
  async metrics(@Res() res: Response): Promise<void> {
    const { metrics, sessions } = this.context;
    metrics.cacheEntries.set(sessions.cache.size);
    res.set('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  }
}
