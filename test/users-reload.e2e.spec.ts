import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { main } from '../apps/cli/src/cli.js';
import { TestBrowser, formAction, inputValue } from './support/browser.js';
import { authorizationRequest, startTestAuthorizationServer } from './support/authorization-server.js';
import type { TestAuthorizationServer } from './support/authorization-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cloakroom-reload-'));
const usersFile = join(dir, 'users.yaml');
let server: TestAuthorizationServer;

async function cli(...argv: string[]): Promise<void> {
  const [password, ...args] = argv;
  const code = await main(args, {
    stdout: () => undefined,
    stderr: () => undefined,
    readStdin: async () => password,
    env: {},
  });
  expect(code).toBe(0);
}

beforeAll(async () => {
  await cli('alice-first-password', 'users', 'set', 'alice', '--password-stdin', '--file', usersFile);
  // The checks below fail until the reload: they must not lock bob out in the meantime.
  server = await startTestAuthorizationServer({
    env: {
      USERS_FILE: usersFile,
      LOGIN_MAX_FAILURES_PER_USER_ADDRESS: '1000',
      LOGIN_USER_DELAY_AFTER_FAILURES: '1000',
    },
  });
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The status of one sign-in form post: a redirect onwards when the password is right, 401 when not. */
async function signIn(username: string, password: string): Promise<number> {
  const browser = new TestBrowser();
  const authorize = authorizationRequest(server.issuer);
  const { response, url } = await browser.follow(authorize);
  const html = await response.text();
  const posted = await browser.submit(new URL(formAction(html)!, url), {
    csrf: inputValue(html, 'csrf')!,
    username,
    password,
  });
  return posted.status;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('not within the time allowed');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('users file reload (the real server, real Redis)', () => {
  it('signs a user added with the CLI in without a restart', async () => {
    expect(await signIn('bob', 'bob-the-builder')).toBe(401);
    await cli('bob-the-builder', 'users', 'set', 'bob', '--password-stdin', '--file', usersFile);
    await eventually(async () => (await signIn('bob', 'bob-the-builder')) === 303);
    expect(await signIn('alice', 'alice-first-password')).toBe(303);
  });
});
