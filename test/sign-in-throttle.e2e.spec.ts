import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestBrowser, formAction, inputValue } from './support/browser.js';
import { authorizationRequest, startTestAuthorizationServer } from './support/authorization-server.js';
import type { TestAuthorizationServer } from './support/authorization-server.js';

let server: TestAuthorizationServer;
let n = 0;
const address = () => `203.0.113.${++n}`;

beforeAll(async () => {
  server = await startTestAuthorizationServer({ env: { TRUST_PROXY: 'true' } });
});
afterAll(() => server.stop());

/** Opens the sign-in page of a fresh authorization request and posts one password from `from`. */
async function signInFrom(password: string, from: string): Promise<Response> {
  const browser = new TestBrowser();
  const authorize = authorizationRequest(server.issuer, 'state-1');
  const { response, url } = await browser.follow(authorize);
  const html = await response.text();
  const action = new URL(formAction(html)!, url);
  return browser.fetch(action, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: action.origin,
      'x-forwarded-for': from,
    },
    body: new URLSearchParams({ csrf: inputValue(html, 'csrf')!, username: 'alice', password }).toString(),
  });
}

describe('sign-in throttling over HTTP (real Redis)', () => {
  it('locks the guessing address out; the right password from a fresh address still signs in', async () => {
    const attacker = address();
    for (let i = 0; i < 5; i++) expect((await signInFrom('wrong-guess', attacker)).status).toBe(401);
    const locked = await signInFrom('wonderland', attacker);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(await locked.text()).toContain('Too many attempts');

    const owner = await signInFrom('wonderland', address());
    expect(owner.status).toBeGreaterThanOrEqual(300);
    expect(owner.status).toBeLessThan(400);
  });
});
