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
import { UsageError } from './cli.io.js';
import type { CliIo } from './cli.io.js';
import { parseOptions } from './cli.options.js';
import { USAGE } from './usage.js';

export const DEFAULT_ISSUER = 'http://localhost:3000';
const DEFAULT_CLIENT_ID = 'gateway';

const OPTIONS = {
  cookie: 'string',
  'cookie-name': 'string',
  json: 'boolean',
  issuer: 'string',
  'client-id': 'string',
  users: 'string',
  resources: 'string',
} as const;

interface BudgetArgs {
  token?: string;
  cookie?: string;
  json: boolean;
  cookieName?: string;
  issuer: string;
  clientId: string;
  users?: string;
  resources?: string;
}

function parseBudgetArgs(argv: string[]): BudgetArgs {
  const { values, positionals } = parseOptions(argv, OPTIONS);
  const text = (name: keyof typeof OPTIONS) => values[name] as string | undefined;
  if (positionals.length > 1) throw new UsageError('give one token (or - to read it from stdin)');
  const args: BudgetArgs = {
    token: positionals[0],
    cookie: text('cookie'),
    json: values.json === true,
    cookieName: text('cookie-name'),
    issuer: text('issuer') ?? DEFAULT_ISSUER,
    clientId: text('client-id') ?? DEFAULT_CLIENT_ID,
    users: text('users'),
    resources: text('resources'),
  };

  const modes = [
    args.token !== undefined,
    args.cookie !== undefined,
    args.users !== undefined || args.resources !== undefined,
  ].filter(Boolean).length;
  if (modes === 0)
    throw new UsageError('give a token, --cookie <header> or --users <file> --resources <file>');
  if (modes > 1) throw new UsageError('give only one of: a token, --cookie, --users');
  if ((args.users === undefined) !== (args.resources === undefined)) {
    throw new UsageError('--users and --resources go together');
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

/**
 * `budget …`: resolves to 0 when everything fits every limit, 1 when any is exceeded. It never signs in: a real
 * user's token is predicted from the server's files (`--users --resources`) or pasted.
 */
export async function budgetCommand(argv: string[], io: CliIo): Promise<number> {
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
  const token = stripBearer(await resolve(args.token!, io, 'token'));
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
function predictFiles(args: BudgetArgs, io: CliIo): number {
  // A file that does not load fails the command with every problem, as the server would refuse it.
  const users = loadUsers(args.users!);
  const resources = [...loadResources(args.resources!).values()];
  const context = { issuer: args.issuer, clientId: args.clientId };
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
