import { main } from '../../apps/cli/src/cli.js';
import type { CliIo } from '../../apps/cli/src/cli.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command line in-process with the given stdin and environment, capturing what it prints. */
export async function runCli(argv: string[], stdin = '', env: Record<string, string> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: async () => stdin,
    env,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
