// One server of the gateway benchmark, run in its own process so the load generator never shares its
// event loop: `node bench/gateway/servers.mjs <kind>` with BENCH_SERVER (JSON) in the environment.
// It answers the parent over IPC: {ready, url} once listening, {cpu} when asked, and exits on 'stop'.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Pool } from 'undici';

const kind = process.argv[2];
const options = JSON.parse(process.env.BENCH_SERVER ?? '{}');

// Headers a reverse proxy never forwards: hop-by-hop ones, and the browser's cookies (they carry the
// session, which must not reach an upstream).
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'cookie',
  'authorization',
]);

/** The bare reverse proxy every scenario shares: undici pool, headers copied, body streamed back. */
function proxyTo(upstream) {
  const pool = new Pool(upstream, { connections: 128, pipelining: 1 });
  return async function forward(req, res, authorization) {
    const headers = {};
    for (const name in req.headers) if (!DROPPED.has(name)) headers[name] = req.headers[name];
    if (authorization !== undefined) headers.authorization = authorization;
    try {
      await pool.stream(
        { path: req.url, method: req.method, headers, body: null },
        ({ statusCode, headers: h }) => {
          delete h.connection;
          delete h['keep-alive'];
          delete h['transfer-encoding'];
          res.writeHead(statusCode, h);
          return res;
        },
      );
    } catch {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    }
  };
}

function cookieValue(header, name) {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

function unauthenticated(res) {
  res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthenticated"}');
}

async function listen(handler) {
  const server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

const servers = {
  /** The trivial upstream: 200 with a small body saying how big the Authorization header was. */
  upstream: () =>
    listen((req, res) => {
      const body = `{"ok":true,"authorization":${req.headers.authorization?.length ?? 0}}`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    }),

  /** 1. The limit: nothing but the proxy. */
  bare: () => {
    const forward = proxyTo(options.upstream);
    return listen((req, res) => forward(req, res));
  },

  /** 2. The floor of any BFF that forwards big tokens: the same proxy adds a fixed header. */
  header: () => {
    const forward = proxyTo(options.upstream);
    const authorization = `Bearer ${options.accessToken}`;
    return listen((req, res) => forward(req, res, authorization));
  },

  /**
   * 2b. The floor of any server-side session: the same fixed header, after one Redis GET of a stored session's size
   * (ioredis with auto-pipelining, as the gateway's store), with nothing decrypted or decoded.
   */
  'header-redis': async () => {
    const { Redis } = await import('ioredis');
    const redis = new Redis(options.redisUrl, { enableAutoPipelining: true });
    await redis.set(options.key, randomBytes(options.bytes), 'EX', 3600);
    const forward = proxyTo(options.upstream);
    const authorization = `Bearer ${options.accessToken}`;
    const served = await listen(async (req, res) => {
      const value = await redis.getBuffer(options.key);
      if (value === null) return unauthenticated(res);
      return forward(req, res, authorization);
    });
    return { url: served.url, close: () => (served.close(), redis.disconnect()) };
  },

  /**
   * 3. Cloakroom: the real gateway, started as in production from its built bootstrap; with `root`, the build of
   * another checkout (the before of a before-and-after comparison).
   */
  gateway: async () => {
    const root = options.root ? pathToFileURL(`${options.root}/`) : new URL('../../', import.meta.url);
    const { startGateway } = await import(new URL('apps/gateway/dist/bootstrap.js', root).href);
    const gateway = await startGateway(options.env);
    return { url: gateway.url, close: () => gateway.close() };
  },

  /** 4. The token set gzip-compressed into cookies (chunked at the browser limit), inflated per request. */
  gzip: () => {
    const forward = proxyTo(options.upstream);
    return listen((req, res) => {
      const header = req.headers.cookie;
      let joined = '';
      for (let i = 0; ; i++) {
        const chunk = cookieValue(header, `tokens.${i}`);
        if (chunk === undefined) break;
        joined += chunk;
      }
      if (!joined) return unauthenticated(res);
      let tokens;
      try {
        tokens = JSON.parse(gunzipSync(Buffer.from(joined, 'base64url')).toString());
      } catch {
        return unauthenticated(res);
      }
      return forward(req, res, `Bearer ${tokens.access_token}`);
    });
  },

  /** 5. The classic Node server-side session: express-session with connect-redis (node-redis client). */
  'express-session': async () => {
    const { default: express } = await import('express');
    const { default: session } = await import('express-session');
    const { RedisStore } = await import('connect-redis');
    const { createClient } = await import('redis');
    const client = createClient({ url: options.redisUrl });
    await client.connect();
    const forward = proxyTo(options.upstream);
    const app = express();
    app.disable('x-powered-by');
    app.use(
      session({
        store: new RedisStore({ client, prefix: options.prefix }),
        secret: options.secret,
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax', maxAge: 1800_000 },
      }),
    );
    // Sign-in stand-in: the benchmark posts the token set once to get a session cookie.
    app.post('/bench/login', express.json({ limit: '64kb' }), (req, res) => {
      req.session.tokens = req.body;
      res.json({ ok: true });
    });
    app.use('/api', (req, res) => {
      const tokens = req.session.tokens;
      if (!tokens) return unauthenticated(res);
      // express strips the mount path from req.url; the upstream gets the full path, like the others.
      req.url = req.originalUrl;
      return forward(req, res, `Bearer ${tokens.access_token}`);
    });
    const served = await listen(app);
    return { url: served.url, close: () => (served.close(), client.quit()) };
  },

  /** 6. The token set sealed into one cookie by iron-session. */
  'iron-session': async () => {
    const { getIronSession } = await import('iron-session');
    const forward = proxyTo(options.upstream);
    const sessionOptions = { password: options.secret, cookieName: 'iron', cookieOptions: { secure: false } };
    return listen(async (req, res) => {
      if (req.method === 'POST' && req.url === '/bench/login') {
        let body = '';
        for await (const chunk of req) body += chunk;
        const session = await getIronSession(req, res, sessionOptions);
        session.tokens = JSON.parse(body);
        try {
          await session.save();
        } catch (error) {
          res.writeHead(500, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
        }
        return res.end('{"ok":true}');
      }
      const session = await getIronSession(req, res, sessionOptions);
      if (!session.tokens) return unauthenticated(res);
      return forward(req, res, `Bearer ${session.tokens.access_token}`);
    });
  },

  /**
   * 7. express-openid-connect with its defaults: the token set encrypted (JWE) into `appSession` cookies, chunked
   * at the browser limit, and (rolling sessions) encrypted again into fresh cookies on every answer.
   */
  'express-openid-connect': async () => {
    const { default: express } = await import('express');
    const { auth } = await import('express-openid-connect');
    const forward = proxyTo(options.upstream);
    const app = express();
    app.disable('x-powered-by');
    // The issuer is only contacted to log in or refresh, which the benchmark does not do.
    app.use(
      auth({
        issuerBaseURL: options.issuer,
        baseURL: 'http://127.0.0.1',
        clientID: options.clientId,
        clientSecret: options.clientSecret,
        authorizationParams: { response_type: 'code' },
        secret: options.secret,
        authRequired: false,
        routes: { login: false, logout: false, callback: false },
      }),
    );
    // Sign-in stand-in: the session its callback would store after a code exchange.
    app.post('/bench/login', express.json({ limit: '64kb' }), (req, res) => {
      const { id_token, access_token, refresh_token } = req.body;
      const expires_at = Math.floor(Date.now() / 1000) + 7200;
      Object.assign(req.appSession, {
        id_token,
        access_token,
        refresh_token,
        token_type: 'Bearer',
        expires_at,
      });
      res.json({ ok: true });
    });
    app.use('/api', (req, res) => {
      if (!req.oidc.isAuthenticated()) return unauthenticated(res);
      const { access_token, token_type } = req.oidc.accessToken;
      req.url = req.originalUrl;
      return forward(req, res, `${token_type} ${access_token}`);
    });
    return listen(app);
  },
};

const start = servers[kind];
if (!start) {
  console.error(`unknown server kind ${kind}`);
  process.exit(2);
}
const running = await start();
process.on('message', async (message) => {
  if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
  if (message === 'stop') {
    await running.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, url: running.url });
