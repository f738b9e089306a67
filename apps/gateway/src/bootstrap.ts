import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { ApiProxy } from '@cloakroom/bff';
import { ConfigInvalid, GracefulShutdown, ShutdownConfig, checkConfig } from '@cloakroom/config';
import {
  AccessLog,
  Health,
  MANAGEMENT_PORTS,
  OpsConfig,
  PinoNestLogger,
  TRACES_FLUSH_MS,
  TracingConfig,
  createLogger,
  createRegistry,
  instrumentStore,
  managementPort,
  opsConfigProblems,
  startManagementServer,
  startTracing,
} from '@cloakroom/ops';
import type { TracingOptions } from '@cloakroom/ops';
import { SealedStore } from '@cloakroom/sealed-store';
import { loadGatewayConfig } from './gateway.config.js';
import { GatewayMetrics } from './gateway.metrics.js';
import { GatewayModule } from './gateway.module.js';

export interface StartedGateway {
  /** Where the gateway listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Where its health and metrics are served (the management port). */
  managementUrl: string;
  /** Drains the connections (within SHUTDOWN_GRACE_MS), then closes the stores. */
  close(): Promise<void>;
  /** How long `close` may take: the grace period, plus time for the stores to close. */
  closeDeadlineMs: number;
}

/** Time allowed, after the drain, for the stores and the Redis connections to close. */
const STORES_CLOSE_MS = 5000;

export interface GatewayOptions {
  /** Takes the spans in place of the OTLP exporter when tracing is on (tests). */
  spanExporter?: TracingOptions['exporter'];
}

/** Validates the settings, composes the gateway and listens. Throws ConfigInvalid on bad settings. */
export async function startGateway(
  env: Record<string, string | undefined> = process.env,
  options: GatewayOptions = {},
): Promise<StartedGateway> {
  const { config, shutdownConfig, opsConfig, tracingConfig } = loadSettings(env);
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const registry = createRegistry();
  const tracing = await startTracing(tracingConfig, {
    serviceName: 'gateway',
    exporter: options.spanExporter,
    logger,
  });
  const shutdown = new GracefulShutdown(shutdownConfig.SHUTDOWN_GRACE_MS);
  const health = new Health(shutdown);
  const app = await NestFactory.create(
    GatewayModule.forRoot(
      config,
      {
        observer: new GatewayMetrics(registry),
        instrumentStore: (store) => instrumentStore(store, registry, tracing),
        requests: new AccessLog({ logger, registry }),
        tracing,
      },
      health,
    ),
    { logger: new PinoNestLogger(logger) },
  );
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  const store = app.get(SealedStore);
  health.addCheck('store_unavailable', () => store.ping());
  // No Nest signal hooks: main.ts drains on SIGTERM, whereas Nest's hook would exit with requests in flight.
  await app.init();
  const server = app.getHttpServer() as Server;
  shutdown.watch(server);
  await app.listen(config.PORT, config.HOST);
  const management = await startManagementServer({
    host: opsConfig.MANAGEMENT_HOST,
    port: managementPort(opsConfig, { port: config.PORT, defaultPort: MANAGEMENT_PORTS.gateway }),
    registry,
    health,
    logger,
  }).catch(async (error: unknown) => {
    await app.close();
    await tracing?.shutdown();
    throw error;
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    managementUrl: management.url,
    closeDeadlineMs: shutdownConfig.SHUTDOWN_GRACE_MS + STORES_CLOSE_MS + (tracing ? TRACES_FLUSH_MS : 0),
    close: () =>
      (closing ??= (async () => {
        // WebSockets first: an upgraded connection never finishes on its own, the drain would wait out its grace.
        app.get(ApiProxy).closeWebSockets();
        const { forced } = await shutdown.drain();
        if (forced) logger.warn('shutdown grace period over: the requests still in flight were cut');
        // Closes what the BFF opened: upstream connections, the invalidation bus, the lock, the store.
        await app.close();
        await management.close();
        await tracing?.shutdown();
      })()),
  };
}

/** The gateway's settings with the shutdown, management and tracing settings, every problem reported at once. */
function loadSettings(env: Record<string, string | undefined>) {
  const shutdown = checkConfig(ShutdownConfig, env);
  const port = Number(env.PORT ?? 8080);
  const ops = checkConfig(OpsConfig, env, (c) =>
    opsConfigProblems(c, { port, defaultPort: MANAGEMENT_PORTS.gateway }),
  );
  const tracing = checkConfig(TracingConfig, env);
  const others = [...shutdown.problems, ...ops.problems, ...tracing.problems];
  try {
    const config = loadGatewayConfig(env);
    if (others.length > 0) throw new ConfigInvalid(others);
    return {
      config,
      shutdownConfig: shutdown.config,
      opsConfig: ops.config,
      tracingConfig: tracing.config,
    };
  } catch (error) {
    if (!(error instanceof ConfigInvalid) || others.length === 0) throw error;
    throw new ConfigInvalid([...new Set([...error.problems, ...others])]);
  }
}
