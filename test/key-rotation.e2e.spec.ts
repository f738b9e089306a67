import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import { loadJwks } from '../apps/authorization-server/src/keys/jwks.js';
import { startDemoApi } from '../apps/demo-api/src/bootstrap.js';
import type { RunningDemoApi } from '../apps/demo-api/src/bootstrap.js';
import { issueAccessToken } from './support/access-token.js';
import { JWT_RESOURCE, RS, startTestAuthorizationServer } from './support/authorization-server.js';
import type { TestAuthorizationServer } from './support/authorization-server.js';
import { runCli } from './support/cli.runner.js';

/**
 * The demo API's real JWKS cache and refetch limit (jose's cooldown), shortened from its default of 30 seconds so
 * that the test takes seconds; the activation delay below is chosen against it, as the default of `keys rotate`
 * (10 minutes) is against the default.
 */
const REFETCH_SECONDS = 3;
const ACTIVATION_DELAY_SECONDS = 8;

const dir = mkdtempSync(join(tmpdir(), 'cloakroom-rotation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Call {
  api: string;
  kid: string;
  /** When the token was asked for, and when it came back. */
  askedAt: number;
  issuedAt: number;
  /** When the API answered, and how. */
  answeredAt: number;
  status: number;
  challenge: string | null;
}

/**
 * Traffic as in production: each worker gets a fresh client-credentials access token (a JWT for the demo API's
 * audience), then calls an API with it, over and over, until stopped.
 */
class Traffic {
  readonly calls: Call[] = [];
  private running = true;
  private readonly workers: Promise<void>[] = [];

  constructor(
    private readonly issuer: string,
    private readonly apis: () => RunningDemoApi[],
    workers = 2,
  ) {
    for (let i = 0; i < workers; i++) this.workers.push(this.work(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  failures(): Call[] {
    return this.calls.filter((call) => call.status !== 200);
  }

  private async work(worker: number): Promise<void> {
    for (let turn = worker; this.running; turn++) {
      const askedAt = Date.now();
      const token = await clientCredentialsToken(this.issuer);
      const issuedAt = Date.now();
      const apis = this.apis();
      const api = apis[turn % apis.length]!;
      const response = await fetch(`${api.url}/api/whoami`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await response.arrayBuffer();
      this.calls.push({
        api: api.url,
        kid: String(decodeProtectedHeader(token).kid),
        askedAt,
        issuedAt,
        answeredAt: Date.now(),
        status: response.status,
        challenge: response.headers.get('www-authenticate'),
      });
      // Steady traffic, not a benchmark: the machine is shared.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

async function clientCredentialsToken(issuer: string): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${RS.client_id}:${RS.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      resource: JWT_RESOURCE,
      scope: 'orders:read',
    }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`the token endpoint answered ${response.status} ${body.error}`);
  return body.access_token;
}

/** Watches the published JWKS: when each kid first appeared, and with which key_ops. */
class JwksWatch {
  readonly firstSeen = new Map<string, { at: number; keyOps: unknown }>();
  private readonly timer: NodeJS.Timeout;
  private polling = Promise.resolve();

  constructor(issuer: string) {
    this.timer = setInterval(() => {
      this.polling = this.polling.then(async () => {
        const response = await fetch(`${issuer}/jwks`);
        const { keys } = (await response.json()) as { keys: Array<{ kid: string; key_ops?: unknown }> };
        for (const key of keys) {
          if (!this.firstSeen.has(key.kid))
            this.firstSeen.set(key.kid, { at: Date.now(), keyOps: key.key_ops });
        }
      });
    }, 100);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }
}

const sleepUntil = (moment: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, moment - Date.now())));

describe('signing key rotation while APIs verify tokens through the JWKS', () => {
  const running: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const part of running.reverse().splice(0)) await ('stop' in part ? part.stop() : part.close());
  });

  async function startStack(name: string) {
    const jwksFile = join(dir, `${name}.json`);
    expect((await runCli(['keys', 'generate', '--file', jwksFile])).code).toBe(0);
    const [oldKey] = loadJwks(jwksFile).keys;
    const server: TestAuthorizationServer = await startTestAuthorizationServer({
      env: { JWKS_FILE: jwksFile },
    });
    running.push(server);
    const startApi = async () => {
      const api = await startDemoApi({
        PORT: '0',
        LOG_LEVEL: 'silent',
        ISSUER_URL: server.issuer,
        RESOURCE_AUDIENCE: JWT_RESOURCE,
        TOKEN_VALIDATION: 'jwt',
        JWKS_MIN_REFETCH_SECONDS: String(REFETCH_SECONDS),
      });
      running.push(api);
      return api;
    };
    return { jwksFile, oldKid: oldKey!.kid, server, startApi };
  }

  it('publishes a rotated key before it signs, switches at its activation time without a restart, and no request fails', async () => {
    const { jwksFile, oldKid, server, startApi } = await startStack('delayed');
    const apis = [await startApi()];
    // A user's token with its 272 groups moved to distributed claims, signed by the old key, used after the switch.
    const heavyToken = await issueAccessToken(server.issuer, {
      username: 'power-user',
      password: 'many-groups',
      resource: JWT_RESOURCE,
      scope: 'openid groups orders:read',
    });
    expect(decodeProtectedHeader(heavyToken).kid).toBe(oldKid);

    const jwks = new JwksWatch(server.issuer);
    running.push(jwks);
    const traffic = new Traffic(server.issuer, () => apis);
    running.push(traffic);
    // The API has fetched the JWKS (its first call): rotate.
    await sleepUntil(Date.now() + 300);
    expect(traffic.calls.length).toBeGreaterThan(0);
    const rotatedAt = Date.now();
    const rotated = await runCli([
      'keys',
      'rotate',
      '--file',
      jwksFile,
      '--activate-in',
      `${ACTIVATION_DELAY_SECONDS}s`,
    ]);
    expect(rotated.code).toBe(0);
    const [newKey] = loadJwks(jwksFile).keys;
    const activation = Date.parse(String(newKey!.activatesAt));
    expect(activation).toBeGreaterThanOrEqual(rotatedAt + ACTIVATION_DELAY_SECONDS * 1000);

    // An API that fetches the JWKS shortly before the switch, within its refetch limit at the switch: it has the
    // new key because the key was published long before it signs.
    await sleepUntil(activation - 1500);
    apis.push(await startApi());
    await sleepUntil(activation + 3000);
    const late = await fetch(`${apis[0]!.url}/api/whoami`, {
      headers: { authorization: `Bearer ${heavyToken}` },
    });
    await sleepUntil(activation + 4000);
    await traffic.stop();
    await jwks.stop();

    expect(traffic.failures()).toEqual([]);
    expect(late.status).toBe(200);
    expect(await late.json()).toMatchObject({ sub: 'power-user', via: 'jwt', groupsCount: 272 });

    // Published within the file watch's second, before its activation by more than the API's refetch limit,
    // marked as not signing yet.
    const published = jwks.firstSeen.get(newKey!.kid);
    expect(published).toEqual({ at: expect.any(Number), keyOps: ['verify'] });
    expect(published!.at - rotatedAt).toBeLessThan(2500);
    expect(activation - published!.at).toBeGreaterThan(REFETCH_SECONDS * 1000);

    // Signed by the old key until the activation time, by the new one from then on, without a restart.
    const before = traffic.calls.filter((call) => call.issuedAt < activation);
    const after = traffic.calls.filter((call) => call.askedAt >= activation);
    expect(before.length).toBeGreaterThan(10);
    expect(after.length).toBeGreaterThan(10);
    expect(new Set(before.map((call) => call.kid))).toEqual(new Set([oldKid]));
    expect(new Set(after.map((call) => call.kid))).toEqual(new Set([newKey!.kid]));
    // The API started just before the switch verified new-key tokens too.
    expect(after.filter((call) => call.api === apis[1]!.url).length).toBeGreaterThan(0);
  }, 40_000);

  it('with --activate-in 0 (a key that signs at once), an API that fetched the JWKS just before refuses tokens until its refetch limit has passed', async () => {
    const { jwksFile, oldKid, server, startApi } = await startStack('immediate');
    const api = await startApi();
    const traffic = new Traffic(server.issuer, () => [api]);
    running.push(traffic);
    // The API's first call fetches the JWKS: its refetch limit counts from there.
    await sleepUntil(Date.now() + 300);
    const fetchedAt = traffic.calls[0]!.askedAt;
    expect(traffic.calls[0]).toMatchObject({ kid: oldKid, status: 200 });
    expect((await runCli(['keys', 'rotate', '--file', jwksFile, '--activate-in', '0'])).code).toBe(0);
    const [newKey] = loadJwks(jwksFile).keys;
    await sleepUntil(fetchedAt + REFETCH_SECONDS * 1000 + 2500);
    await traffic.stop();

    const failures = traffic.failures();
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toMatchObject({ kid: newKey!.kid, status: 401 });
      expect(failure.challenge).toContain('the token is signed with an unknown key');
      // Refused only while the API may not fetch the JWKS again.
      expect(failure.answeredAt).toBeLessThan(fetchedAt + REFETCH_SECONDS * 1000 + 1000);
    }
    // Then it fetches the JWKS again, and the new key's tokens pass.
    const recovered = traffic.calls.filter((call) => call.askedAt > failures.at(-1)!.answeredAt);
    expect(recovered.length).toBeGreaterThan(0);
    expect(recovered.every((call) => call.status === 200 && call.kid === newKey!.kid)).toBe(true);
  }, 40_000);
});
