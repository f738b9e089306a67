import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, importJWK } from 'jose';
import { parse } from 'yaml';
import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { generateJwk } from '@cloakroom/authorization-server/directory-files';
import { AccountStore } from '../../authorization-server/src/accounts/account.store.js';
import { main } from './cli.js';

const USERS = fileURLToPath(new URL('../../../config/demo/users.yaml', import.meta.url));

const APPS = [
  'billing',
  'payments',
  'orders',
  'inventory',
  'catalog',
  'search',
  'checkout',
  'shipping',
  'invoicing',
  'reporting',
  'analytics',
  'crm',
  'hr-portal',
  'wiki',
  'ci',
  'artifacts',
  'monitoring',
  'logging',
  'tracing',
  'feature-flags',
  'notifications',
  'pricing',
  'support-desk',
  'data-lake',
  'ledger',
  'loyalty',
  'returns',
  'warehouse',
  'fraud',
  'identity',
];
const TEAMS = [
  'payments',
  'platform',
  'sre',
  'security',
  'data',
  'frontend',
  'mobile',
  'growth',
  'search',
  'checkout',
  'identity',
  'infra',
  'billing',
  'logistics',
  'ml',
  'qa',
];
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-northeast-1'];
const CLUSTERS = ['prod-eu', 'prod-us', 'staging', 'dev'];
const NAMESPACES = [
  'orders',
  'payments',
  'search',
  'catalog',
  'identity',
  'observability',
  'ingress',
  'billing',
  'messaging',
  'batch',
];
const OFFICES = ['berlin', 'london', 'new-york', 'singapore', 'tokyo'];
const DEPARTMENTS = ['engineering', 'sales', 'support', 'finance'];
const PROJECTS = [
  'apollo',
  'borealis',
  'cascade',
  'delta',
  'ember',
  'fjord',
  'granite',
  'harbor',
  'iris',
  'juniper',
  'kestrel',
  'lumen',
  'meridian',
  'nimbus',
  'orion',
  'prism',
  'quartz',
  'rainier',
  'sequoia',
  'tundra',
];

/** power-user's groups: what a directory hands out to someone who has been around a large company. */
function demoGroups(): string[] {
  const groups: string[] = [];
  for (const app of APPS)
    for (const role of ['readers', 'writers', 'approvers', 'admins']) groups.push(`app-${app}-${role}`);
  for (const team of TEAMS)
    for (const role of ['members', 'oncall', 'leads']) groups.push(`team-${team}-${role}`);
  for (const region of REGIONS)
    for (const role of ['admins', 'operators', 'readers']) groups.push(`region-${region}-${role}`);
  for (const cluster of CLUSTERS) for (const ns of NAMESPACES) groups.push(`k8s-${cluster}-${ns}-editors`);
  for (const office of OFFICES)
    for (const department of DEPARTMENTS) groups.push(`dl-${office}-${department}`);
  for (const region of REGIONS) groups.push(`vpn-${region}-users`);
  for (const project of PROJECTS) groups.push(`proj-${project}-contributors`);
  return groups;
}

const ALICE_GROUPS = ['app-orders-readers', 'app-orders-writers', 'team-checkout-members'];

/** group-collector's 5,000 groups: two of the orders application's, then project groups. */
function collectorGroups(): string[] {
  const apps = APPS.slice(0, 10);
  const groups: string[] = [];
  for (let project = 0; groups.length < 5000; project++) {
    for (const app of apps) {
      if (groups.length < 5000) groups.push(`proj-${String(project).padStart(3, '0')}-${app}-contributors`);
    }
  }
  groups[0] = 'app-orders-readers';
  groups[1] = 'app-orders-writers';
  return groups;
}

async function cli(argv: string[], stdin = ''): Promise<void> {
  let stderr = '';
  const io = {
    stdout: () => undefined,
    stderr: (t: string) => void (stderr += t),
    readStdin: async () => stdin,
    env: {},
  };
  if ((await main(argv, io)) !== 0) throw new Error(stderr);
}

describe('config/demo/users.yaml', () => {
  const store = new MemorySealedStore(new Envelope());
  let accounts: AccountStore;

  beforeAll(async () => {
    if (process.env.WRITE_DEMO_USERS === '1') {
      const file = ['--file', USERS];
      await cli(
        [
          'users',
          'set',
          'alice',
          '--password-stdin',
          '--name',
          'Alice Liddell',
          '--given-name',
          'Alice',
          '--family-name',
          'Liddell',
          '--email',
          'alice@example.com',
          '--email-verified',
          'true',
          '--groups',
          ALICE_GROUPS.join(','),
          ...file,
        ],
        'wonderland',
      );
      await cli(
        [
          'users',
          'set',
          'power-user',
          '--password-stdin',
          '--name',
          'Power User',
          '--email',
          'power-user@example.com',
          '--email-verified',
          'true',
          '--groups',
          demoGroups().join(','),
          ...file,
        ],
        'many-groups',
      );
      await cli(
        [
          'users',
          'set',
          'group-collector',
          '--password-stdin',
          '--name',
          'Group Collector',
          '--email',
          'group-collector@example.com',
          '--email-verified',
          'true',
          '--groups',
          collectorGroups().join(','),
          ...file,
        ],
        'thousands-of-groups',
      );
    }
    accounts = await AccountStore.load(USERS, { store });
  });
  afterAll(() => store.close());

  it('holds alice, power-user and group-collector, hashed with the argon2id defaults', async () => {
    const raw = parse(readFileSync(USERS, 'utf8')).users;
    expect(Object.keys(raw)).toEqual(['alice', 'power-user', 'group-collector']);
    for (const user of Object.values(raw) as Array<{ passwordHash: string }>) {
      expect(user.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    }
    await expect(accounts.authenticate('alice', 'wonderland', '192.0.2.10')).resolves.toBe('alice');
    await expect(accounts.authenticate('power-user', 'many-groups', '192.0.2.10')).resolves.toBe(
      'power-user',
    );
    await expect(accounts.authenticate('group-collector', 'thousands-of-groups', '192.0.2.10')).resolves.toBe(
      'group-collector',
    );
  });

  it("gives group-collector 5,000 groups, two of them the orders application's", () => {
    const claims = accounts.findAccount('group-collector')!.claims(['openid', 'groups']);
    expect(claims.groups).toEqual(collectorGroups());
  });

  it('gives alice her profile, email and three groups', () => {
    expect(accounts.findAccount('alice')!.claims(['openid', 'profile', 'email', 'groups'])).toEqual({
      sub: 'alice',
      name: 'Alice Liddell',
      given_name: 'Alice',
      family_name: 'Liddell',
      preferred_username: 'alice',
      email: 'alice@example.com',
      email_verified: true,
      groups: ALICE_GROUPS,
    });
  });

  it('gives power-user the generated groups', () => {
    const groups = accounts.findAccount('power-user')!.claims(['groups']).groups as string[];
    expect(groups).toEqual(demoGroups());
    expect(groups.length).toBeGreaterThan(250);
  });

  it("makes power-user's RS256 JWT access token between 8 and 12 KB", async () => {
    const jwk = await generateJwk('RS256');
    const now = Math.floor(Date.now() / 1000);
    const { groups } = accounts.findAccount('power-user')!.claims(['groups']);
    // The claims oidc-provider puts into a JWT access token for a resource, plus the groups.
    const token = await new SignJWT({
      client_id: 'gateway',
      scope: 'openid profile email groups offline_access orders:read orders:write',
      groups,
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: jwk.kid })
      .setIssuer('http://localhost:3000')
      .setSubject('power-user')
      .setAudience('http://localhost:4000')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .setJti('a'.repeat(43))
      .sign(await importJWK(jwk, 'RS256'));
    const bytes = Buffer.byteLength(token);
    expect(bytes).toBeGreaterThan(8192);
    expect(bytes).toBeLessThan(12288);
    expect(Math.abs(bytes - 9.5 * 1024)).toBeLessThan(512);
  });
});
