import { UsersFileInvalid } from '../accounts/accounts.errors.js';
import { CommandFailed, UsageError, processIo } from './cli.io.js';
import type { CliIo } from './cli.io.js';
import { keysCommand } from './keys.command.js';
import { hashPasswordCommand, usersCommand } from './users.command.js';

export type { CliIo } from './cli.io.js';

export const USAGE = `Usage: cloakroom-as <command>

  users set <username> [--password-stdin | --password <pw>] [--name <n>] [--given-name <n>]
            [--family-name <n>] [--preferred-username <n>] [--email <e>] [--email-verified true|false]
            [--locale <l>] [--sub <id>] [--groups a,b,c] [--disabled | --enabled] [--file <users.yaml>]
      Adds or updates a user (argon2id hash); other users, comments and layout are kept.
      A new user needs a password. An empty value (--email '') removes a claim.
  users remove <username> [--file <users.yaml>]
  users list [--file <users.yaml>]
  hash-password [--password-stdin | --password <pw>]
      Prints the argon2id PHC string of the password (read from stdin by default).
  keys generate [--file <jwks.json>] [--alg RS256] [--force]
      Writes a private JWKS with one signing key (mode 0600).
  keys rotate [--file <jwks.json>] [--alg <alg>]
      Puts a new key first (it signs from now on); older keys stay published.
  keys remove <kid> [--file <jwks.json>]
  keys list [--file <jwks.json>]

The users file defaults to $USERS_FILE, then config/demo/users.yaml; the key file to $JWKS_FILE.
A running authorization server reloads its users file when it changes: no restart needed.
Algorithms: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA.
`;

/** Runs one command line; resolves to the exit code (0 done, 1 failed, 2 wrong usage). */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'users') await usersCommand(rest, io);
    else if (command === 'hash-password') await hashPasswordCommand(rest, io);
    else if (command === 'keys') await keysCommand(rest, io);
    else if (command === 'help' || command === '--help' || command === '-h') io.stdout(USAGE);
    else throw new UsageError(command ? `unknown command ${command}` : 'no command given');
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof CommandFailed || error instanceof UsersFileInvalid) {
      io.stderr(`error: ${error.message}\n`);
      return 1;
    }
    io.stderr(`error: ${(error as Error).message}\n`);
    return 1;
  }
}
