// The soak an in-memory token store fails: issue many short-lived tokens through the sealed Redis adapter,
// watch the server's RSS stay flat and the stored keys go back to zero once the tokens expire.
//   npm run build && npm run bench:as-soak -- --tokens 1000000      (add --write to update BENCHMARKS.md)
import { fmt, machine, table } from './lib.mjs';
import { replaceSection } from './report.mjs';
import {
  RESOURCE,
  benchEnvironment,
  countKeys,
  deleteKeys,
  load,
  redisClient,
  startServer,
} from './authorization-server/harness.mjs';

const arg = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const TOKENS = arg('tokens', 1_000_000);
const CONNECTIONS = arg('connections', 8);
const TTL = 10;
const body = `grant_type=client_credentials&resource=${encodeURIComponent(RESOURCE)}&scope=orders%3Aread`;

const redis = redisClient();
const { env, prefix, cleanup } = benchEnvironment({ accessTokenTTL: TTL });
const server = await startServer('sealed', env);
const samples = [];
try {
  await load({ url: server.url, path: '/token', body, amount: 20_000, connections: CONNECTIONS });
  globalThis.gc?.();
  const baselineRss = await server.rss();
  const started = Date.now();
  let peakKeys = 0;
  const sampler = setInterval(async () => {
    const [rss, keys] = await Promise.all([server.rss(), countKeys(redis, prefix)]);
    peakKeys = Math.max(peakKeys, keys);
    samples.push({ s: (Date.now() - started) / 1000, rss, keys });
  }, 5000);
  const run = await load({ url: server.url, path: '/token', body, amount: TOKENS, connections: CONNECTIONS });
  clearInterval(sampler);
  if (run.failures > 0) throw new Error(`${run.failures} failed requests`);
  const endRss = await server.rss();
  const maxRss = Math.max(endRss, ...samples.map((s) => s.rss));
  const keysAtEnd = await countKeys(redis, prefix);
  peakKeys = Math.max(peakKeys, keysAtEnd);
  // Every token lives TTL seconds: wait for them (and Redis's active expiry) to be gone.
  let keysAfter = keysAtEnd;
  const deadline = Date.now() + (TTL + 60) * 1000;
  while (keysAfter > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    keysAfter = await countKeys(redis, prefix);
  }
  const mb = (bytes) => fmt(bytes / 2 ** 20, 1);
  const rows = [
    ['tokens issued (client_credentials, opaque, stored)', run.requests.toLocaleString('en')],
    [
      'throughput',
      `${fmt(run.rps, 0)} req/s over ${fmt(run.seconds, 0)} s, ${CONNECTIONS} connections, 0 failures`,
    ],
    ['server RSS after warm-up (baseline)', `${mb(baselineRss)} MiB`],
    ['server RSS, highest sample', `${mb(maxRss)} MiB (${fmt(maxRss / baselineRss)}× baseline)`],
    ['server RSS at the end', `${mb(endRss)} MiB (${fmt(endRss / baselineRss)}× baseline)`],
    ['stored keys, highest sample', peakKeys.toLocaleString('en')],
    [`stored keys ${TTL} s TTL later`, keysAfter.toLocaleString('en')],
  ];
  const report = [
    `Machine: ${machine()}. Command: \`npm run build && npm run bench:as-soak -- --tokens ${TOKENS} --write\`.`,
    `Tokens live ${TTL} s; RSS sampled every 5 s. Flat means within ±20% of the baseline.`,
    '',
    table(['measure', 'value'], rows),
  ].join('\n');
  console.log(report);
  if (process.argv.includes('--write')) {
    replaceSection(`Authorization server soak: ${TOKENS.toLocaleString('en')} short-lived tokens`, report);
  }
} finally {
  await server.stop();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  cleanup();
}
