import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { Module, ValidationPipe } from '@nestjs/common';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigInvalid, GracefulShutdown, ShutdownConfig, checkConfig } from '@cloakroom/config';
import {
  AccessLog,
  Health,
  HealthModule,
  MANAGEMENT_PORTS,
  OpsConfig,
  PinoNestLogger,
  TRACES_FLUSH_MS,
  TracingConfig,
  accessLogMiddleware,
  createLogger,
  createRegistry,
  managementPort,
  opsConfigProblems,
  startManagementServer,
  startTracing,
} from '@cloakroom/ops';
import type { TracingOptions } from '@cloakroom/ops';
import {
  ResourceServerExceptionFilter,
  ResourceServerModule,
  createVerifiers,
  registerResourceServerMetrics,
} from '@cloakroom/resource-server';
import type { Verifiers } from '@cloakroom/resource-server';
import { DemoApiConfig, demoApiConfigProblems } from './demo-api.config.js';
import { JsonTooDeep, jsonNestsDeeperThan } from './json-depth.js';
import { OrderBook } from './order.book.js';
import { OrdersController } from './orders.controller.js';
import { WhoamiController } from './whoami.controller.js';

export interface RunningDemoApi {
  url: string;
  /** Where `/healthz`, `/readyz` and `/metrics` answer (MANAGEMENT_HOST, MANAGEMENT_PORT). */
  managementUrl: string;
  app: INestApplication;
  verifiers: Verifiers;
  /** Drains the connections (within SHUTDOWN_GRACE_MS), then closes the app. */
  close(): Promise<void>;
  /** How long `close` may take. */
  closeDeadlineMs: number;
}

@Module({})
class DemoApiModule {
  static register(config: DemoApiConfig, verifiers: Verifiers, health: Health): DynamicModule {
    return {
      module: DemoApiModule,
      imports: [ResourceServerModule.forRoot(config, verifiers), HealthModule.register(health)],
      controllers: [WhoamiController, OrdersController],
      providers: [{ provide: OrderBook, useValue: new OrderBook() }],
    };
  }
}

export interface DemoApiOptions {
  /** Takes the spans in place of the OTLP exporter when tracing is on (tests). */
  spanExporter?: TracingOptions['exporter'];
}

/** Starts the demo API: an internal service that trusts only bearer tokens it can verify. */
export async function startDemoApi(
  env: Record<string, string | undefined> = process.env,
  options: DemoApiOptions = {},
): Promise<RunningDemoApi> {
  const settings = checkConfig(DemoApiConfig, env, (c) => demoApiConfigProblems(c, env));
  const shutdownSettings = checkConfig(ShutdownConfig, env);
  const ports = { port: settings.config.PORT, defaultPort: MANAGEMENT_PORTS.demoApi };
  const opsSettings = checkConfig(OpsConfig, env, (c) => opsConfigProblems(c, ports));
  const tracingSettings = checkConfig(TracingConfig, env);
  const problems = [
    ...settings.problems,
    ...shutdownSettings.problems,
    ...opsSettings.problems,
    ...tracingSettings.problems,
  ];
  if (problems.length > 0) throw new ConfigInvalid(problems);
  const config = settings.config;
  const shutdown = new GracefulShutdown(shutdownSettings.config.SHUTDOWN_GRACE_MS);
  const logger = createLogger('demo-api', config.LOG_LEVEL);
  const registry = createRegistry();
  const health = new Health(shutdown);
  const tracing = await startTracing(tracingSettings.config, {
    serviceName: 'demo-api',
    exporter: options.spanExporter,
    logger,
  });
  const verifiers = createVerifiers(config, tracing);
  registerResourceServerMetrics(registry, verifiers);
  const app = await NestFactory.create(DemoApiModule.register(config, verifiers, health), {
    bodyParser: false,
    logger: new PinoNestLogger(logger),
  });
  if (tracing) app.use(tracing.middleware());
  app.use(accessLogMiddleware(new AccessLog({ logger, registry })));
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
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(
    new ResourceServerExceptionFilter(config.RESOURCE_AUDIENCE, config.DPOP_ALGORITHMS.split(',')),
  );
  if (config.BASE_PATH) app.setGlobalPrefix(config.BASE_PATH, { exclude: ['healthz', 'readyz'] });
  // No Nest signal hooks: main.ts drains on SIGTERM, whereas Nest's hook would exit with requests in flight.
  await app.init();
  shutdown.watch(app.getHttpServer());
  await app.listen(config.PORT, config.HOST);
  const management = await startManagementServer({
    host: opsSettings.config.MANAGEMENT_HOST,
    port: managementPort(opsSettings.config, ports),
    registry,
    health,
    logger,
  }).catch(async (error: unknown) => {
    await app.close();
    await tracing?.shutdown();
    throw error;
  });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://${config.HOST}:${port}`;
  // DPoP proofs name the URL the client called; unset, that is the address this API answers on.
  config.RESOURCE_PUBLIC_URL ??= url;
  return {
    url,
    managementUrl: management.url,
    app,
    verifiers,
    closeDeadlineMs: shutdownSettings.config.SHUTDOWN_GRACE_MS + 1000 + (tracing ? TRACES_FLUSH_MS : 0),
    close: async () => {
      const { forced } = await shutdown.drain();
      if (forced) logger.warn('shutdown grace period over: the requests still in flight were cut');
      await app.close();
      await management.close();
      await tracing?.shutdown();
    },
  };
}
