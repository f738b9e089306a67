import {
  analyzeCookieHeader,
  analyzeToken,
  formatCookieReport,
  formatJsonReport,
  formatTokenReport,
  formatPredictions,
  predictAccessToken,
  TokenMalformed,
} from '@cloakroom/token-budget';
import { loadResources, loadUsers } from '@cloakroom/authorization-server/directory-files';
import type { ResourceServerDefinition, UserEntry } from '@cloakroom/authorization-server/directory-files';
import { CommandFailed, UsageError } from './cli.io.js';
import type { CliIo } from './cli.io.js';
import type { IssueTokenOptions } from './issue-token.js';
import { USAGE } from './usage.js';

export const DEFAULT_ISSUER = 'http://localhost:3000';

export interface BudgetDependencies {
  issueTokenForUser(options: IssueTokenOptions): Promise<string>;
}

interface BudgetArgs {
  token?: string;
  cookie?: string;
  json: boolean;
  cookieName?: string;
  user?: string;
  password?: string;
  issuer: string;
  clientId?: string;
  clientSecret?: string;
  resource?: string;
  redirectUri?: string;
  users?: string;
  resources?: string;
}

const VALUE_OPTIONS: Record<string, keyof BudgetArgs> = {
  '--cookie': 'cookie',
  '--cookie-name': 'cookieName',
  '--user': 'user',
  '--password': 'password',
  '--issuer': 'issuer',
  '--client-id': 'clientId',
  '--client-secret': 'clientSecret',
  '--resource': 'resource',
  '--redirect-uri': 'redirectUri',
  '--users': 'users',
  '--resources': 'resources',
};

function parseBudgetArgs(argv: string[]): BudgetArgs {
  const args: BudgetArgs = { json: false, issuer: DEFAULT_ISSUER };
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    if (flag === '--json') args.json = true;
    else if (flag in VALUE_OPTIONS) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      (args as unknown as Record<string, unknown>)[VALUE_OPTIONS[flag]!] = value;
    } else if (flag.startsWith('-') && flag !== '-') throw new UsageError(`unknown option ${flag}`);
    else positionals.push(arg);
  }
  if (positionals.length > 1) throw new UsageError('give one token (or - to read it from stdin)');
  if (positionals.length === 1) args.token = positionals[0];

  const modes = [
    args.token !== undefined,
    args.cookie !== undefined,
    args.user !== undefined,
    args.users !== undefined || args.resources !== undefined,
  ].filter(Boolean).length;
  if (modes === 0)
    throw new UsageError(
      'give a token, --cookie <header>, --user <id> --password <pw> or --users <file> --resources <file>',
    );
  if (modes > 1) throw new UsageError('give only one of: a token, --cookie, --user, --users');
  if ((args.users === undefined) !== (args.resources === undefined)) {
    throw new UsageError('--users and --resources go together');
  }
  if (args.user !== undefined && args.password === undefined) throw new UsageError('--user needs --password');
  if (args.password !== undefined && args.user === undefined) throw new UsageError('--password needs --user');
  if ([args.token, args.cookie, args.password].filter((v) => v === '-').length > 1) {
    throw new UsageError('only one value can be read from stdin');
  }
  try {
    new URL(args.issuer);
  } catch {
    throw new UsageError(`--issuer must be a URL, got ${args.issuer}`);
  }
  return args;
}

async function resolve(value: string, io: CliIo, what: string): Promise<string> {
  const text = value === '-' ? await io.readStdin() : value;
  const trimmed = text.trim();
  if (!trimmed) throw new UsageError(`the ${what} is empty`);
  return trimmed;
}

/** People paste what they have: a bare JWT, "Bearer <jwt>" or the whole Authorization line. */
function stripBearer(value: string): string {
  return value.replace(/^authorization:\s*/i, '').replace(/^bearer\s+/i, '');
}

/** Runs `cloakroom budget …`; resolves to 0 when everything fits every limit, 1 when any is exceeded. */
export async function budgetCommand(argv: string[], io: CliIo, deps: BudgetDependencies): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  const args = parseBudgetArgs(argv);
  if (args.users !== undefined) return predictFiles(args, io);
  if (args.cookie !== undefined) {
    const analysis = analyzeCookieHeader(await resolve(args.cookie, io, 'Cookie header'));
    if (analysis.cookies.length === 0) throw new UsageError('the Cookie header holds no cookie');
    io.stdout(args.json ? formatJsonReport(analysis) : formatCookieReport(analysis));
    return analysis.fits ? 0 : 1;
  }
  const token =
    args.user !== undefined
      ? await deps.issueTokenForUser({
          issuer: args.issuer,
          clientId: args.clientId,
          clientSecret: args.clientSecret,
          resource: args.resource,
          redirectUri: args.redirectUri,
          user: args.user,
          password: await resolve(args.password!, io, 'password'),
        })
      : stripBearer(await resolve(args.token!, io, 'token'));
  try {
    const analysis = analyzeToken(token, args.cookieName ? { cookieName: args.cookieName } : {});
    io.stdout(args.json ? formatJsonReport(analysis) : formatTokenReport(analysis));
    return analysis.fits ? 0 : 1;
  } catch (error) {
    if (error instanceof TokenMalformed) throw new UsageError(`not a JWT: ${error.message}`);
    throw error;
  }
}

/** `--users <file> --resources <file>`: every user's token for every JWT resource, predicted without signing in. */
async function predictFiles(args: BudgetArgs, io: CliIo): Promise<number> {
  let users: UserEntry[];
  let resources: ResourceServerDefinition[];
  try {
    users = loadUsers(args.users!);
    resources = [...loadResources(args.resources!).values()];
  } catch (error) {
    throw new CommandFailed((error as Error).message);
  }
  const context = { issuer: args.issuer, clientId: args.clientId ?? 'gateway' };
  const predictions = resources
    .filter((resource) => resource.accessTokenFormat === 'jwt')
    .flatMap((resource) =>
      users.map((user) =>
        predictAccessToken(
          { username: user.username, sub: user.sub, groups: user.record.groups },
          resource,
          context,
        ),
      ),
    );
  io.stdout(args.json ? `${JSON.stringify(predictions, null, 2)}\n` : formatPredictions(predictions));
  return predictions.every((p) => p.fitsBudget && p.verdicts.every((v) => v.fits)) ? 0 : 1;
}
