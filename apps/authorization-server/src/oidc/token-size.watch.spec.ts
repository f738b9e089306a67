import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { AuthorizationServerMetrics } from '../ops/metrics.js';
import { TokenSizeWatch } from './token-size.watch.js';

function setup(budget: number) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const metrics = new AuthorizationServerMetrics();
  return { lines, metrics, watch: new TokenSizeWatch(budget, pino(stream), metrics) };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe(TokenSizeWatch.name, () => {
  const payload = {
    sub: 'power-user',
    groups: Array.from({ length: 300 }, (_, i) => `team-${i}-readers`),
    permissions: Array.from({ length: 20 }, (_, i) => `perm:${i}`),
  };

  it('warns about a token over budget, naming the heaviest claims and counting it, without any value', async () => {
    const { lines, metrics, watch } = setup(2048);
    watch.checkPayload('access_token', payload, 'gateway');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as {
      msg: string;
      heaviestClaims: Array<{ claim: string }>;
      bytes: number;
    };
    expect(entry.heaviestClaims.map((c) => c.claim)).toEqual(['groups', 'permissions', 'sub']);
    expect(entry.msg).toMatch(/heaviest claims: groups [\d,]+ B, permissions/);
    expect(lines[0]).not.toContain('team-1-readers');
    expect(entry.bytes).toBeGreaterThan(2048);
    expect(await metrics.registry.getSingleMetricAsString('cloakroom_oversized_tokens_total')).toContain(
      'type="access_token"} 1',
    );
  });

  it('measures signed tokens exactly and stays quiet within budget', () => {
    const { lines, watch } = setup(20_000);
    const jwt = `${b64({ alg: 'RS256' })}.${b64(payload)}.${'s'.repeat(342)}`;
    watch.checkToken('id_token', jwt, 'gateway');
    watch.checkPayload('access_token', { sub: 'alice' }, 'gateway');
    expect(lines).toEqual([]);
    const tight = setup(jwt.length - 1);
    tight.watch.checkToken('id_token', jwt, 'gateway');
    expect((JSON.parse(tight.lines[0]) as { bytes: number }).bytes).toBe(jwt.length);
  });
});
