import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  startTestAuthorizationServer,
  JWT_RESOURCE,
  RP,
} from '../../../test/support/authorization-server.js';
import type { TestAuthorizationServer } from '../../../test/support/authorization-server.js';
import { main } from './cli.js';

/** A resource with the default byte budget: heavy claims leave its tokens. */
const SHAPED_RESOURCE = 'http://api.test/shaped';

describe('cloakroom budget --user (against the real authorization server)', () => {
  let server: TestAuthorizationServer;
  beforeAll(async () => {
    // JWT_RESOURCE with a budget too large to shape anything: the token as it was before byte budgets.
    server = await startTestAuthorizationServer({
      clients: [{ ...RP, resources: [JWT_RESOURCE, SHAPED_RESOURCE] }],
      resources: [
        { indicator: JWT_RESOURCE, scopes: ['orders:read'], groupsClaim: true, tokenBudgetBytes: 65536 },
        { indicator: SHAPED_RESOURCE, scopes: ['orders:read'], groupsClaim: true },
      ],
    });
  });
  afterAll(async () => server?.stop());

  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, {
      stdout: (text: string) => out.push(text),
      stderr: (text: string) => err.push(text),
      readStdin: async () => '',
      env: {},
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const asClient = () => [
    '--issuer',
    server.issuer,
    '--client-id',
    RP.client_id,
    '--client-secret',
    RP.client_secret,
    '--redirect-uri',
    RP.redirect_uris[0],
    '--resource',
    JWT_RESOURCE,
  ];

  it("weighs power-user's access token, issued through the sign-in form, and names groups as the heaviest claim", async () => {
    const { code, out } = await run(
      'budget',
      '--user',
      'power-user',
      '--password',
      'many-groups',
      ...asClient(),
      '--json',
    );
    expect(code).toBe(1); // over the browser cookie and nginx limits
    const analysis = JSON.parse(out) as { totalBytes: number; claims: Array<{ name: string }> };
    expect(analysis.totalBytes).toBeGreaterThan(8192);
    expect(analysis.totalBytes).toBeLessThan(12288);
    expect(analysis.claims[0].name).toBe('groups');
  });

  it("finds power-user's token within every limit where the resource's budget moved the groups out", async () => {
    const { code, out } = await run(
      'budget',
      '--user',
      'power-user',
      '--password',
      'many-groups',
      ...asClient().slice(0, -1),
      SHAPED_RESOURCE,
      '--json',
    );
    expect(code).toBe(0);
    const analysis = JSON.parse(out) as { totalBytes: number; claims: Array<{ name: string }> };
    expect(analysis.totalBytes).toBeLessThanOrEqual(4096);
    expect(analysis.claims.map((c) => c.name)).toContain('_claim_sources');
  });

  it("finds alice's token within every limit", async () => {
    const { code, out } = await run('budget', '--user', 'alice', '--password', 'wonderland', ...asClient());
    expect(code).toBe(0);
    expect(out).toContain('groups');
  });

  it('reports a wrong password without a token', async () => {
    const { code, err } = await run('budget', '--user', 'alice', '--password', 'nope', ...asClient());
    expect(code).toBe(3);
    expect(err).toContain('wrong username or password');
  });
});
