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

const timed = async (request: () => Promise<Response>) => {
  const started = performance.now();
  const response = await request();
  return { status: response.status, ms: performance.now() - started };
};

describe('client authentication throttling', () => {
  it('refuses an address with 429 after ten wrong secrets, on every endpoint, and not the client elsewhere', async () => {
    const attacker = address();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await authenticate(`wrong-secret-${i}`, attacker)).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);

    // A burst from the locked address: every request refused, none compared.
    const burst = await Promise.all(
      Array.from({ length: 200 }, (_, i) => authenticate(`burst-${i}`, attacker)),
    );
    expect(burst.every((answer) => answer.status === 429)).toBe(true);
    expect(Number(burst[0].headers.get('retry-after'))).toBeGreaterThan(800);
    expect(await burst[0].json()).toMatchObject({ error: 'invalid_client' });

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

  it('never counts nor slows down a client with the right secret, however many requests it makes at once', async () => {
    const own = address();
    const answers = await Promise.all(Array.from({ length: 50 }, () => authenticate(RS.client_secret, own)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
  });

  it('delays each wrong secret once a client id has many failures from anywhere, never the right one', async () => {
    // Twelve failures so far (ten answered, two refused before comparison do not count); 30 more from three
    // addresses reach the threshold of 40.
    for (let i = 0; i < 3; i++) {
      const from = address();
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, j) => authenticate(`wrong-secret-${j}`, from)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(401));
    }
    const wrong = await timed(() => authenticate('one-more-wrong-secret', address()));
    expect(wrong.status).toBe(401);
    expect(wrong.ms).toBeGreaterThanOrEqual(240);
    const worse = await timed(() => authenticate('and-another-one', address()));
    expect(worse.ms).toBeGreaterThanOrEqual(390);

    const right = await timed(() => authenticate(RS.client_secret, address()));
    expect(right.status).toBe(200);
    expect(right.ms).toBeLessThan(390);
  });
});
