import { parseArgs } from 'node:util';
import { UsageError } from './cli.io.js';

/** The options a command takes: name (without `--`) → whether it takes a value. */
export type OptionSpec = Record<string, 'string' | 'boolean'>;

export interface ParsedOptions {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Strict parsing, the same for every command: an unknown option, an option without its value or a flag given
 * one is a usage error, not a guess. `--name value` and `--name=value` both work; a value that starts with a
 * dash must be given inline (`--name=-x`), so that `--cookie --json` is not a Cookie header named `--json`.
 * A lone `-` is a positional (stdin).
 */
export function parseOptions(args: string[], spec: OptionSpec): ParsedOptions {
  const options = Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }]));
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const values: ParsedOptions['values'] = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
    } else if (token.kind === 'option') {
      const known = token.rawName.startsWith('--') && Object.hasOwn(spec, token.name);
      const type = known ? spec[token.name] : undefined;
      if (type === undefined) throw new UsageError(`unknown option ${token.rawName}`);
      if (type === 'boolean') {
        if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
        values[token.name] = true;
      } else {
        const value = token.value;
        if (value === undefined || (!token.inlineValue && value.length > 1 && value.startsWith('-'))) {
          throw new UsageError(`${token.rawName} needs a value`);
        }
        values[token.name] = value;
      }
    }
  }
  return { values, positionals };
}

/** The same, with exactly `count` arguments besides the options. */
export function parseExactly(args: string[], spec: OptionSpec, count: number): ParsedOptions {
  const parsed = parseOptions(args, spec);
  if (parsed.positionals.length !== count) {
    throw new UsageError(`expected ${count} argument(s), got ${parsed.positionals.length}`);
  }
  return parsed;
}
