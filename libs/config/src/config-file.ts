import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parse } from 'yaml';
import { validationProblems } from './config.js';

/** A configuration file (users, clients, resource servers …) does not load; every problem is listed. */
export class ConfigFileInvalid extends Error {
  override readonly name: string = 'ConfigFileInvalid';
  constructor(
    /** What the file holds, for the message: `users`, `clients`, `resources`. */
    readonly kind: string,
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`invalid ${kind} file ${path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * Parses a configuration file's text: YAML (a superset of JSON) for `.yaml`, `.yml` and `.json`.
 * Problems come back as lines, so that the caller can report them with everything else that is wrong.
 */
export function parseConfigText(path: string, text: string): { raw?: unknown; problems: string[] } {
  if (!EXTENSIONS.includes(extname(path).toLowerCase())) {
    return { problems: ['file name must end in .yaml, .yml or .json'] };
  }
  try {
    return { raw: parse(text), problems: [] };
  } catch (error) {
    return { problems: [`cannot be parsed: ${(error as Error).message.split('\n')[0]}`] };
  }
}

/** Reads and parses a configuration file; a file that cannot be read is a problem, not an exception. */
export function readConfigFile(path: string): { raw?: unknown; problems: string[] } {
  if (!EXTENSIONS.includes(extname(path).toLowerCase())) {
    return { problems: ['file name must end in .yaml, .yml or .json'] };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { problems: [`cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`] };
  }
  return parseConfigText(path, text);
}

/**
 * Converts a parsed mapping into `schema` and validates it. Keys the schema does not declare are problems
 * (`groups_claim: unknown field`), at every depth, so that a misspelt setting never loads as its default.
 */
export function validateConfigObject<T extends object>(
  schema: new () => T,
  raw: unknown,
  at = '',
): { value: T; problems: string[] } {
  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    return { value: new schema(), problems: [`${at || 'the file'}: must be a mapping`] };
  }
  const value = plainToInstance(schema, raw, { exposeDefaultValues: true });
  const errors = validateSync(value, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  return { value, problems: validationProblems(errors, at) };
}

/**
 * Reads, parses and validates a configuration file against `schema`, then `extraChecks` (rules between
 * fields). Returns the value, or every problem at once.
 */
export function checkConfigFile<T extends object>(
  schema: new () => T,
  path: string,
  extraChecks: (value: T) => string[] = () => [],
): { value?: T; problems: string[] } {
  const { raw, problems } = readConfigFile(path);
  if (problems.length > 0) return { problems };
  const checked = validateConfigObject(schema, raw);
  if (checked.problems.length > 0) return { problems: checked.problems };
  const more = extraChecks(checked.value);
  return more.length > 0 ? { problems: more } : { value: checked.value, problems: [] };
}
