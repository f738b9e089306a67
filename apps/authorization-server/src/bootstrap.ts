import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { GracefulShutdown, ShutdownConfig, checkConfig, isProduction } from '@cloakroom/config';
import { StoreConfig, createSealedStore, storeConfigProblems } from '@cloakroom/sealed-store';
import type { SealedStore } from '@cloakroom/sealed-store';
import {
  AccessLog,
  Health,
  MANAGEMENT_PORTS,
  OpsConfig,
  PinoNestLogger,
  TRACES_FLUSH_MS,
  TracingConfig,
  accessLogMiddleware,
  createLogger,
  createRegistry,
  instrumentStore,
  managementPort,
  opsConfigProblems,
  startManagementServer,
  startTracing,
} from '@cloakroom/ops';
import type { ManagementServer, TracingOptions } from '@cloakroom/ops';
import {
  AuthorizationServerConfig,
  authorizationServerConfigProblems,
} from './authorization-server.config.js';
import { AuthorizationServerExceptionFilter } from './authorization-server.filter.js';
import { AuthorizationServerMetrics } from './authorization-server.metrics.js';
import { AuthorizationServerModule } from './authorization-server.module.js';
import { AccountStore, AccountsConfig } from './accounts/index.js';
import { watchUsersFile } from './accounts/users-file.watch.js';
import { demoConfigRefusals } from './demo-config.guard.js';
import { readDirectory } from './directory.js';
import { errorPage } from './interactions/pages.js';
import { SigningKeyRing } from './keys/signing-key.ring.js';
import { watchSigningKeys } from './keys/signing-keys.watch.js';
import { throttleClientAuthentication } from './oidc/client-auth.throttle.js';
import { ClientPolicies } from './oidc/client-policies.js';
import { createProvider } from './oidc/provider.factory.js';
import { mountProvider } from './oidc/provider.mount.js';
import { ProviderSwitch } from './oidc/provider.switch.js';
import { ResourceClaims } from './oidc/resource-claims.js';
import { TokenSizeWatch } from './oidc/token-size.watch.js';

export interface RunningAuthorizationServer {
  /** The issuer, which is also the base URL. */
  url: string;
  /** Where it actually listens (differs from the issuer behind a proxy or with port 0). */
  listenUrl: string;
  /** Where `/healthz`, `/readyz` and `/metrics` answer (MANAGEMENT_HOST, MANAGEMENT_PORT). */
  managementUrl: string;
  app: INestApplication;
  /** The oidc-provider instance serving now: a new one takes over when the signing keys change. */
  readonly provider: Provider;
  store: SealedStore;
  metrics: AuthorizationServerMetrics;
  /** Drains the connections (within SHUTDOWN_GRACE_MS), then closes the store. */
  close(): Promise<void>;
  /** How long `close` may take: the grace period, plus time for the store to close. */
  closeDeadlineMs: number;
}

export interface AuthorizationServerOptions {
  /** Takes the spans in place of the OTLP exporter when tracing is on (tests). */
  spanExporter?: TracingOptions['exporter'];
}

/**
 * Validates the configuration, loads users, clients and keys, and starts the authorization server.
 * With PORT=0 and no ISSUER, the issuer is the address it got.
 */
export async function startAuthorizationServer(
  env: Record<string, string | undefined> = process.env,
  options: AuthorizationServerOptions = {},
): Promise<RunningAuthorizationServer> {
  const production = isProduction(env);
  const { config, storeConfig, accountsConfig, shutdownConfig, opsConfig, tracingConfig, directory } =
    await checkStartup(env, production);
  const shutdown = new GracefulShutdown(shutdownConfig.SHUTDOWN_GRACE_MS);
  const logger = createLogger('authorization-server', config.LOG_LEVEL);
  const registry = createRegistry();
  const metrics = new AuthorizationServerMetrics(registry);
  const tracing = await startTracing(tracingConfig, {
    serviceName: 'authorization-server',
    exporter: options.spanExporter,
    logger,
  });
  const rawStore = createSealedStore(storeConfig);
  const store = instrumentStore(rawStore, registry, tracing);
  const health = new Health(shutdown).addCheck('store_unavailable', () => store.ping());

  // Connected before the first request: with the offline queue off, a command sent while the client is still
  // connecting would fail. A store that is down is not fatal: /readyz says so and requests get 503 until it answers.
  await store
    .ping()
    .catch(() => logger.warn('the store is not reachable yet; requests get 503 until it answers'));

  // Port 0 (tests): bind first so the issuer can name the real port.
  const server = express();
  const httpServer = await listen(server, config.PORT, config.HOST);
  shutdown.watch(httpServer);
  const listenUrl = `http://${config.HOST}:${(httpServer.address() as AddressInfo).port}`;
  if (config.PORT === 0 && !env.ISSUER) config.ISSUER = listenUrl;

  let usersWatch: { close(): void } | undefined;
  let keysWatch: { close(): void } | undefined;
  let management: ManagementServer | undefined;
  try {
    management = await startManagementServer({
      host: opsConfig.MANAGEMENT_HOST,
      port: managementPort(opsConfig, {
        port: config.PORT,
        defaultPort: MANAGEMENT_PORTS.authorizationServer,
      }),
      registry,
      health,
      logger,
    });
    if (directory.keys.generated) {
      logger.warn(
        'NO SIGNING KEYS CONFIGURED: using a key generated in memory; tokens stop verifying at restart',
      );
    }
    for (const warning of directory.keys.warnings) logger.warn(warning);
    const accounts = await AccountStore.create(directory.users, { store, throttle: accountsConfig.throttle });
    usersWatch = watchUsersFile(config.USERS_FILE, accounts, {
      logger,
      refusals: production ? (users) => demoConfigRefusals({ files: [], users }) : undefined,
    });
    const watch = new TokenSizeWatch(config.TOKEN_SIZE_BUDGET_BYTES, logger, metrics);
    const keyRing = new SigningKeyRing(directory.keys.jwks);
    if (!directory.keys.generated) keysWatch = watchSigningKeys(config.JWKS_FILE!, keyRing, { logger });
    const resourceClaims = new ResourceClaims(
      directory.resources,
      accounts,
      () => config.ISSUER,
      () => keyRing.current,
    );
    const providers = new ProviderSwitch(
      keyRing,
      (keys) => {
        const provider = createProvider({
          config,
          store,
          accounts,
          clients: directory.clients,
          policies: directory.policies,
          resources: directory.resources,
          keys,
          resourceClaims,
          onJwtAccessToken: (shaped, audience, clientId) => watch.checkShaped(shaped, audience, clientId),
        });
        throttleClientAuthentication(provider, store, config.clientAuthThrottle);
        watch.watchIdTokens(provider);
        return provider;
      },
      (error) =>
        // The message only: oidc-provider attaches the key it refused as the cause.
        logger.error(
          { err: { message: error.message } },
          'oidc-provider refused the signing keys now in service: it publishes and signs with the ones before',
        ),
    );
    // Listeners follow the provider to its successors.
    observeProvider(providers.current, logger, metrics);

    const app = await NestFactory.create(
      AuthorizationServerModule.register({
        config,
        providers,
        store,
        metrics,
        authenticator: accounts,
        policies: new ClientPolicies(directory.policies),
        resourceClaims,
        health,
      }),
      new (await import('@nestjs/platform-express')).ExpressAdapter(server),
      { bodyParser: false, logger: new PinoNestLogger(logger) },
    );
    server.disable('x-powered-by');
    server.set('trust proxy', config.TRUST_PROXY);
    app.useGlobalFilters(new AuthorizationServerExceptionFilter(config.APP_NAME, logger));
    if (tracing) app.use(tracing.middleware());
    app.use(accessLogMiddleware(new AccessLog({ logger, registry })));
    app.use('/interaction', express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }));
    app.use('/interaction', formErrors(config.APP_NAME));
    app.use(mountProvider(providers));
    // No Nest signal hooks: main.ts drains on SIGTERM, whereas Nest's hook would exit with requests in flight.
    await app.init();

    logger.info(
      { issuer: config.ISSUER, listen: listenUrl, management: management.url },
      'authorization server listening',
    );
    return {
      url: config.ISSUER,
      listenUrl,
      managementUrl: management.url,
      app,
      get provider() {
        return providers.current;
      },
      store,
      metrics,
      closeDeadlineMs: shutdownConfig.SHUTDOWN_GRACE_MS + 5000 + (tracing ? TRACES_FLUSH_MS : 0),
      close: async () => {
        usersWatch?.close();
        keysWatch?.close();
        const { forced } = await shutdown.drain();
        if (forced) logger.warn('shutdown grace period over: the requests still in flight were cut');
        await app.close();
        await management?.close();
        await rawStore.close();
        await tracing?.shutdown();
      },
    };
  } catch (error) {
    usersWatch?.close();
    keysWatch?.close();
    httpServer.close();
    await management?.close();
    await rawStore.close();
    await tracing?.shutdown();
    throw error;
  }
}

/** The server cannot start; the message lists every problem: settings, files, keys, production refusals. */
export class StartupInvalid extends Error {
  override readonly name = 'StartupInvalid';
  constructor(readonly problems: string[]) {
    super(`the authorization server cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Checks the environment and every file before anything starts, and reports all problems at once. */
async function checkStartup(env: Record<string, string | undefined>, production: boolean) {
  const server = checkConfig(AuthorizationServerConfig, env, (c) =>
    authorizationServerConfigProblems(c, env),
  );
  const store = checkConfig(StoreConfig, env, (c) =>
    storeConfigProblems(c, production, { pepperRequired: true }),
  );
  const accounts = checkConfig(AccountsConfig, env);
  const shutdown = checkConfig(ShutdownConfig, env);
  const ops = checkConfig(OpsConfig, env, (c) =>
    opsConfigProblems(c, { port: server.config.PORT, defaultPort: MANAGEMENT_PORTS.authorizationServer }),
  );
  const tracing = checkConfig(TracingConfig, env);
  const files = await readDirectory(server.config, env, production);
  const problems = [
    ...server.problems,
    ...store.problems,
    ...accounts.problems,
    ...shutdown.problems,
    ...ops.problems,
    ...tracing.problems,
    ...files.problems,
  ];
  if (problems.length > 0 || !files.directory) throw new StartupInvalid(problems);
  return {
    config: server.config,
    storeConfig: store.config,
    accountsConfig: accounts.config,
    shutdownConfig: shutdown.config,
    opsConfig: ops.config,
    tracingConfig: tracing.config,
    directory: files.directory,
  };
}

function listen(server: express.Express, port: number, host: string) {
  return new Promise<import('node:http').Server>((resolve, reject) => {
    const httpServer = server.listen(port, host, () => resolve(httpServer));
    httpServer.once('error', reject);
  });
}

/** A body the form parser refuses (too large, too many fields, bad encoding) gets a page, not a stack. */
function formErrors(appName: string) {
  return (error: { status?: number; type?: string }, req: Request, res: Response, next: NextFunction) => {
    if (!error) return next();
    const status = typeof error.status === 'number' && error.status < 500 ? error.status : 400;
    res
      .status(status)
      .type('html')
      .send(errorPage(appName, 'invalid_request', 'the form could not be read'));
  };
}

function observeProvider(provider: Provider, logger: Logger, metrics: AuthorizationServerMetrics): void {
  for (const [event, type] of [
    ['access_token.saved', 'access_token'],
    ['access_token.issued', 'access_token'],
    ['client_credentials.saved', 'client_credentials'],
    ['client_credentials.issued', 'client_credentials'],
    ['refresh_token.saved', 'refresh_token'],
    ['authorization_code.saved', 'authorization_code'],
  ] as const) {
    provider.on(event as 'access_token.saved', () => metrics.tokensIssued.inc({ type }));
  }
  provider.on('server_error', (ctx: { path?: string; method?: string }, error: Error) => {
    logger.error(
      { path: ctx.path, method: ctx.method, err: { name: error.name, message: error.message } },
      'server error',
    );
  });
  provider.on('grant.revoked', () => logger.info('grant revoked'));
}
