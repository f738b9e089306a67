import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { Module, ValidationPipe } from '@nestjs/common';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { pino } from 'pino';
import { ConfigInvalid, GracefulShutdown, ShutdownConfig, checkConfig } from '@cloakroom/config';
import {
  ResourceServerExceptionFilter,
  ResourceServerModule,
  createVerifiers,
} from '@cloakroom/resource-server';
import type { Verifiers } from '@cloakroom/resource-server';
import { DemoApiConfig, demoApiConfigProblems } from './demo-api.config.js';
import { DemoApiMetrics } from './demo-api.metrics.js';
import { JsonTooDeep, jsonNestsDeeperThan } from './json-depth.js';
import { OpsController } from './ops.controller.js';
import { OrderBook } from './order.book.js';
import { OrdersController } from './orders.controller.js';
import { WhoamiController } from './whoami.controller.js';

export interface RunningDemoApi {
  url: string;
  app: INestApplication;
  verifiers: Verifiers;
  /** Drains the connections (within SHUTDOWN_GRACE_MS), then closes the app. */
  close(): Promise<void>;
  /** How long `close` may take. */
  closeDeadlineMs: number;
}

@Module({})
class DemoApiModule {
  static register(
    config: DemoApiConfig,
    verifiers: Verifiers,
    metrics: DemoApiMetrics,
    shutdown: GracefulShutdown,
  ): DynamicModule {
    return {
      module: DemoApiModule,
      imports: [ResourceServerModule.forRoot(config, verifiers)],
      controllers: [WhoamiController, OrdersController, OpsController],
      providers: [
        { provide: OrderBook, useValue: new OrderBook() },
        { provide: DemoApiMetrics, useValue: metrics },
        { provide: GracefulShutdown, useValue: shutdown },
      ],
    };
  }
}

/** Starts the demo API: an internal service that trusts only bearer tokens it can verify. */
export async function startDemoApi(
  env: Record<string, string | undefined> = process.env,
): Promise<RunningDemoApi> {
  const settings = checkConfig(DemoApiConfig, env, (c) => demoApiConfigProblems(c, env));
  const shutdownSettings = checkConfig(ShutdownConfig, env);
  const problems = [...settings.problems, ...shutdownSettings.problems];
  if (problems.length > 0) throw new ConfigInvalid(problems);
  const config = settings.config;
  const shutdown = new GracefulShutdown(shutdownSettings.config.SHUTDOWN_GRACE_MS);
  const logger = pino({ name: 'demo-api', level: config.LOG_LEVEL, redact: ['req.headers.authorization'] });
  const verifiers = createVerifiers(config);
  const metrics = new DemoApiMetrics(verifiers);
  const app = await NestFactory.create(DemoApiModule.register(config, verifiers, metrics, shutdown), {
    bodyParser: false,
    logger: ['error', 'warn'],
  });
  app.use(
    express.json({
      limit: '64kb',
      verify: (_req, _res, body) => {
        if (jsonNestsDeeperThan(body)) throw new JsonTooDeep();
      },
    }),
    (error: { status?: number }, _req: Request, res: Response, next: NextFunction) => {
      if (!error) return next();
      res.status(error.status && error.status < 500 ? error.status : 400).json({
        error: 'invalid_request',
        error_description:
          error instanceof JsonTooDeep ? error.message : 'the body must be JSON of at most 64 KiB',
      });
    },
  );
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.on('finish', () => {
      const route = req.route?.path ?? (res.statusCode === 404 ? 'unknown' : req.path);
      metrics.requests.inc({ route: String(route), status: String(res.statusCode) });
      logger.info({ method: req.method, path: req.path, status: res.statusCode }, 'request');
    });
    next();
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(
    new ResourceServerExceptionFilter(config.RESOURCE_AUDIENCE, config.DPOP_ALGORITHMS.split(',')),
  );
  if (config.BASE_PATH) app.setGlobalPrefix(config.BASE_PATH, { exclude: ['healthz', 'readyz', 'metrics'] });
  // No Nest signal hooks: main.ts drains on SIGTERM, whereas Nest's hook would exit with requests in flight.
  await app.init();
  shutdown.watch(app.getHttpServer());
  await app.listen(config.PORT, config.HOST);
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://${config.HOST}:${port}`;
  // DPoP proofs name the URL the client called; unset, that is the address this API answers on.
  config.RESOURCE_PUBLIC_URL ??= url;
  return {
    url,
    app,
    verifiers,
    closeDeadlineMs: shutdownSettings.config.SHUTDOWN_GRACE_MS + 1000,
    close: async () => {
      const { forced } = await shutdown.drain();
      if (forced) logger.warn('shutdown grace period over: the requests still in flight were cut');
      await app.close();
    },
  };
}
