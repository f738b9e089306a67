import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { USAGE } from './usage.js';
import { runCli as run } from '../../../test/support/cli.runner.js';

const key = new TextEncoder().encode('k'.repeat(32));
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('user-1').sign(key);

describe('cloakroom budget', () => {
  let small: string;
  let big: string;
  beforeAll(async () => {
    small = await sign({ roles: ['admin'] });
    big = await sign({ groups: Array.from({ length: 700 }, (_, i) => `team-${i}`), roles: ['admin'] });
  });

  it('reports a small token as fitting every limit: exit 0', async () => {
    const result = await run(['budget', small]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Token: ${small.length} B (HS256)`);
    expect(result.stdout).toContain('Fits every limit.');
    expect(result.stderr).toBe('');
  });

  it('names the heaviest claim and the exceeded limits of a big token: exit 1', async () => {
    const result = await run(['budget', big]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\n {2}groups\s+[\d,]+ B/);
    expect(result.stdout).toContain('OVER cookie token');
    expect(result.stdout).toContain('OVER header Authorization');
    expect(result.stdout).not.toContain(big);
    expect(result.stdout).not.toContain('team-1');
  });

  it('reads the token from stdin, accepting a pasted Authorization header', async () => {
    const result = await run(['budget', '-', '--json'], `Authorization: Bearer ${small}\n`);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { totalBytes: number; claims: { name: string }[] };
    expect(json.totalBytes).toBe(small.length);
    expect(json.claims.map((c) => c.name)).toEqual(['roles', 'sub']);
  });

  it('weighs a Cookie header, its JWT cookie and chunked cookies', async () => {
    const third = Math.ceil(big.length / 3);
    const chunks = [0, 1, 2].map((i) => `session.${i}=${big.slice(i * third, (i + 1) * third)}`);
    const header = `theme=dark; ${chunks[2]}; ${chunks[0]}; ${chunks[1]}`;
    const result = await run(['budget', '--cookie', header, '--json']);
    const json = JSON.parse(result.stdout) as {
      fits: boolean;
      chunked: {
        name: string;
        chunks: string[];
        valueBytes: number;
        token: { claims: { name: string }[] };
      }[];
      verdicts: { limitId: string; subject: string; fits: boolean }[];
    };
    expect(json.chunked[0]).toMatchObject({
      name: 'session',
      chunks: ['session.0', 'session.1', 'session.2'],
      valueBytes: big.length,
    });
    expect(json.chunked[0]!.token.claims[0]!.name).toBe('groups');
    // Each chunk fits a cookie; the whole header line does not fit nginx or Apache.
    const over = json.verdicts.filter((v) => !v.fits).map((v) => `${v.limitId} ${v.subject}`);
    expect(over).toEqual(['nginx-header-line header Cookie', 'apache-field header Cookie']);
    expect(json.fits).toBe(false);
    expect(result.code).toBe(1);

    const fitting = await run(['budget', '--cookie', '-'], `a=1; s=${small}`);
    expect(fitting.code).toBe(0);
    expect(fitting.stdout).toContain('JWT: roles');
  });

  it('uses the cookie name given with --cookie-name', async () => {
    const result = await run(['budget', small, '--cookie-name=__Host-cloakroom']);
    expect(result.stdout).toContain(`ok   cookie __Host-cloakroom: ${small.length + 16} B`);
  });

  it.each([
    [[], 'no command given'],
    [['weigh'], 'unknown command weigh'],
    [['budget'], 'give a token, --cookie <header> or --users <file> --resources <file>'],
    [['budget', 'a', 'b'], 'give one token'],
    [['budget', 'x', '--cookie', 'a=1'], 'give only one of'],
    [['budget', '--cookie'], '--cookie needs a value'],
    [['budget', '--cookie', '--json'], '--cookie needs a value'],
    [['budget', '--json=yes', 'x'], '--json takes no value'],
    [['budget', '--frobnicate'], 'unknown option --frobnicate'],
    // Signing in to weigh a token is gone: a token is predicted from the files, or pasted.
    [['budget', '--user', 'ada', '--password', 'pw'], 'unknown option --user'],
    [['budget', '--users', 'u.yaml', '--resources', 'r.yaml', '--issuer', 'nope'], '--issuer must be a URL'],
    [['budget', 'not-a-jwt'], 'not a JWT: a JWT has 3 dot-separated parts, this value has 1'],
    [['budget', 'a.b.c.d.e'], 'not a JWT: this is an encrypted JWT'],
    [['budget', '--cookie', ' ; '], 'the Cookie header holds no cookie'],
  ])('refuses %j with a clear message: exit 2', async (argv, message) => {
    const result = await run(argv as string[]);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(`error: ${message}`)).toBe(true);
    expect(result.stderr.endsWith(`\n\n${USAGE}`)).toBe(true);
  });

  it('refuses an empty stdin: exit 2', async () => {
    const result = await run(['budget', '-'], '  \n');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: the token is empty');
  });

  it('prints the usage on help: exit 0', async () => {
    for (const argv of [['help'], ['--help'], ['budget', '--help'], ['budget', '-h']]) {
      const result = await run(argv);
      expect(result).toEqual({ code: 0, stdout: USAGE, stderr: '' });
      expect(result.stdout).toContain('budget: 0 everything fits every limit, 1 a limit is exceeded');
    }
  });
});

describe('cloakroom budget --users --resources', () => {
  const users = fileURLToPath(new URL('../../../config/demo/users.yaml', import.meta.url));
  const resources = fileURLToPath(new URL('../../../config/demo/resources.yaml', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'cloakroom-budget-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("predicts every demo user's token for every demo API: under 4 KiB, groups moved where they would not fit", async () => {
    const { code, stdout } = await run(['budget', '--users', users, '--resources', resources]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /group-collector → http:\/\/localhost:4001: \d{3,4} B, 5,000 groups seen; groups moved/,
    );
    expect(stdout).toMatch(/would be [\d,]+ B, over nginx/);
    expect(stdout).toMatch(/alice → http:\/\/localhost:4000: \d+ B, 2 groups seen\n/);
    expect(stdout).toContain('Every token fits its budget and every header limit.');
  });

  it('names the limits a resource with an unbounded budget would break, and exits 1', async () => {
    const file = join(dir, 'resources.yaml');
    writeFileSync(
      file,
      'resources:\n  - indicator: http://wide.test\n    groupsClaim: true\n    tokenBudgetBytes: 65536\n',
    );
    const { code, stdout } = await run(['budget', '--users', users, '--resources', file, '--json']);
    expect(code).toBe(1);
    const predictions = JSON.parse(stdout) as Array<{
      username: string;
      moved: string[];
      verdicts: Array<{ limitId: string; fits: boolean }>;
    }>;
    // power-user's 9.5 KB fit a 64 KiB budget: nothing is moved, and nginx and Apache would refuse the line.
    const powerUser = predictions.find((p) => p.username === 'power-user')!;
    expect(powerUser.moved).toEqual([]);
    expect(powerUser.verdicts.filter((v) => !v.fits).map((v) => v.limitId)).toEqual([
      'nginx-header-line',
      'apache-field',
    ]);
  });

  it('needs both files', async () => {
    const { code, stderr } = await run(['budget', '--users', users]);
    expect(code).toBe(2);
    expect(stderr).toContain('--users and --resources go together');
  });

  it('names a file that does not load with every problem, as the server would: exit 3', async () => {
    const file = join(dir, 'misspelt.yaml');
    writeFileSync(file, 'resources:\n  - indicator: http://api.test\n    groups_claim: true\n');
    const misspelt = await run(['budget', '--users', users, '--resources', file]);
    expect(misspelt).toEqual({
      code: 3,
      stdout: '',
      stderr: `error: invalid resources file ${file}:\n  - resources[0].groups_claim: unknown field\n`,
    });
    const missing = await run(['budget', '--users', join(dir, 'none.yaml'), '--resources', resources]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe(
      `error: invalid users file ${join(dir, 'none.yaml')}:\n  - cannot be read: ENOENT\n`,
    );
  });
});
