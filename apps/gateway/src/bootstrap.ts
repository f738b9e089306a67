import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApiProxy } from '@cloakroom/bff';
import { ConfigInvalid, GracefulShutdown, ShutdownConfig, checkConfig } from '@cloakroom/config';
import { loadGatewayConfig } from './gateway.config.js';
import { GatewayMetrics } from './gateway.metrics.js';
import { GatewayModule } from './gateway.module.js';

export interface StartedGateway {
  /** Where the gateway listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Drains the connections (within SHUTDOWN_GRACE_MS), then closes the stores. */
  close(): Promise<void>;
  /** How long `close` may take: the grace period, plus time for the stores to close. */
  closeDeadlineMs: number;
}

const LOG_LEVELS: Record<string, LogLevel[]> = {
  silent: [],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
};

/** Time allowed, after the drain, for the stores and the Redis connections to close. */
const STORES_CLOSE_MS = 5000;

/** Validates the settings, composes the gateway and listens. Throws ConfigInvalid on bad settings. */
export async function startGateway(
  env: Record<string, string | undefined> = process.env,
): Promise<StartedGateway> {
  const { config, shutdownConfig } = loadSettings(env);
  const logLevels = LOG_LEVELS[config.LOG_LEVEL];
  Logger.overrideLogger(logLevels);
  const logger = new Logger('Gateway');
  const shutdown = new GracefulShutdown(shutdownConfig.SHUTDOWN_GRACE_MS);
  const app = await NestFactory.create(GatewayModule.forRoot(config, new GatewayMetrics(), shutdown), {
    logger: logLevels,
  });
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  await app.init();
  const server = app.getHttpServer() as Server;
  shutdown.watch(server);
  await app.listen(config.PORT, config.HOST);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    closeDeadlineMs: shutdownConfig.SHUTDOWN_GRACE_MS + STORES_CLOSE_MS,
    close: () =>
      (closing ??= (async () => {
        // WebSockets first: an upgraded connection never finishes on its own, the drain would wait out its grace.
        app.get(ApiProxy).closeWebSockets();
        const { forced } = await shutdown.drain();
        if (forced) logger.warn('shutdown grace period over: the requests still in flight were cut');
        // Closes what the BFF opened: upstream connections, the invalidation bus, the lock, the store.
        await app.close();
      })()),
  };
}

/** The gateway's settings and the shutdown settings, every problem of both reported at once. */
function loadSettings(env: Record<string, string | undefined>) {
  const shutdown = checkConfig(ShutdownConfig, env);
  try {
    const config = loadGatewayConfig(env);
    if (shutdown.problems.length > 0) throw new ConfigInvalid(shutdown.problems);
    return { config, shutdownConfig: shutdown.config };
  } catch (error) {
    if (!(error instanceof ConfigInvalid) || shutdown.problems.length === 0) throw error;
    throw new ConfigInvalid([...new Set([...error.problems, ...shutdown.problems])]);
  }
}
