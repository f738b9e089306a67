import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  startTestAuthorizationServer,
  JWT_RESOURCE,
  RP,
} from '../../../test/support/authorization-server.js';
import type { TestAuthorizationServer } from '../../../test/support/authorization-server.js';
import { main } from './cli.js';

describe('cloakroom budget --user (against the real authorization server)', () => {
  let server: TestAuthorizationServer;
  beforeAll(async () => {
    server = await startTestAuthorizationServer();
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
