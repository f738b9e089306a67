import { budgetCommand } from './budget.command.js';
import type { BudgetDependencies } from './budget.command.js';
import { CommandFailed, UsageError, processIo } from './cli.io.js';
import type { CliIo } from './cli.io.js';
import { issueTokenForUser } from './issue-token.js';
import { USAGE } from './usage.js';

export type { CliIo } from './cli.io.js';
export { USAGE } from './usage.js';

/** Runs one command line; resolves to the exit code. */
export async function main(
  argv: string[],
  io: CliIo = processIo(),
  deps: BudgetDependencies = { issueTokenForUser },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'budget') return await budgetCommand(rest, io, deps);
    if (command === 'help' || command === '--help' || command === '-h') {
      io.stdout(USAGE);
      return 0;
    }
    throw new UsageError(command ? `unknown command ${command}` : 'no command given');
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const message = error instanceof CommandFailed ? error.message : `${(error as Error).message}`;
    io.stderr(`error: ${message}\n`);
    return 3;
  }
}
