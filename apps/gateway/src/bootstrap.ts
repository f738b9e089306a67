import 'reflect-metadata';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BffSessions } from '@cloakroom/bff-session';
import { ConfigInvalid, GracefulShutdown, ShutdownConfig, checkConfig } from '@cloakroom/config';
import { Envelope } from '@cloakroom/envelope';
import { createSealedStore } from '@cloakroom/sealed-store';
import { ApiProxy, sendJson } from './api.proxy.js';
import { AuthService } from './auth.service.js';
import { createCoordination } from './coordination.js';
import { GatewayExceptionFilter } from './gateway-exception.filter.js';
import { loadGatewayConfig } from './gateway.config.js';
import type { GatewayContext } from './gateway.context.js';
import { GatewayMetrics } from './gateway.metrics.js';
import { GatewayModule } from './gateway.module.js';
import { LoginCookies } from './login.cookie.js';
import { OidcClient } from './oidc.client.js';
import { PendingLogins } from './pending-login.js';
import { SessionCookies } from './session.cookie.js';

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
  if (config.GATEWAY_COOKIE_INSECURE_DEV) {
    logger.warn(
      'GATEWAY_COOKIE_INSECURE_DEV is on: cookies lack Secure and the __Host- prefix. Plain-http development only.',
    );
  }
  const store = createSealedStore(config);
  if (config.backend === 'memory') {
    logger.warn(
      'No Redis configured: sessions are kept in this process only (memory store), lost at restart.',
    );
  }
  const envelope = new Envelope({ pepper: config.STORE_PEPPER });
  const { lock, bus } = createCoordination(config, store);
  const metrics = new GatewayMetrics();
  const oidc = new OidcClient(config);
  const sessions = new BffSessions({
    store,
    envelope,
    lock,
    bus,
    refresher: oidc,
    events: metrics.sessionEvents(),
    settings: {
      idleTimeoutSeconds: config.GATEWAY_SESSION_IDLE_TIMEOUT_SECONDS,
      absoluteLimitSeconds: config.GATEWAY_SESSION_ABSOLUTE_LIMIT_SECONDS,
      refreshSkewSeconds: config.GATEWAY_REFRESH_SKEW_SECONDS,
      lockWaitMs: config.GATEWAY_REFRESH_WAIT_MS,
      lockPollMs: 25,
      cacheMaxEntries: config.GATEWAY_SESSION_CACHE_MAX_ENTRIES,
      cacheMaxAgeMs: config.GATEWAY_SESSION_CACHE_MAX_AGE_MS,
    },
  });
  // Redis may be down at boot: the gateway starts anyway, answers 503 and recovers when Redis returns.
  await store
    .ping()
    .catch(() => logger.warn('Session store not reachable yet; requests needing it answer 503.'));
  await bus.start();
  const cookies = new SessionCookies(config.cookieSecure);
  const logins = new PendingLogins(
    store,
    new LoginCookies(config.cookieSecure),
    config.GATEWAY_LOGIN_TTL_SECONDS,
    config.GATEWAY_LOGINS_IN_PROGRESS_MAX,
  );
  const auth = new AuthService(config.GATEWAY_PUBLIC_URL, oidc, sessions, store, cookies, logins);
  const proxy = new ApiProxy({
    routes: config.routes,
    sessions,
    bus,
    cookies,
    allowedOrigins: config.allowedOrigins,
    publicUrl: new URL(config.GATEWAY_PUBLIC_URL),
    headerBudgetBytes: config.GATEWAY_HEADER_BUDGET_BYTES,
    authorizationMaxBytes: config.GATEWAY_AUTHORIZATION_MAX_BYTES,
    transport: {
      headTimeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
      bodyIdleTimeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
      streamIdleTimeoutMs: config.GATEWAY_STREAM_IDLE_TIMEOUT_MS,
      connectTimeoutMs: config.GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS,
      connectionsPerSession: config.GATEWAY_UPSTREAM_CONNECTIONS_PER_SESSION,
      sessionPools: config.GATEWAY_UPSTREAM_SESSION_POOLS,
    },
    metrics,
    warn: (message) => logger.warn(message),
  });
  const shutdown = new GracefulShutdown(shutdownConfig.SHUTDOWN_GRACE_MS);
  const context: GatewayContext = { config, store, sessions, oidc, auth, cookies, metrics, shutdown };

  const app = await NestFactory.create(GatewayModule.with(context), { logger: logLevels });
  app.useGlobalFilters(new GatewayExceptionFilter());
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  await app.init();
  // The proxied APIs are served ahead of the framework: the hot path pays for no routing or middleware.
  const server = app.getHttpServer() as Server;
  const framework = server.listeners('request')[0] as RequestListener;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const route = proxy.match(req.url);
    if (route === undefined) return framework(req, res);
    proxy.handle(req, res, route).catch((error: unknown) => {
      logger.error(`proxy failed: ${error instanceof Error ? error.name : typeof error}`);
      if (!res.headersSent) sendJson(res, 502, { error: 'bad_gateway' });
      else res.destroy();
    });
  });
  proxy.serveUpgrades(server);
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
        proxy.closeWebSockets();
        const { forced } = await shutdown.drain();
        if (forced) logger.warn('shutdown grace period over: the requests still in flight were cut');
        await app.close();
        await proxy.close();
        await bus.close();
        await lock.close();
        await store.close();
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
