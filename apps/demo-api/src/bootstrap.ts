import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { Module, ValidationPipe } from '@nestjs/common';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { pino } from 'pino';
import { loadConfig } from '@cloakroom/config';
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
  close(): Promise<void>;
}

@Module({})
class DemoApiModule {
  static register(config: DemoApiConfig, verifiers: Verifiers, metrics: DemoApiMetrics): DynamicModule {
    return {
      module: DemoApiModule,
      imports: [ResourceServerModule.forRoot(config, verifiers)],
      controllers: [WhoamiController, OrdersController, OpsController],
      providers: [
        { provide: OrderBook, useValue: new OrderBook() },
        { provide: DemoApiMetrics, useValue: metrics },
      ],
    };
  }
}

/** Starts the demo API: an internal service that trusts only bearer tokens it can verify. */
export async function startDemoApi(
  env: Record<string, string | undefined> = process.env,
): Promise<RunningDemoApi> {
  const config = loadConfig(DemoApiConfig, env, (c) => demoApiConfigProblems(c, env));
  const logger = pino({ name: 'demo-api', level: config.LOG_LEVEL, redact: ['req.headers.authorization'] });
  const verifiers = createVerifiers(config);
  const metrics = new DemoApiMetrics(verifiers);
  const app = await NestFactory.create(DemoApiModule.register(config, verifiers, metrics), {
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
  app.enableShutdownHooks();
  await app.listen(config.PORT, config.HOST);
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://${config.HOST}:${port}`;
  // DPoP proofs name the URL the client called; unset, that is the address this API answers on.
  config.RESOURCE_PUBLIC_URL ??= url;
  return { url, app, verifiers, close: () => app.close() };
}
