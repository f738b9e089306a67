import { budgetCommand } from './budget.command.js';
import { UsageError, processIo } from './cli.io.js';
import type { CliIo } from './cli.io.js';
import { keysCommand } from './keys.command.js';
import { USAGE } from './usage.js';
import { hashPasswordCommand, usersCommand } from './users.command.js';

export type { CliIo } from './cli.io.js';
export { USAGE } from './usage.js';

/** Runs one command line; resolves to the exit code (see the end of {@link USAGE}). */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'budget') return await budgetCommand(rest, io);
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
    // A command that failed (CommandFailed, a file that does not load) or anything else: one message, no stack.
    io.stderr(`error: ${(error as Error).message}\n`);
    // budget's 1 says that a limit is exceeded.
    return command === 'budget' ? 3 : 1;
  }
}
