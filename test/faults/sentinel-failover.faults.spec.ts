import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSentinelTopology } from '../support/redis-topology.js';
import type { SentinelTopology } from '../support/redis-topology.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { apiCall, introspection, statusOf } from '../support/fault.probes.js';
import { writeReliabilitySection } from '../support/reliability.report.js';

describe('Sentinel failover under load', () => {
  let topology: SentinelTopology;
  let stack: Stack;

  beforeAll(async () => {
    topology = await startSentinelTopology();
    const store = {
      REDIS_URL: '',
      REDIS_SENTINELS: topology.sentinels,
      REDIS_SENTINEL_NAME: topology.name,
      REDIS_COMMAND_TIMEOUT_MS: '500',
    };
    stack = await startStack({ asEnv: store, gatewayEnv: store });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await topology?.stop();
  });

  it('keeps sessions across a failover, with a short error window and no 500', async () => {
    const session = await stack.login('alice', 'wonderland');
    const call = () => statusOf(apiCall(stack, session.cookie));
    const introspect = () => statusOf(introspection(stack));
    expect(await call()).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the replica has the session

    const samples: Array<{ at: number; status: number | string }> = [];
    const storeSamples: Array<{ at: number; status: number | string }> = [];
    const started = Date.now();
    let running = true;
    const loopOf = (into: typeof samples, request: () => Promise<number | string>) =>
      (async () => {
        while (running && Date.now() - started < 30_000) {
          into.push({ at: Date.now() - started, status: await request() });
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
    const loops = [loopOf(samples, call), loopOf(storeSamples, introspect)];
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const oldMaster = await topology.masterPort();
    const failoverAt = Date.now() - started;
    const newMaster = await topology.failover();
    const doneAt = Date.now() - started;
    // Keep going until requests succeed again, plus a second of steady state.
    while (
      Date.now() - started < 25_000 &&
      (samples.at(-1)?.status !== 200 || storeSamples.at(-1)?.status !== 200)
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    running = false;
    await Promise.all(loops);
    const storeFailed = storeSamples.filter((s) => s.status !== 200);
    const storeWindowMs = storeFailed.length ? storeFailed.at(-1)!.at - storeFailed[0].at : 0;

    const failed = samples.filter((s) => s.status !== 200);
    const windowMs = failed.length ? failed.at(-1)!.at - failed[0].at : 0;
    const counts = samples.reduce<Record<string, number>>((acc, s) => {
      acc[String(s.status)] = (acc[String(s.status)] ?? 0) + 1;
      return acc;
    }, {});
    const after = await call();
    writeReliabilitySection(
      '2. Sentinel failover',
      `**What was done.** A master, a replica and three \`redis-sentinel\`s (down-after 1 s); the authorization server
and a gateway connected through the sentinels (\`REDIS_SENTINELS\`). alice signed in; a request loop through the
gateway with her cookie ran while \`SENTINEL FAILOVER\` moved the master from port ${oldMaster} to ${newMaster}
(${failoverAt} ms into the run; the sentinels named the new master ${doneAt - failoverAt} ms later).

**What was observed.** ${samples.length} requests: ${Object.entries(counts)
        .map(([status, n]) => `${n} × ${status}`)
        .join(
          ', ',
        )}. Error window: ${windowMs} ms (${failed.length} requests not 200, none a 500). The session created
before the failover answered ${after} afterwards: nothing was lost. At the authorization server, whose every
introspection reads the store, ${storeSamples.length} requests saw an error window of ${storeWindowMs} ms
(${storeFailed.length} answers not 200: ${[...new Set(storeFailed.map((s) => s.status))].join(', ') || 'none'}). \`SENTINEL FAILOVER\` is the orderly kind: the old
master stops taking writes before the replica is promoted, and the clients follow the sentinels' announcement.

**Command.** \`npm run test:faults\` (\`test/faults/sentinel-failover.faults.spec.ts\`).`,
    );
    expect(newMaster).not.toBe(oldMaster);
    expect(samples.some((s) => s.status === 500)).toBe(false);
    expect(storeSamples.some((s) => s.status === 500)).toBe(false);
    expect(storeFailed.every((s) => s.status === 503 || s.status === 'TimeoutError')).toBe(true);
    expect(failed.every((s) => s.status === 503 || s.status === 'TimeoutError')).toBe(true);
    expect(after).toBe(200);
  }, 60_000);
});
