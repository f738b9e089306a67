import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPAQUE_RESOURCE, RS } from '../support/authorization-server.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { writeReliabilitySection } from '../support/reliability.report.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
/** Requests through the gateway: SOAK_REQUESTS (default 200,000 here; `npm run test:soak` runs 1,000,000). */
const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 200_000);
const MAX_MINUTES = Number(process.env.SOAK_MAX_MINUTES ?? 30);
const TOKEN_TTL = 10;
const WARM_UP = Number(process.env.SOAK_WARM_UP ?? 60_000);

/** Load in a separate process, so that the RSS measured here is the servers' alone. */
function run(options: {
  url: string;
  amount: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}) {
  const args = [AUTOCANNON, '-j', '-c', '8', '-a', String(options.amount)];
  if (options.method) args.push('-m', options.method);
  if (options.body) args.push('-b', options.body);
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  args.push(options.url);
  return new Promise<{ ok: number; failed: number; seconds: number }>((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 2 ** 20 }, (error, stdout) => {
      if (error) return reject(error);
      const result = JSON.parse(stdout) as {
        '2xx': number;
        non2xx: number;
        errors: number;
        timeouts: number;
        duration: number;
      };
      resolve({
        ok: result['2xx'],
        failed: result.non2xx + result.errors + result.timeouts,
        seconds: result.duration,
      });
    });
  });
}

/** Resident set size of a process, in bytes (Linux). */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** RSS samples of one process: at rest after the warm-up, then every second under load. */
class RssSeries {
  idle = 0;
  readonly samples: number[] = [];
  constructor(
    readonly name: string,
    readonly pid: number,
  ) {}
  sample(): void {
    this.samples.push(rssOf(this.pid));
  }
  /** Flat under sustained load: the last quarter of the run against its first quarter. */
  get figures() {
    const quarter = Math.max(1, Math.floor(this.samples.length / 4));
    const early = median(this.samples.slice(0, quarter));
    const late = median(this.samples.slice(-quarter));
    return { quarter, early, late, max: Math.max(...this.samples), ratio: late / early };
  }
}

async function countKeys(stack: Stack): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await stack.redis.scan(cursor, 'MATCH', `${stack.prefix}*`, 'COUNT', 5000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

describe('soak', () => {
  let stack: Stack;

  beforeAll(async () => {
    // Every gateway request reads Redis (no session cache); client-credentials tokens live 10 s. The
    // servers run from the build in processes of their own, as in production: their RSS is theirs alone.
    stack = await startStack({
      processes: true,
      opaqueTokenTtlSeconds: TOKEN_TTL,
      gatewayEnv: { GATEWAY_SESSION_CACHE_MAX_ENTRIES: '0' },
    });
  }, 60_000);
  afterAll(async () => stack?.stop());

  it(
    'keeps memory flat through the gateway and the authorization server, and the store returns to its baseline',
    async () => {
      const sessions = await Promise.all([
        stack.login('alice', 'wonderland'),
        stack.login('power-user', 'many-groups'),
      ]);
      const basic = `Basic ${Buffer.from(`${RS.client_id}:${RS.client_secret}`).toString('base64')}`;
      const tokenRequest = {
        url: `${stack.asUrl}/token`,
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&resource=${encodeURIComponent(OPAQUE_RESOURCE)}&scope=orders%3Aread`,
      };
      const gatewayRequest = (i: number) => ({
        url: `${stack.gatewayUrl}/api/orders`,
        headers: { cookie: sessions[i % 2].cookie },
      });
      const series = [
        new RssSeries('authorization server', stack.pids!.authorizationServer),
        new RssSeries('gateway', stack.pids!.gateways[0]),
      ];
      // Warm-up under the same load, then the baselines once the warm-up's tokens have expired.
      await Promise.all([
        run({ ...gatewayRequest(0), amount: WARM_UP }),
        run({ ...tokenRequest, amount: Math.ceil(WARM_UP / 5) }),
      ]);
      await new Promise((resolve) => setTimeout(resolve, (TOKEN_TTL + 2) * 1000));
      const keysBefore = await countKeys(stack);
      for (const server of series) server.idle = rssOf(server.pid);
      let peakKeys = keysBefore;
      const sampler = setInterval(() => {
        for (const server of series) server.sample();
        void countKeys(stack).then((keys) => (peakKeys = Math.max(peakKeys, keys)));
      }, 1000);
      const deadline = Date.now() + MAX_MINUTES * 60_000;
      let gateway = { ok: 0, failed: 0, seconds: 0 };
      let tokens = { ok: 0, failed: 0, seconds: 0 };
      const batch = Math.min(REQUESTS, 50_000);
      while (gateway.ok + gateway.failed < REQUESTS && Date.now() < deadline) {
        const [g, t] = await Promise.all([
          run({
            ...gatewayRequest(gateway.ok),
            amount: Math.min(batch, REQUESTS - gateway.ok - gateway.failed),
          }),
          run({ ...tokenRequest, amount: Math.ceil(batch / 5) }),
        ]);
        gateway = {
          ok: gateway.ok + g.ok,
          failed: gateway.failed + g.failed,
          seconds: gateway.seconds + g.seconds,
        };
        tokens = {
          ok: tokens.ok + t.ok,
          failed: tokens.failed + t.failed,
          seconds: tokens.seconds + t.seconds,
        };
        peakKeys = Math.max(peakKeys, await countKeys(stack));
      }
      clearInterval(sampler);
      // Tokens expire after TOKEN_TTL: the store goes back to what it held before the soak.
      let keysAfter = await countKeys(stack);
      for (let i = 0; i < 30 && keysAfter > keysBefore; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        keysAfter = await countKeys(stack);
      }
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
      writeReliabilitySection(
        '9. Soak',
        `**What was done.** The authorization server and a gateway, each in a process of its own started from the build
as in production (the figures are those processes' RSS; the load generator runs in processes of its own),
after a warm-up of ${WARM_UP.toLocaleString('en')} gateway requests and ${Math.ceil(WARM_UP / 5).toLocaleString('en')} tokens;
alice and power-user signed in; ${gateway.ok.toLocaleString('en')} requests through the gateway with their cookies, the
session cache off so that every request read and opened the sealed session in Redis, alongside
${tokens.ok.toLocaleString('en')} client-credentials tokens issued by the authorization server (opaque, stored, ${TOKEN_TTL} s TTL),
8 connections each, on 127.0.0.1.

**What was observed.**

| measure | value |
| --- | --- |
| gateway requests | ${gateway.ok.toLocaleString('en')} × 200, ${gateway.failed} failed, ${Math.round(gateway.ok / Math.max(gateway.seconds, 1))} req/s |
| tokens issued | ${tokens.ok.toLocaleString('en')} × 200, ${tokens.failed} failed |
${series
  .map((server) => {
    const f = server.figures;
    return `| ${server.name}: RSS at rest after the warm-up | ${mib(server.idle)} MiB |
| ${server.name}: RSS under load, first quarter of the run (median of ${f.quarter} samples) | ${mib(f.early)} MiB |
| ${server.name}: RSS under load, last quarter of the run (median) | ${mib(f.late)} MiB (${f.ratio.toFixed(2)}× the first quarter) |
| ${server.name}: RSS, highest sample | ${mib(f.max)} MiB |`;
  })
  .join('\n')}
| stored keys before, at the peak, ${TOKEN_TTL} s after | ${keysBefore}, ${peakKeys.toLocaleString('en')}, ${keysAfter} |

Flat means the last quarter of the run within ±20% of its first quarter, for each process.

**Command.** ${
          process.env.SOAK_REQUESTS
            ? `\`npm run test:soak\` (SOAK_REQUESTS=${REQUESTS}, or ${MAX_MINUTES} minutes, whichever comes first).`
            : `\`npm run test:faults\` (${REQUESTS.toLocaleString('en')} requests); the long form: \`npm run test:soak\`
(1,000,000 requests or 30 minutes, whichever comes first).`
        }`,
      );
      expect(gateway.failed).toBe(0);
      expect(tokens.failed).toBe(0);
      for (const server of series) {
        expect(server.samples.length).toBeGreaterThanOrEqual(8);
        expect(server.figures.ratio).toBeGreaterThan(0.8);
        expect(server.figures.ratio).toBeLessThan(1.2);
      }
      expect(peakKeys).toBeGreaterThan(keysBefore);
      expect(keysAfter).toBeLessThanOrEqual(keysBefore);
    },
    40 * 60_000,
  );
});
