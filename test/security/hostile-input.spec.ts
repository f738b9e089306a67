import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { prepareMaterial } from './hostile/hostile.material.js';
import type { Material } from './hostile/hostile.material.js';
import { formatReport, runHostileInput, survivors } from './hostile/hostile.runner.js';

// The fast part of the hostile-input run (`npm test`); the 100,000-input run is hostile-input.slow.spec.ts.
// Reproduce a failure with HOSTILE_SEED=<seed> HOSTILE_START=<index> HOSTILE_FAST_TOTAL=1.
const SEED = Number(process.env.HOSTILE_SEED ?? 20261122);
const TOTAL = Number(process.env.HOSTILE_FAST_TOTAL ?? 5000);

describe('hostile input (fast part)', () => {
  let stack: Stack;
  let material: Material;

  beforeAll(async () => {
    stack = await startStack({ demoApi: true });
    material = await prepareMaterial(stack, {
      sessions: 2,
      interactions: 4,
      pendingLogins: 10,
      logoutTokens: 40,
    });
  });
  afterAll(async () => stack?.stop());

  it(`answers ${TOTAL} generated hostile requests without a 5xx, and nobody gets in`, async () => {
    const report = await runHostileInput(material, {
      seed: SEED,
      total: TOTAL,
      concurrency: Number(process.env.HOSTILE_CONCURRENCY ?? 8),
      timeLimitMs: 45_000,
      start: Number(process.env.HOSTILE_START ?? 0),
    });
    console.log(
      `hostile input, seed ${SEED}: ${report.sent} inputs in ${report.elapsedMs} ms, known defects ${JSON.stringify(report.defects)}\n${formatReport(report)}`,
    );
    if (process.env.HOSTILE_REPORT)
      writeFileSync(process.env.HOSTILE_REPORT, JSON.stringify(report, null, 1));
    expect(report.failures).toEqual([]);
    expect(report.sent + report.refusedByClient).toBe(TOTAL);
    expect(await survivors(material)).toEqual({
      healthz: [200, 200, 200],
      sessions: material.tickets.map(() => 200),
    });
  }, 60_000);
});
