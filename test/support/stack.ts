import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { SignJWT, importJWK } from 'jose';
import type { JWTPayload } from 'jose';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { stringify } from 'yaml';
import { startAuthorizationServer } from '../../apps/authorization-server/src/bootstrap.js';
import type { RunningAuthorizationServer } from '../../apps/authorization-server/src/bootstrap.js';
import { generateJwk } from '../../apps/authorization-server/src/keys/jwks.js';
import type { PrivateJwk } from '../../apps/authorization-server/src/keys/jwks.js';
import { startDemoApi } from '../../apps/demo-api/src/bootstrap.js';
import { startGateway } from '../../apps/gateway/src/bootstrap.js';
import type { StartedGateway } from '../../apps/gateway/src/bootstrap.js';
import { JWT_RESOURCE, OPAQUE_RESOURCE, RP, RS } from './authorization-server.js';
import { TestBrowser } from './browser.js';
import { freePort } from './ports.js';
import { deletePrefix, requireRedis, testRedisUrl, uniquePrefix } from './redis.js';

export const GATEWAY_CLIENT_ID = 'gateway';
export const GATEWAY_CLIENT_SECRET = 'stack-gateway-secret-0123456789abcdef';
/** Plain http on 127.0.0.1: the gateway runs with GATEWAY_COOKIE_INSECURE_DEV, so its cookie has no prefix. */
export const SESSION_COOKIE = 'cloakroom';
/** Login cookies are named `cloakroom-login.<12 characters of the state's hash>`, one per login in progress. */
export const LOGIN_COOKIE_PREFIX = 'cloakroom-login.';
/** Where the apps would post their spans; with an exporter given in its place, nothing is sent there. */
const UNUSED_COLLECTOR = 'http://127.0.0.1:9';

export interface StackOptions {
  /** Gateway instances sharing one Redis prefix (a second one for races). Default 1. */
  gateways?: 1 | 2;
  /** Host name browsers use for the authorization server (a browser maps it to 127.0.0.1). */
  issuerHost?: string;
  /** Host name browsers use for the gateway (plain-http redirect URIs must be localhost or 127.0.0.1). */
  gatewayHost?: string;
  /** Public issuer URL when something sits in front of the authorization server (nginx). */
  issuerUrl?: string;
  /** Public gateway URL when something sits in front of it (nginx). */
  gatewayUrl?: string;
  accessTokenTtlSeconds?: number;
  /** Lifetime of the opaque resource's access tokens (client credentials in soaks); default as above. */
  opaqueTokenTtlSeconds?: number;
  /** Also start the demo API (bearer tokens checked by JWKS or introspection, audience JWT_RESOURCE). */
  demoApi?: boolean;
  /**
   * Where the gateway sends `/api`: the recording upstream (default), or the demo API, which verifies the
   * token itself; then the recorder answers under `/recorded` (the tests still see the exact token).
   */
  api?: 'recorder' | 'demo';
  /**
   * The resource of the gateway's `/api` tokens and the demo API's audience: JWT_RESOURCE (default), or
   * OPAQUE_RESOURCE, whose opaque tokens the demo API checks by introspection at the authorization server.
   */
  apiResource?: string;
  /**
   * Turns tracing on in every app started in this process, their spans handed to this exporter as each ends (in
   * place of the OTLP endpoint they are given, which is never called). `gatewayEnv` with
   * `OTEL_EXPORTER_OTLP_ENDPOINT: ''` leaves the gateways without.
   */
  spanExporter?: SpanExporter;
  asEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  /** The gateway is a first-party client (no consent page; refresh tokens without `offline_access`). Default true. */
  gatewayFirstParty?: boolean;
  /**
   * Runs the authorization server and the gateways as processes of their own from the build
   * (`npm run build`), started the way production starts them, so that each one's memory is its own.
   */
  processes?: boolean;
}

export interface StackUpstream {
  url: string;
  /** Requests it answered. */
  count(): number;
  /** Authorization headers received, in order (the latest 5,000 to 10,000 of them). */
  authorizations: string[];
}

export interface Stack {
  /** The issuer (public URL of the authorization server). */
  issuer: string;
  /** Where the authorization server listens. */
  asUrl: string;
  /** The authorization server's management port: `/metrics`, `/healthz`, `/readyz`. */
  asManagementUrl: string;
  /** Public URL of the gateway (the callback derives from it). */
  gatewayUrl: string;
  /** Where each gateway instance listens. */
  gateways: string[];
  upstream: StackUpstream;
  /** The demo API, when asked for: the resource side that checks bearer tokens itself. */
  demoApiUrl?: string;
  /** The in-process authorization server; undefined with `processes`. */
  as?: RunningAuthorizationServer;
  /** Process ids of the authorization server and of each gateway, with `processes`. */
  pids?: { authorizationServer: number; gateways: number[] };
  redis: Redis;
  /** The run's Redis key prefix: the authorization server under `as:`, the gateways under `gw:`. */
  prefix: string;
  /** The authorization server's private signing key (to forge logout tokens that verify). */
  signingKey: PrivateJwk;
  /** Refresh-token grants the authorization server answered with tokens since start (in-process only). */
  refreshGrants(): number;
  /** Signs a JWT with the issuer's key, as the authorization server would. */
  signAsIssuer(payload: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** Logs in through the gateway with the login form; returns the session ticket and the Cookie header. */
  login(
    username: string,
    password: string,
  ): Promise<{ ticket: string; cookie: string; browser: TestBrowser }>;
  stop(): Promise<void>;
}

/**
 * The whole Cloakroom flow on 127.0.0.1: the real authorization server, one or two gateway instances
 * and a trivial upstream that records the bearer tokens it receives (the tests need the exact token the
 * gateway forwards), optionally the demo API beside it, with temporary config files and one Redis key
 * prefix per run. Clients: the gateway, plus the RP and RS test clients.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const redis = await requireRedis();
  const prefix = uniquePrefix('stack');
  const dir = mkdtempSync(join(tmpdir(), 'cloakroom-stack-'));
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const close of stoppers.reverse()) await close().catch(() => undefined);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const asPort = await freePort();
    // In-process servers take any free port; a process of its own is told one, so that tests know where it is.
    const asManagementPort = options.processes ? await freePort() : 0;
    const gatewayPorts = await Promise.all(Array.from({ length: options.gateways ?? 1 }, () => freePort()));
    const asUrl = `http://127.0.0.1:${asPort}`;
    const issuer = options.issuerUrl ?? `http://${options.issuerHost ?? '127.0.0.1'}:${asPort}`;
    const gateways = gatewayPorts.map((port) => `http://127.0.0.1:${port}`);
    const gatewayUrl =
      options.gatewayUrl ?? `http://${options.gatewayHost ?? '127.0.0.1'}:${gatewayPorts[0]}`;

    const signingKey = await generateJwk('RS256');
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [signingKey] }));
    chmodSync(join(dir, 'jwks.json'), 0o600);
    const gatewayClient = {
      client_id: GATEWAY_CLIENT_ID,
      client_secret: GATEWAY_CLIENT_SECRET,
      redirect_uris: [`${gatewayUrl}/auth/callback`],
      post_logout_redirect_uris: [`${gatewayUrl}/`],
      backchannel_logout_uri: `${gateways[0]}/auth/backchannel-logout`,
      grant_types: ['authorization_code', 'refresh_token'],
      first_party: options.gatewayFirstParty ?? true,
      resources: [options.apiResource ?? JWT_RESOURCE],
      scopes: ['openid', 'profile', 'email', 'groups', 'offline_access', 'orders:read', 'orders:write'],
    };
    const tracing: Record<string, string> = options.spanExporter
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: UNUSED_COLLECTOR }
      : {};
    const spanExporter = options.spanExporter;
    writeFileSync(join(dir, 'clients.yaml'), stringify({ clients: [gatewayClient, RP, RS] }));
    writeFileSync(
      join(dir, 'resources.yaml'),
      stringify({
        resources: [
          {
            indicator: JWT_RESOURCE,
            accessTokenFormat: 'jwt',
            scopes: ['orders:read', 'orders:write'],
            groupsClaim: true,
            introspectionClients: [RS.client_id],
          },
          {
            indicator: OPAQUE_RESOURCE,
            accessTokenFormat: 'opaque',
            scopes: ['orders:read', 'orders:write'],
            introspectionClients: [RS.client_id],
            ...(options.opaqueTokenTtlSeconds ? { accessTokenTTL: options.opaqueTokenTtlSeconds } : {}),
          },
        ],
      }),
    );

    const asEnv = {
      PORT: String(asPort),
      ISSUER: issuer,
      LOG_LEVEL: 'silent',
      LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '1000000',
      // Every suite on this stack sends from one address, wrong client secrets included (the hostile inputs):
      // answering those later and later is the throttle's job, tested in its own spec, not these suites'.
      CLIENT_AUTH_DELAY_AFTER_FAILURES: '1000000',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: `${prefix}as:`,
      USERS_FILE: 'config/demo/users.yaml',
      CLIENTS_FILE: join(dir, 'clients.yaml'),
      RESOURCES_FILE: join(dir, 'resources.yaml'),
      JWKS_FILE: join(dir, 'jwks.json'),
      ACCESS_TOKEN_TTL_SECONDS: String(options.accessTokenTtlSeconds ?? 600),
      MANAGEMENT_PORT: String(asManagementPort),
      ...tracing,
      ...options.asEnv,
    };
    let as: RunningAuthorizationServer | undefined;
    let asPid = 0;
    let asManagementUrl = `http://127.0.0.1:${asManagementPort}`;
    let refreshGrants = 0;
    if (options.processes) {
      const child = await startProcess('apps/authorization-server/dist/main.js', asEnv, asUrl);
      stoppers.push(child.stop);
      asPid = child.pid;
    } else {
      const running = await startAuthorizationServer(asEnv, { spanExporter });
      stoppers.push(() => running.close());
      asManagementUrl = running.managementUrl;
      running.provider.on('grant.success', (ctx: { oidc?: { params?: { grant_type?: unknown } } }) => {
        if (ctx.oidc?.params?.grant_type === 'refresh_token') refreshGrants++;
      });
      as = running;
    }

    const upstream = await startUpstream();
    stoppers.push(upstream.close);

    let demoApiUrl: string | undefined;
    if (options.demoApi || options.api === 'demo') {
      const demo = await startDemoApi(
        {
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'silent',
          ISSUER_URL: issuer,
          RESOURCE_AUDIENCE: options.apiResource ?? JWT_RESOURCE,
          INTROSPECTION_CLIENT_ID: RS.client_id,
          INTROSPECTION_CLIENT_SECRET: RS.client_secret,
          ...tracing,
        },
        { spanExporter },
      );
      demoApiUrl = demo.url;
      stoppers.push(() => demo.close());
    }

    const gatewayPids: number[] = [];
    for (const [i, port] of gatewayPorts.entries()) {
      const gatewayEnv = {
        PORT: String(port),
        MANAGEMENT_PORT: '0',
        HOST: '127.0.0.1',
        ISSUER_URL: issuer,
        ...(issuer === asUrl ? {} : { ISSUER_INTERNAL_URL: asUrl }),
        GATEWAY_CLIENT_ID,
        GATEWAY_CLIENT_SECRET,
        GATEWAY_PUBLIC_URL: gatewayUrl,
        GATEWAY_ROUTES:
          options.api === 'demo' ? `/api=${demoApiUrl},/recorded=${upstream.url}` : `/api=${upstream.url}`,
        GATEWAY_API_RESOURCE: options.apiResource ?? JWT_RESOURCE,
        GATEWAY_COOKIE_INSECURE_DEV: 'true',
        REDIS_URL: testRedisUrl(),
        REDIS_KEY_PREFIX: `${prefix}gw:`,
        LOG_LEVEL: 'silent',
        ...tracing,
        ...options.gatewayEnv,
      };
      if (options.processes) {
        const child = await startProcess('apps/gateway/dist/main.js', gatewayEnv, gateways[i]);
        stoppers.push(child.stop);
        gatewayPids.push(child.pid);
      } else {
        const gateway: StartedGateway = await startGateway(gatewayEnv, { spanExporter });
        stoppers.push(() => gateway.close());
      }
    }

    const key = await importJWK(signingKey, signingKey.alg);
    return {
      issuer,
      asUrl,
      asManagementUrl,
      gatewayUrl,
      gateways,
      upstream,
      demoApiUrl,
      as,
      ...(options.processes ? { pids: { authorizationServer: asPid, gateways: gatewayPids } } : {}),
      redis,
      prefix,
      signingKey,
      refreshGrants: () => {
        if (!as) throw new Error('refreshGrants() counts in-process grants: not available with `processes`');
        return refreshGrants;
      },
      signAsIssuer: (payload, header = {}) =>
        new SignJWT(payload)
          .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, ...header })
          .sign(key),
      login: async (username, password) => {
        const browser = new TestBrowser();
        const callback = await browser.signIn(
          new URL('/auth/login?returnTo=/', gatewayUrl),
          username,
          password,
          (url) => url.href.startsWith(`${gatewayUrl}/auth/callback`),
        );
        const response = await browser.fetch(callback);
        await response.arrayBuffer();
        const ticket = browser.get(gatewayUrl, SESSION_COOKIE);
        if (response.status !== 302 || !ticket) {
          throw new Error(`callback answered ${response.status} without a session cookie`);
        }
        return { ticket, cookie: `${SESSION_COOKIE}=${ticket}`, browser };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A service from the build in a process of its own, started as `node <main>` with the environment given and
 * nothing else of this process's; resolves once `<url>/readyz` answers 200.
 */
async function startProcess(
  main: string,
  env: Record<string, string>,
  url: string,
): Promise<{ pid: number; stop(): Promise<void> }> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${main} exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return { pid: child.pid!, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${main} not ready at ${url} within 30 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The internal API behind the gateway: `/api/whoami` says whose bearer token it got and how big it was. */
async function startUpstream(): Promise<StackUpstream & { close(): Promise<void> }> {
  const authorizations: string[] = [];
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    const authorization = req.headers.authorization ?? '';
    // The latest ones are what tests look at; a soak must not turn the record into a leak of its own.
    if (authorizations.length >= 10_000) authorizations.splice(0, 5_000);
    authorizations.push(authorization);
    const token = authorization.replace(/^Bearer /, '');
    let sub: unknown;
    try {
      sub = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sub;
    } catch {
      sub = undefined;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        path: req.url,
        sub,
        tokenBytes: token.length,
        sawCookie: req.headers.cookie !== undefined,
      }),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => count,
    authorizations,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
