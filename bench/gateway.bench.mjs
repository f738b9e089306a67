// The Cloakroom gateway against what users would pick instead, side by side in one run.
//   npm run bench:gateway       (needs `npm run build` and a Redis at REDIS_URL or 127.0.0.1:6379)
// Every server runs in its own process; autocannon runs here. Rounds alternate the scenario order, every run
// sits between two bare-proxy runs, and the table gives medians of the runs and of the ratios.
// --write replaces the section in BENCHMARKS.md; --quick shortens every run (smoke test, not figures).
// --before=<checkout> also measures the gateway built in another checkout of the project (its `npm run build` done),
// hot and cold, with the same session: the before-and-after of a change to the gateway, in one run.
// BENCH_CPU_PROF=<dir> starts every proxy process with --cpu-prof into that directory (file names carry the
// process id, logged at start); bench/gateway/profile-summary.mjs turns a profile into µs per request.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { startAuthorizationServer } from '../apps/authorization-server/dist/bootstrap.js';
import { startGateway } from '../apps/gateway/dist/bootstrap.js';
import { freePort, load, median, startServer } from './gateway/load.mjs';
import { gatewaySession, tokenSet } from './gateway/sign-in.mjs';
import { fmt, machine, table } from './lib.mjs';
import { replaceSection } from './report.mjs';

const quick = process.argv.includes('--quick');
const before = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length);
const beforeCommit = before
  ? execFileSync('git', ['-C', before, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim()
  : undefined;
const EOC_VERSION = createRequire(import.meta.url)('express-openid-connect/package.json').version;
const CONNECTIONS = 10;
const SECONDS = quick ? 1 : 2;
const WARMUP_SECONDS = 0.5;
const LATENCY_SECONDS = quick ? 1 : 2;
const ROUNDS = quick ? 1 : 5;
const BROWSER_COOKIE_LIMIT = 4096;
const RESOURCE = 'http://localhost:4000';
const SCOPE = 'openid profile email groups offline_access orders:read orders:write';
const GATEWAY_SECRET = `bench-gateway-${randomBytes(12).toString('hex')}`;
const RP = {
  id: 'bench-rp',
  secret: `bench-rp-${randomBytes(12).toString('hex')}`,
  redirectUri: 'http://127.0.0.1:9/callback',
  scope: SCOPE,
  resource: RESOURCE,
};
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench:gw:${randomBytes(4).toString('hex')}:`;
const redis = new Redis(redisUrl);
const started = [];
const dir = mkdtempSync(join(tmpdir(), 'cloakroom-bench-'));
let stopAs;
const log = (line) => console.error(`[bench:gateway] ${line}`);

try {
  // --- The real authorization server, the gateway that logs in through it, and the token strings.
  const upstream = await startServer('upstream');
  started.push(upstream);
  const loginPort = await freePort();
  const publicUrl = `http://127.0.0.1:${loginPort}`;
  writeFileSync(
    join(dir, 'clients.yaml'),
    stringify({
      clients: [
        {
          client_id: 'gateway',
          client_secret: GATEWAY_SECRET,
          redirect_uris: [`${publicUrl}/auth/callback`],
          post_logout_redirect_uris: [`${publicUrl}/`],
          grant_types: ['authorization_code', 'refresh_token'],
          first_party: true,
          resources: [RESOURCE],
          scopes: SCOPE.split(' '),
        },
        {
          client_id: RP.id,
          client_secret: RP.secret,
          redirect_uris: [RP.redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          first_party: true,
          resources: [RESOURCE],
          scopes: SCOPE.split(' '),
        },
      ],
    }),
  );
  // The demo API's resource without a byte budget: this benchmark is about carrying power-user's whole 9.5 KB token
  // (bench:hops measures the budgeted tokens).
  writeFileSync(
    join(dir, 'resources.yaml'),
    stringify({
      resources: [
        {
          indicator: RESOURCE,
          scopes: ['orders:read', 'orders:write'],
          groupsClaim: true,
          tokenBudgetBytes: 1_048_576,
        },
      ],
    }),
  );
  const asPort = await freePort();
  // Tokens outlive the run: no scenario refreshes while it is measured.
  const as = await startAuthorizationServer({
    PORT: String(asPort),
    ISSUER: `http://127.0.0.1:${asPort}`,
    LOG_LEVEL: 'silent',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `${prefix}as:`,
    CLIENTS_FILE: join(dir, 'clients.yaml'),
    USERS_FILE: 'config/demo/users.yaml',
    RESOURCES_FILE: join(dir, 'resources.yaml'),
    ACCESS_TOKEN_TTL_SECONDS: '7200',
    MANAGEMENT_PORT: '0',
  });
  stopAs = () => as.close();
  const gatewayEnv = {
    ISSUER_URL: as.url,
    GATEWAY_CLIENT_SECRET: GATEWAY_SECRET,
    GATEWAY_PUBLIC_URL: publicUrl,
    GATEWAY_ROUTES: `/api=${upstream.url}`,
    GATEWAY_API_RESOURCE: RESOURCE,
    GATEWAY_SCOPES: SCOPE,
    GATEWAY_COOKIE_INSECURE_DEV: 'true',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `${prefix}gw:`,
    LOG_LEVEL: 'error',
  };
  const loginGateway = await startGateway({ ...gatewayEnv, PORT: String(loginPort) });
  const cookieName = 'cloakroom';
  const powerTicket = await gatewaySession(publicUrl, cookieName, 'power-user', 'many-groups');
  // Redis bytes of the power-user's gateway session, before any other session exists.
  const gatewayKeys = await keysOf(`${prefix}gw:`);
  const gatewaySessionKey = gatewayKeys.filter((k) => k.key.includes('gateway.session'));
  const gatewayIndexKeys = gatewayKeys.filter((k) => !k.key.includes('gateway.session'));
  // The stored value's length (what a GET returns), for the server-side session floor (row 2b).
  const sessionBytes = await redis.strlen(gatewaySessionKey[0].key);
  const aliceTicket = await gatewaySession(publicUrl, cookieName, 'alice', 'wonderland');
  await loginGateway.close();
  const power = await tokenSet(as.url, RP, 'power-user', 'many-groups');
  const alice = await tokenSet(as.url, RP, 'alice', 'wonderland');
  const sizes = (set) => ({
    access: set.access_token.length,
    refresh: set.refresh_token?.length ?? 0,
    id: set.id_token?.length ?? 0,
  });
  log(`power-user tokens ${JSON.stringify(sizes(power))}, alice ${JSON.stringify(sizes(alice))}`);

  // --- The servers, each in its own process.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const secret = randomBytes(32).toString('base64url');
  const servers = {};
  for (const [name, kind, options] of [
    ['bare', 'bare', { upstream: upstream.url }],
    ['header', 'header', { upstream: upstream.url, accessToken: power.access_token }],
    [
      'headerRedis',
      'header-redis',
      {
        upstream: upstream.url,
        accessToken: power.access_token,
        redisUrl,
        key: `${prefix}floor`,
        bytes: sessionBytes,
      },
    ],
    ['gatewayHot', 'gateway', { env: { ...gatewayEnv, PORT: '0' } }],
    ['gatewayCold', 'gateway', { env: { ...gatewayEnv, PORT: '0', GATEWAY_SESSION_CACHE_MAX_ENTRIES: '0' } }],
    ...(before
      ? [
          ['gatewayBeforeHot', 'gateway', { root: before, env: { ...gatewayEnv, PORT: '0' } }],
          [
            'gatewayBeforeCold',
            'gateway',
            { root: before, env: { ...gatewayEnv, PORT: '0', GATEWAY_SESSION_CACHE_MAX_ENTRIES: '0' } },
          ],
        ]
      : []),
    ['gzip', 'gzip', { upstream: upstream.url }],
    [
      'expressSession',
      'express-session',
      { upstream: upstream.url, redisUrl, prefix: `${prefix}es:`, secret },
    ],
    ['ironSession', 'iron-session', { upstream: upstream.url, secret }],
    [
      'openidConnect',
      'express-openid-connect',
      { upstream: upstream.url, issuer: as.url, clientId: RP.id, clientSecret: RP.secret, secret },
    ],
  ]) {
    servers[name] = await startServer(kind, options, profile);
    started.push(servers[name]);
    if (profile.length) log(`${name}: process ${servers[name].pid}`);
  }
  // The authorization server is not needed any more (no refresh happens): it stays out of the figures.
  await stopAs();
  stopAs = undefined;

  // --- Each scenario's cookie, made the way its library makes it.
  const gzipChunks = chunk(
    gzipSync(JSON.stringify(power)).toString('base64url'),
    'tokens',
    BROWSER_COOKIE_LIMIT,
  );
  const [expressCookie] = await loginCookies(servers.expressSession.url, power, 'connect.sid=');
  // connect-redis writes `<prefix><session id>`; the cookie carries `s:<session id>.<signature>`.
  const expressSid = /^s:([^.]+)\./.exec(decodeURIComponent(expressCookie.split('=')[1]))?.[1];
  // express-session may answer before its store write has finished: wait for the key.
  let expressKeys = [];
  for (let tries = 0; tries < 50 && !expressKeys.length; tries++) {
    expressKeys = await keysOf(`${prefix}es:${expressSid}`);
    if (!expressKeys.length) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const eocCookies = await loginCookies(servers.openidConnect.url, power, 'appSession');
  const ironPower = await ironLogin(servers.ironSession.url, power);
  const ironAlice = await ironLogin(servers.ironSession.url, alice);
  if (!ironAlice.cookie) throw new Error(`iron-session refused alice's token set: ${ironAlice.error}`);

  const scenarios = [
    { id: 'bare', label: '1. bare reverse proxy (undici)', server: 'bare', token: 0 },
    { id: 'header', label: '2. bare proxy + fixed Authorization', server: 'header', token: power },
    {
      id: 'headerRedis',
      label: '2b. fixed Authorization after one Redis GET',
      server: 'headerRedis',
      token: power,
    },
    {
      id: 'hot',
      label: '3a. Cloakroom gateway, hot',
      server: 'gatewayHot',
      cookie: `${cookieName}=${powerTicket}`,
      token: power,
      redis: sum(gatewaySessionKey),
    },
    {
      id: 'cold',
      label: '3b. Cloakroom gateway, cold (cache off)',
      server: 'gatewayCold',
      cookie: `${cookieName}=${powerTicket}`,
      token: power,
      redis: sum(gatewaySessionKey),
    },
    ...(before
      ? [
          {
            id: 'hotBefore',
            label: '3a′. the gateway before (`--before`), hot',
            server: 'gatewayBeforeHot',
            cookie: `${cookieName}=${powerTicket}`,
            token: power,
          },
          {
            id: 'coldBefore',
            label: '3b′. the gateway before (`--before`), cold',
            server: 'gatewayBeforeCold',
            cookie: `${cookieName}=${powerTicket}`,
            token: power,
          },
        ]
      : []),
    {
      id: 'gzip',
      label: `4. gzip token set in ${gzipChunks.length} cookie(s)`,
      server: 'gzip',
      cookie: gzipChunks.join('; '),
      token: power,
    },
    {
      id: 'express',
      label: '5. express-session + connect-redis',
      server: 'expressSession',
      cookie: expressCookie,
      token: power,
      redis: sum(expressKeys),
    },
    {
      id: 'iron',
      label: "6. iron-session sealed cookie (alice's set)",
      server: 'ironSession',
      cookie: ironAlice.cookie,
      token: alice,
    },
    {
      id: 'eoc',
      label: `7. express-openid-connect, ${eocCookies.length} chunked cookie(s)`,
      server: 'openidConnect',
      cookie: eocCookies.join('; '),
      token: power,
    },
    {
      id: 'hotAlice',
      label: "3c. Cloakroom gateway, hot (alice's set)",
      server: 'gatewayHot',
      cookie: `${cookieName}=${aliceTicket}`,
      token: alice,
    },
  ];
  // --only=hot,cold measures a subset (the bare proxy always): for profiling, not for the table.
  const only = process.argv
    .find((a) => a.startsWith('--only='))
    ?.slice(7)
    .split(',');
  if (only)
    scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => s.id === 'bare' || only.includes(s.id)));
  for (const s of scenarios) s.url = `${servers[s.server].url}/api/whoami`;

  // Every scenario must really forward its token before it is timed. The gateway holds tokens of its own
  // sign-in, of the same user and claims as the captured ones: their sizes may differ by a few bytes.
  for (const s of scenarios) {
    const response = await fetch(s.url, { headers: s.cookie ? { cookie: s.cookie } : {} });
    const body = await response.json();
    const expected = s.token ? `Bearer ${s.token.access_token}`.length : 0;
    if (response.status !== 200 || Math.abs(body.authorization - expected) > 16) {
      throw new Error(
        `${s.label}: answered ${response.status}, forwarded ${body.authorization} bytes of ${expected}`,
      );
    }
  }

  // --- Every scenario run sits between two bare-proxy runs (B S1 B S2 B …) and is compared with their mean:
  // other work on this shared machine, and its drift, then weighs on both sides of a ratio alike.
  const measure = async (s, connections) => {
    const server = servers[s.server];
    const at = { url: s.url, cookie: s.cookie, connections, server };
    await load({ ...at, seconds: WARMUP_SECONDS });
    const cpuBefore = await server.cpu();
    const run = await load({ ...at, seconds: connections === 1 ? LATENCY_SECONDS : SECONDS });
    run.cpuPerRequest = ((await server.cpu()) - cpuBefore) / run.requests;
    return run;
  };
  const mean = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, (a[k] + b[k]) / 2]));
  const bare = scenarios[0];
  for (const s of scenarios) Object.assign(s, { runs: [], single: [], pairedRuns: [], pairedSingle: [] });
  for (let round = 0; round < ROUNDS; round++) {
    for (const [runs, paired, connections] of [
      ['runs', 'pairedRuns', CONNECTIONS],
      ['single', 'pairedSingle', 1],
    ]) {
      const order = round % 2 ? scenarios.slice(1).reverse() : scenarios.slice(1);
      let before = await measure(bare, connections);
      bare[runs].push(before);
      for (const s of order) {
        const own = await measure(s, connections);
        const after = await measure(bare, connections);
        bare[runs].push(after);
        const baseline = mean(before, after);
        before = after;
        s[runs].push(own);
        s[paired].push(baseline);
        log(
          `round ${round + 1}, ${connections} conn., ${s.label}: ${fmt(own.rps, 0)} req/s (bare ${fmt(baseline.rps, 0)}), ` +
            `${fmt(own.cpuPerRequest, 1)} µs CPU/req (bare ${fmt(baseline.cpuPerRequest, 1)}), p99 ${fmt(own.p99, 3)} ms (bare ${fmt(baseline.p99, 3)})`,
        );
      }
    }
  }
  bare.pairedRuns = bare.runs;
  bare.pairedSingle = bare.single;

  // --- Figures: medians of all runs; a ratio is the median of (run / mean of the bare-proxy runs around it).
  const bareRps = bare.runs.map((r) => r.rps).sort((a, b) => a - b);
  const ratio = (s, pick, runs = 'runs') =>
    median(s[runs].map((run, i) => pick(run) / pick(s[runs === 'runs' ? 'pairedRuns' : 'pairedSingle'][i])));
  const stat = (s, pick, runs = 'runs') => median(s[runs].map(pick));
  // Requests each process served, warm-ups included (to turn a CPU profile into µs per request).
  log(
    `served: ${JSON.stringify(Object.fromEntries(Object.entries(servers).map(([k, v]) => [k, v.served])))}`,
  );
  const failures = scenarios.filter((s) => [...s.runs, ...s.single].some((run) => run.failures > 0));
  const cookieBytes = (s) => (s.cookie ? Buffer.byteLength(s.cookie) : 0);
  const rows = scenarios.map((s) => [
    s.label,
    fmt(
      stat(s, (r) => r.rps),
      0,
    ),
    fmt(ratio(s, (r) => r.rps)),
    fmt(
      stat(s, (r) => r.p50),
      3,
    ),
    fmt(ratio(s, (r) => r.p50)),
    fmt(
      stat(s, (r) => r.p99),
      3,
    ),
    fmt(ratio(s, (r) => r.p99)),
    fmt(
      stat(s, (r) => r.cpuPerRequest),
      1,
    ),
    fmt(ratio(s, (r) => r.cpuPerRequest)),
    s.cookie ? String(cookieBytes(s)) : '—',
    s.redis ? String(s.redis) : '—',
  ]);
  const singleRows = scenarios.map((s) => [
    s.label,
    fmt(
      stat(s, (r) => r.p50, 'single'),
      3,
    ),
    fmt(
      stat(s, (r) => r.p99, 'single'),
      3,
    ),
    fmt(ratio(s, (r) => r.p99, 'single')),
    fmt(median(s.single.map((run, i) => run.p99 - s.pairedSingle[i].p99)), 3),
  ]);

  const byId = Object.fromEntries(scenarios.map((s) => [s.id, s]));
  // With --only some scenarios are absent: their targets read NaN (missed).
  const rps = (id) => (byId[id] ? ratio(byId[id], (r) => r.rps) : NaN);
  const cpu = (id) => (byId[id] ? ratio(byId[id], (r) => r.cpuPerRequest) : NaN);
  const added = byId.hot
    ? median(byId.hot.single.map((run, i) => run.p99 - byId.hot.pairedSingle[i].p99))
    : NaN;
  const rivals = ['gzip', 'express', 'iron', 'eoc'];
  const targets = [
    ['gateway hot ≥ 0.80× bare proxy req/s', `${fmt(rps('hot'))}×`, rps('hot') >= 0.8],
    ['gateway cold ≥ 0.55× bare proxy req/s', `${fmt(rps('cold'))}×`, rps('cold') >= 0.55],
    [
      'gateway hot ahead of scenarios 4–7 in req/s',
      rivals.map((id) => `${id} ${fmt(rps(id))}×`).join(', '),
      rivals.every((id) => rps(id) < rps('hot')),
    ],
    [
      'gateway cold ahead of scenarios 4–7 in req/s',
      `cold ${fmt(rps('cold'))}×`,
      rivals.every((id) => rps(id) < rps('cold')),
    ],
    ['p99 added over the bare proxy at 1 connection ≤ 0.3 ms (hot)', `${fmt(added, 3)} ms`, added <= 0.3],
    [
      "Redis ≤ 4 KB per session for the power-user's set",
      `${sum(gatewaySessionKey)} B`,
      sum(gatewaySessionKey) <= 4096,
    ],
  ].map(([target, measured, met]) => [target, measured, met ? 'met' : '**missed**']);

  const tokenLine = (name, set) => {
    const s = sizes(set);
    return `${name}: access token ${s.access} B (JWT), refresh ${s.refresh} B, id token ${s.id} B`;
  };
  const section = [
    `Machine: ${machine()}. Command: \`npm run bench:gateway${before ? ' -- --before=<checkout>' : ''}\` (after \`npm run build\`; Redis at ${redisUrl.replace(/\/\/.*@/, '//')}).`,
    '',
    `Load: autocannon on 127.0.0.1, ${CONNECTIONS} connections, ${SECONDS} s per run after a ${WARMUP_SECONDS} s warm-up, GET /api/whoami; ${ROUNDS} rounds in alternating order, every scenario run between two bare-proxy runs, medians shown. Every server (and the upstream, a node:http server answering 200 with a 40-byte body) runs in its own process; CPU is that process's user + system time per request. A ratio is the median over rounds of the run divided by the mean of the two bare-proxy runs around it: for req/s higher is better, for latency and CPU lower is better.`,
    '',
    `Token sets from the real authorization server (demo users, resource ${RESOURCE} with groups in the JWT): ${tokenLine('power-user', power)}; ${tokenLine('alice', alice)}.`,
    '',
    table(
      [
        'scenario',
        'req/s',
        '× bare',
        'p50 ms',
        '× bare',
        'p99 ms',
        '× bare',
        'CPU µs/req',
        '× bare',
        'cookie B',
        'Redis B/session',
      ],
      rows,
    ),
    '',
    'Latency at 1 connection (sequential requests):',
    '',
    table(['scenario', 'p50 ms', 'p99 ms', 'p99 × bare', 'p99 added over bare, ms'], singleRows),
    '',
    'Targets:',
    '',
    table(['target', 'measured', ''], targets),
    '',
    'Notes:',
    '',
    `- Noise: the ${bareRps.length} bare-proxy runs on ${CONNECTIONS} connections ranged from ${fmt(bareRps[0], 0)} to ${fmt(bareRps.at(-1), 0)} req/s (median ${fmt(median(bareRps), 0)}); load average ${loadavg()[0].toFixed(2)} at the end of the run, on ${machine().split(' ')[0]} cores shared with other work. Ratios against the neighbouring bare runs are the figures to read.`,
    `- The floor: forwarding the power-user's ${sizes(power).access}-byte token alone (row 2) reaches ${fmt(rps('header'))}× the bare proxy; the gateway hot reaches ${fmt(rps('hot') / rps('header'))}× of that floor, cold ${fmt(rps('cold') / rps('header'))}×.`,
    `- The floor of a server-side session (row 2b): the same proxy reading ${sessionBytes} bytes (the gateway's stored session) from Redis before each request, decrypting and decoding nothing, reaches ${fmt(rps('headerRedis'))}× the bare proxy; the gateway cold reaches ${fmt(rps('cold') / rps('headerRedis'))}× of it.`,
    `- Cookie bytes are the \`Cookie\` header the browser sends. The gateway's cookie is ${cookieName}=<43 characters> here (plain-http development name); in production it is \`__Host-cloakroom\`, 7 bytes more.`,
    `- Redis bytes are \`MEMORY USAGE … SAMPLES 0\` of the session key. The gateway also keeps index entries per login (the OIDC \`sid\` and the user, for back-channel logout): ${gatewayIndexKeys.length} key(s), ${sum(gatewayIndexKeys)} B in all for the power-user's one session. express-session keeps the token set in plaintext JSON.`,
    `- gzip: the power-user's set compresses to ${gzipChunks.reduce((n, c) => n + c.length, 0)} bytes of cookies; one browser cookie holds at most ${BROWSER_COOKIE_LIMIT} bytes, so it is split into ${gzipChunks.length} cookie(s) (\`tokens.0\`, …) joined and inflated on every request.`,
    `- iron-session with the power-user's set: ${ironPower.cookie ? `a ${ironPower.cookie.length}-byte cookie, over the ${BROWSER_COOKIE_LIMIT}-byte browser limit (a browser drops it)` : `refused (${ironPower.error})`}. It is measured with alice's smaller set; row 3c is the gateway with that same set.`,
    `- express-openid-connect ${EOC_VERSION}, defaults: the power-user's set is one ${eocCookies.reduce((n, c) => n + c.length, 0)}-byte JWE split into ${eocCookies.length} \`appSession.N\` cookies, decrypted on every request and, its sessions being rolling, encrypted again into ${eocCookies.length} fresh \`Set-Cookie\` lines on every answer. A Cookie header that size is over nginx's default 8 KB header buffer (\`large_client_header_buffers\`): behind such a proxy it gets 400.`,
    ...(before
      ? [
          `- Before and after: rows 3a′ and 3b′ are the gateway built from \`${beforeCommit}\` (\`--before\`), run with the same settings and the same session. After ÷ before, req/s: hot ${fmt(rps('hot') / rps('hotBefore'))}×, cold ${fmt(rps('cold') / rps('coldBefore'))}×; CPU per request: hot ${fmt(cpu('hot') / cpu('hotBefore'))}×, cold ${fmt(cpu('cold') / cpu('coldBefore'))}× (1.00× is no change; each figure is a ratio of the two scenarios' ratios to their neighbouring bare-proxy runs).`,
        ]
      : []),
    ...(failures.length
      ? [`- **Non-2xx answers or errors during:** ${failures.map((s) => s.label).join(', ')}.`]
      : []),
  ].join('\n');

  console.log(section);
  if (process.argv.includes('--write')) replaceSection('Gateway against the alternatives', section);
} finally {
  for (const server of started.reverse()) await server.stop().catch(() => {});
  await stopAs?.().catch(() => {});
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
}

async function keysOf(keyPrefix) {
  const keys = await redis.keys(`${keyPrefix}*`);
  return Promise.all(
    keys.map(async (key) => ({
      key,
      bytes: Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')),
    })),
  );
}

function sum(keys) {
  return keys.reduce((n, k) => n + k.bytes, 0);
}

/** Splits a value over cookies `name.0`, `name.1`… each within the browser limit (name=value). */
function chunk(value, name, limit) {
  const room = limit - `${name}.0=`.length;
  const cookies = [];
  for (let i = 0, at = 0; at < value.length; i++, at += room)
    cookies.push(`${name}.${i}=${value.slice(at, at + room)}`);
  return cookies;
}

/** Posts a token set to a scenario's sign-in stand-in. */
function postLogin(url, tokens) {
  return fetch(`${url}/bench/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(tokens),
  });
}

/** `name=value` of every cookie the sign-in stand-in sets whose name starts with `prefix`, in the order set. */
async function loginCookies(url, tokens, prefix) {
  const response = await postLogin(url, tokens);
  if (!response.ok) throw new Error(`${url}: sign-in stand-in answered ${response.status}`);
  const lines = response.headers.getSetCookie().filter((c) => c.startsWith(prefix));
  if (!lines.length) throw new Error(`${url}: no ${prefix} cookie`);
  return lines.map((line) => line.split(';')[0]);
}

async function ironLogin(url, tokens) {
  const response = await postLogin(url, tokens);
  if (!response.ok) return { error: (await response.json()).error };
  const line = response.headers.getSetCookie().find((c) => c.startsWith('iron='));
  return line ? { cookie: line.split(';')[0] } : { error: 'no cookie set' };
}
