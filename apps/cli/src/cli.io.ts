/** What the command line reads and writes, so that tests can run commands in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of standard input. */
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
  };
}

/** A wrong command line or unreadable input: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A command that cannot be carried out (no such user, key or file): exit code 1, or 3 for `budget`, whose 1
 * says that a limit is exceeded.
 */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
}
