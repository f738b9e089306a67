import { Inject, Logger, Module } from '@nestjs/common';
import type { DynamicModule, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { SealedStore } from '@cloakroom/sealed-store';
import { AuthController } from './auth/auth.controller.js';
import { AuthService } from './auth/auth.service.js';
import { LoginCookies } from './auth/login.cookie.js';
import { SessionControlService } from './auth/session-control.service.js';
import { SessionController } from './auth/session.controller.js';
import { PendingLogins } from './auth/pending-login.js';
import { createBffBackend } from './bff.backend.js';
import type { BffBackend } from './bff.backend.js';
import { BffConfig } from './bff.config.js';
import { BffObserver } from './bff.observer.js';
import type { BffTracing } from './bff.tracing.js';
import { InvalidationBus } from './coordination/invalidation.bus.js';
import { SessionLock } from './coordination/session.lock.js';
import { BffExceptionFilter } from './http/bff-exception.filter.js';
import { ApiProxy } from './proxy/api.proxy.js';
import { installProxy } from './proxy/proxy.installer.js';
import type { RequestObserver } from './proxy/proxy.installer.js';
import { OidcClient } from './relying-party/oidc.client.js';
import { BffSessions } from './session/bff-sessions.js';
import { SessionCookies } from './session/session.cookie.js';

export interface BffModuleOptions {
  /** Metrics; nothing is observed without one. */
  observer?: BffObserver;
  /** Wraps the store the BFF uses (to time its operations), once it is chosen. */
  instrumentStore?: (store: SealedStore) => SealedStore;
  /** Sees every request the gateway's server receives, proxied or not (the access log). */
  requests?: RequestObserver;
  /**
   * Traces: a server span per request, spans for refreshes and upstream exchanges, `traceparent` on the requests
   * to the issuer and the upstreams. Store spans come with `instrumentStore`. Without it nothing is traced.
   */
  tracing?: BffTracing;
}

const REQUESTS = Symbol('REQUESTS');
const TRACING = Symbol('TRACING');

/** The chosen backend, before instrumentation; the store, lock and bus tokens are taken from it. */
export const BFF_BACKEND = Symbol('BFF_BACKEND');

/**
 * Starts what needs the event loop (the invalidation bus), puts the proxy in front of the framework, and closes
 * everything the BFF opened when the application closes (after the HTTP server has drained).
 */
class BffLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Gateway');

  constructor(
    @Inject(BffConfig) private readonly config: BffConfig,
    @Inject(BFF_BACKEND) private readonly backend: BffBackend,
    @Inject(SealedStore) private readonly store: SealedStore,
    @Inject(ApiProxy) private readonly proxy: ApiProxy,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(REQUESTS) private readonly requests: RequestObserver | undefined,
    @Inject(TRACING) private readonly tracing: BffTracing | undefined,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.GATEWAY_COOKIE_INSECURE_DEV) {
      this.logger.warn(
        'GATEWAY_COOKIE_INSECURE_DEV is on: cookies lack Secure and the __Host- prefix. Plain-http development only.',
      );
    }
    if (this.config.backend === 'memory') {
      this.logger.warn(
        'No Redis configured: sessions are kept in this process only (memory store), lost at restart.',
      );
    }
    // Redis may be down at boot: the gateway starts anyway, answers 503 and recovers when Redis returns.
    await this.store
      .ping()
      .catch((error: Error) =>
        this.logger.warn(
          `Session store not reachable yet (${error.message}); requests needing it answer 503.`,
        ),
      );
    await this.backend.bus.start();
    installProxy(
      this.adapterHost.httpAdapter.getHttpServer() as Server,
      this.proxy,
      this.requests,
      this.tracing,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.proxy.close();
    await this.backend.bus.close();
    await this.backend.lock.close();
    await this.backend.store.close();
  }
}

/**
 * The BFF in one module: login, callback, session, logout and back-channel logout endpoints, the proxied routes, the
 * session core and its backend. Everything is built from one validated {@link BffConfig}.
 */
@Module({})
export class BffModule {
  static forRoot(config: BffConfig, options: BffModuleOptions = {}): DynamicModule {
    const observer = options.observer ?? new BffObserver();
    return {
      module: BffModule,
      controllers: [AuthController, SessionController],
      providers: [
        { provide: BffConfig, useValue: config },
        { provide: BffObserver, useValue: observer },
        { provide: REQUESTS, useValue: options.requests },
        { provide: TRACING, useValue: options.tracing },
        {
          provide: BFF_BACKEND,
          useFactory: () => createBffBackend(config, config.GATEWAY_REFRESH_LOCK_LEASE_MS),
        },
        {
          provide: SealedStore,
          inject: [BFF_BACKEND],
          useFactory: (backend: BffBackend) => options.instrumentStore?.(backend.store) ?? backend.store,
        },
        { provide: SessionLock, inject: [BFF_BACKEND], useFactory: (backend: BffBackend) => backend.lock },
        { provide: InvalidationBus, inject: [BFF_BACKEND], useFactory: (backend: BffBackend) => backend.bus },
        { provide: OidcClient, useFactory: () => new OidcClient(config, options.tracing) },
        {
          provide: BffSessions,
          inject: [SealedStore, SessionLock, InvalidationBus, OidcClient],
          useFactory: (store: SealedStore, lock: SessionLock, bus: InvalidationBus, oidc: OidcClient) => {
            const sessions = new BffSessions({
              store,
              lock,
              bus,
              refresher: oidc,
              events: observer,
              settings: {
                idleTimeoutSeconds: config.GATEWAY_SESSION_IDLE_TIMEOUT_SECONDS,
                absoluteLimitSeconds: config.GATEWAY_SESSION_ABSOLUTE_LIMIT_SECONDS,
                refreshSkewSeconds: config.GATEWAY_REFRESH_SKEW_SECONDS,
                lockWaitMs: config.GATEWAY_REFRESH_WAIT_MS,
                lockPollMs: 25,
                cacheMaxEntries: config.GATEWAY_SESSION_CACHE_MAX_ENTRIES,
                cacheMaxAgeMs: config.GATEWAY_SESSION_CACHE_MAX_AGE_MS,
                revocableFromOtherSessions: config.STORE_PEPPER !== undefined,
              },
            });
            observer.watchSessionCache(() => sessions.cache.size);
            return sessions;
          },
        },
        { provide: SessionCookies, useFactory: () => new SessionCookies(config.cookieSecure) },
        {
          provide: PendingLogins,
          inject: [SealedStore],
          useFactory: (store: SealedStore) =>
            new PendingLogins(
              store,
              new LoginCookies(config.cookieSecure),
              config.GATEWAY_LOGIN_TTL_SECONDS,
              config.GATEWAY_LOGINS_IN_PROGRESS_MAX,
            ),
        },
        {
          provide: AuthService,
          inject: [OidcClient, BffSessions, SealedStore, SessionCookies, PendingLogins],
          useFactory: (
            oidc: OidcClient,
            sessions: BffSessions,
            store: SealedStore,
            cookies: SessionCookies,
            logins: PendingLogins,
          ) => new AuthService(config.GATEWAY_PUBLIC_URL, oidc, sessions, store, cookies, logins),
        },
        {
          provide: SessionControlService,
          inject: [BffSessions, OidcClient],
          useFactory: (sessions: BffSessions, oidc: OidcClient) =>
            new SessionControlService(sessions, oidc, config.routes),
        },
        {
          provide: ApiProxy,
          inject: [BffSessions, SessionCookies, InvalidationBus],
          useFactory: (sessions: BffSessions, cookies: SessionCookies, bus: InvalidationBus) =>
            new ApiProxy(
              {
                routes: config.routes,
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
              },
              sessions,
              cookies,
              observer,
              bus,
              options.tracing,
            ),
        },
        BffLifecycle,
        { provide: APP_FILTER, useClass: BffExceptionFilter },
      ],
      exports: [BffConfig, SealedStore, BffSessions, OidcClient, SessionCookies, ApiProxy, BFF_BACKEND],
    };
  }
}
