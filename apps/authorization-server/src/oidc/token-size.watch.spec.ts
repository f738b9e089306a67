import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { AuthorizationServerMetrics } from '../authorization-server.metrics.js';
import { shapeAccessToken } from '@cloakroom/token-budget';
import { TokenSizeWatch } from './token-size.watch.js';

const envelope = { header: { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, signatureBytes: 342 };

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

  it('counts an access token whose claims left it, per resource, naming the claims without any value', async () => {
    const { lines, metrics, watch } = setup(8192);
    const shaped = shapeAccessToken(payload, envelope, {
      budgetBytes: 4096,
      claimsEndpoint: 'https://as/claims',
    });
    watch.checkShaped(shaped, 'https://orders.example', 'gateway');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as { msg: string; distributedClaims: string[]; level: number };
    expect(entry.distributedClaims).toEqual(['groups']);
    expect(entry.msg).toMatch(/access token for https:\/\/orders.example would be [\d]+ bytes: groups moved/);
    expect(lines[0]).not.toContain('team-1-readers');
    expect(
      await metrics.registry.getSingleMetricAsString('cloakroom_authorization_server_oversized_tokens_total'),
    ).toContain('type="access_token",resource="https://orders.example"} 1');
  });

  it('stays quiet about an access token that fits its budget', async () => {
    const { lines, metrics, watch } = setup(8192);
    const shaped = shapeAccessToken({ sub: 'alice', groups: ['a'] }, envelope, {
      budgetBytes: 4096,
      claimsEndpoint: 'https://as/claims',
    });
    watch.checkShaped(shaped, 'https://orders.example', 'gateway');
    expect(lines).toEqual([]);
    expect(
      await metrics.registry.getSingleMetricAsString('cloakroom_authorization_server_oversized_tokens_total'),
    ).not.toContain('access_token');
  });

  it("warns about a token within its resource's budget but over TOKEN_SIZE_BUDGET_BYTES", async () => {
    const { lines, metrics, watch } = setup(2048);
    const shaped = shapeAccessToken(payload, envelope, {
      budgetBytes: 65536,
      claimsEndpoint: 'https://as/claims',
    });
    watch.checkShaped(shaped, 'https://wide.example', 'gateway');
    expect(shaped.moved).toEqual([]);
    expect((JSON.parse(lines[0]) as { level: number; msg: string }).msg).toMatch(
      /over TOKEN_SIZE_BUDGET_BYTES/,
    );
    expect(
      await metrics.registry.getSingleMetricAsString('cloakroom_authorization_server_oversized_tokens_total'),
    ).toContain('resource="https://wide.example"} 1');
  });

  it('warns when even the kept claims are over budget', () => {
    const { lines, watch } = setup(8192);
    const heavy = { sub: 'x', scope: 's '.repeat(3000), groups: ['a'] };
    watch.checkShaped(
      shapeAccessToken(heavy, envelope, { budgetBytes: 1024, claimsEndpoint: 'https://as/claims' }),
      'https://orders.example',
      'gateway',
    );
    expect((JSON.parse(lines[0]) as { level: number; msg: string }).level).toBe(40);
  });

  it('weighs every signed id token the provider issues, and leaves an encrypted one alone', async () => {
    const { lines, watch } = setup(1024);
    let issued = '';
    class IdToken {
      client = { clientId: 'gateway' };
      async issue(): Promise<string> {
        return issued;
      }
    }
    watch.watchIdTokens({ IdToken } as never);
    issued = `${b64({ alg: 'RS256' })}.${b64(payload)}.${'s'.repeat(342)}`;
    await expect(new IdToken().issue()).resolves.toBe(issued);
    expect(JSON.parse(lines[0])).toMatchObject({
      type: 'id_token',
      clientId: 'gateway',
      bytes: issued.length,
    });
    issued = `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.${'k'.repeat(342)}.aXY.${'c'.repeat(4000)}.dGFn`;
    await expect(new IdToken().issue()).resolves.toBe(issued);
    expect(lines).toHaveLength(1);
  });

  it('measures signed tokens exactly and stays quiet within budget', () => {
    const { lines, watch } = setup(20_000);
    const jwt = `${b64({ alg: 'RS256' })}.${b64(payload)}.${'s'.repeat(342)}`;
    watch.checkToken('id_token', jwt, 'gateway');
    expect(lines).toEqual([]);
    const tight = setup(jwt.length - 1);
    tight.watch.checkToken('id_token', jwt, 'gateway');
    expect((JSON.parse(tight.lines[0]) as { bytes: number }).bytes).toBe(jwt.length);
  });
});
