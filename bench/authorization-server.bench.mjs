// Authorization server throughput: client-credentials issuance and introspection with the sealed Redis
// adapter against oidc-provider's own in-memory adapter, measured in the same run, each server in its own
// process, alternating order, medians of the rounds.
//   npm run build && npm run bench:as            (add --write to update BENCHMARKS.md)
import { fmt, machine, table } from './lib.mjs';
import { replaceSection } from './report.mjs';
import {
  RESOURCE,
  benchEnvironment,
  deleteKeys,
  issueToken,
  load,
  redisClient,
  startServer,
} from './authorization-server/harness.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = 8;
const tokenBody = `grant_type=client_credentials&resource=${encodeURIComponent(RESOURCE)}&scope=orders%3Aread`;

const results = { memory: { token: [], introspection: [] }, sealed: { token: [], introspection: [] } };
const redis = redisClient();
const { env, prefix, cleanup } = benchEnvironment();
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['memory', 'sealed'] : ['sealed', 'memory'];
    for (const variant of order) {
      const server = await startServer(variant, env);
      try {
        // Warm-up, then the measured runs.
        await load({
          url: server.url,
          path: '/token',
          body: tokenBody,
          seconds: 1,
          connections: CONNECTIONS,
        });
        const token = await load({
          url: server.url,
          path: '/token',
          body: tokenBody,
          seconds: SECONDS,
          connections: CONNECTIONS,
        });
        const accessToken = await issueToken(server.url);
        const introspection = await load({
          url: server.url,
          path: '/token/introspection',
          body: `token=${accessToken}`,
          seconds: SECONDS,
          connections: CONNECTIONS,
        });
        for (const [name, run] of [
          ['token', token],
          ['introspection', introspection],
        ]) {
          if (run.failures > 0) throw new Error(`${variant} ${name}: ${run.failures} failed requests`);
          results[variant][name].push(run);
        }
        console.log(
          `round ${round + 1} ${variant}: token ${fmt(token.rps, 0)}/s, introspection ${fmt(introspection.rps, 0)}/s`,
        );
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  await deleteKeys(redis, prefix);
  redis.disconnect();
  cleanup();
}

const median = (runs, key) => [...runs.map((r) => r[key])].sort((a, b) => a - b)[Math.floor(runs.length / 2)];
const rows = [];
for (const name of ['token', 'introspection']) {
  const memory = results.memory[name];
  const sealed = results.sealed[name];
  const label =
    name === 'token' ? 'client_credentials token (opaque, stored)' : 'introspection of an opaque token';
  rows.push([
    label,
    'oidc-provider memory adapter',
    fmt(median(memory, 'rps'), 0),
    fmt(median(memory, 'p50')),
    fmt(median(memory, 'p99')),
    '1.00',
  ]);
  rows.push([
    label,
    'Cloakroom sealed Redis adapter',
    fmt(median(sealed, 'rps'), 0),
    fmt(median(sealed, 'p50')),
    fmt(median(sealed, 'p99')),
    fmt(median(sealed, 'rps') / median(memory, 'rps')),
  ]);
}
const body = [
  `Machine: ${machine()}. Command: \`npm run build && npm run bench:as -- --write\`. Each server in its own process`,
  `(Nest + oidc-provider, the same configuration), autocannon with ${CONNECTIONS} connections on loopback, ${SECONDS} s per run after`,
  `a 1 s warm-up, ${ROUNDS} rounds in alternating order, medians; every answer 200. Target: the sealed adapter at ≥ 0.80× the`,
  'memory adapter.',
  '',
  table(['operation', 'storage', 'req/s', 'p50 ms', 'p99 ms', '× memory'], rows),
].join('\n');
console.log(body);
if (process.argv.includes('--write'))
  replaceSection('Authorization server: sealed Redis adapter against the memory adapter', body);
