import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  startTestAuthorizationServer,
  JWT_RESOURCE,
  RP,
} from '../../../test/support/authorization-server.js';
import type { TestAuthorizationServer } from '../../../test/support/authorization-server.js';
import { issueAccessToken } from '../../../test/support/access-token.js';
import { runCli } from '../../../test/support/cli.runner.js';

/** A resource with the default byte budget: heavy claims leave its tokens. */
const SHAPED_RESOURCE = 'http://api.test/shaped';

describe('cloakroom budget on access tokens the real authorization server issued, pasted', () => {
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

  /** Signs in as the user, then weighs the token as someone pasting it would (stdin, as an Authorization line). */
  const weigh = async (username: string, password: string, resource: string, ...options: string[]) => {
    const token = await issueAccessToken(server.issuer, { username, password, resource });
    const { code, stdout, stderr } = await runCli(
      ['budget', '-', ...options],
      `Authorization: Bearer ${token}\n`,
    );
    expect(stderr).toBe('');
    expect(stdout).not.toContain(token);
    return { code, stdout };
  };

  it("weighs power-user's access token and names groups as the heaviest claim", async () => {
    const { code, stdout } = await weigh('power-user', 'many-groups', JWT_RESOURCE, '--json');
    expect(code).toBe(1); // over the browser cookie and nginx limits
    const analysis = JSON.parse(stdout) as { totalBytes: number; claims: Array<{ name: string }> };
    expect(analysis.totalBytes).toBeGreaterThan(8192);
    expect(analysis.totalBytes).toBeLessThan(12288);
    expect(analysis.claims[0].name).toBe('groups');
  });

  it("finds power-user's token within every limit where the resource's budget moved the groups out", async () => {
    const { code, stdout } = await weigh('power-user', 'many-groups', SHAPED_RESOURCE, '--json');
    expect(code).toBe(0);
    const analysis = JSON.parse(stdout) as { totalBytes: number; claims: Array<{ name: string }> };
    expect(analysis.totalBytes).toBeLessThanOrEqual(4096);
    expect(analysis.claims.map((c) => c.name)).toContain('_claim_sources');
  });

  it("finds alice's token within every limit", async () => {
    const { code, stdout } = await weigh('alice', 'wonderland', JWT_RESOURCE);
    expect(code).toBe(0);
    expect(stdout).toContain('groups');
  });
});
