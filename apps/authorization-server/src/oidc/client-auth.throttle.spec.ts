import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RS, startTestAuthorizationServer } from '../../../../test/support/authorization-server.js';
import type { TestAuthorizationServer } from '../../../../test/support/authorization-server.js';

let server: TestAuthorizationServer;
let n = 0;
const address = () => `198.51.100.${++n}`;

beforeAll(async () => {
  server = await startTestAuthorizationServer({
    env: {
      TRUST_PROXY: 'true',
      CLIENT_AUTH_MAX_FAILURES_PER_ADDRESS: '10',
      CLIENT_AUTH_DELAY_AFTER_FAILURES: '40',
      CLIENT_AUTH_DELAY_MAX_MS: '400',
    },
  });
});
afterAll(() => server.stop());

function authenticate(
  secret: string,
  from: string,
  path = '/token',
  body = 'grant_type=client_credentials',
): Promise<Response> {
  return fetch(`${server.issuer}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': from,
      authorization: `Basic ${Buffer.from(`${RS.client_id}:${secret}`).toString('base64')}`,
    },
    body,
  });
}

describe('client authentication throttling', () => {
  it('refuses an address with 429 after ten wrong secrets, even 200 sent at once, and not the client elsewhere', async () => {
    const attacker = address();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => authenticate(`wrong-secret-${i}`, attacker)),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(190);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });

    // The right secret from that address is refused too (no more guesses from there), on every endpoint.
    expect((await authenticate(RS.client_secret, attacker)).status).toBe(429);
    expect((await authenticate(RS.client_secret, attacker, '/token/introspection', 'token=x')).status).toBe(
      429,
    );
    // The client itself, from its own address, is not locked out.
    const legitimate = await authenticate(RS.client_secret, address());
    expect(legitimate.status).toBe(200);
    expect(await legitimate.json()).toMatchObject({ token_type: 'Bearer' });
  });

  it('slows a client down, never refuses it, when wrong secrets come from many addresses', async () => {
    // The first test's ten failures were forgiven by its success; 40 more from four addresses.
    for (let i = 0; i < 4; i++) {
      const from = address();
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, j) => authenticate(`wrong-secret-${j}`, from)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(401));
    }
    const started = performance.now();
    expect((await authenticate('one-more-wrong-secret', address())).status).toBe(401);
    const slowed = performance.now() - started;
    expect(slowed).toBeGreaterThanOrEqual(240);

    const again = performance.now();
    expect((await authenticate(RS.client_secret, address())).status).toBe(200);
    expect(performance.now() - again).toBeGreaterThanOrEqual(390);
    // A success forgives: the next one does not wait.
    const after = performance.now();
    expect((await authenticate(RS.client_secret, address())).status).toBe(200);
    expect(performance.now() - after).toBeLessThan(350);
  });
});
