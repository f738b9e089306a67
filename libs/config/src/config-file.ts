import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Transform, plainToInstance } from 'class-transformer';
import { ValidateBy, ValidateNested, validateSync } from 'class-validator';
import { parse } from 'yaml';
import { validationProblems } from './config.js';

/** A settings file (users, clients, resources, JWKS) does not load; every problem is listed. */
export class ConfigFileInvalid extends Error {
  override readonly name: string = 'ConfigFileInvalid';
  constructor(
    /** What the file holds, for the message: `users`, `clients`, `resources`, `JWKS`. */
    readonly kind: string,
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`invalid ${kind} file ${path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** What a settings file holds and how it is checked. */
export interface ConfigFile<T extends object> {
  /** Thrown with every problem; its kind names the file in the message. */
  invalid: new (path: string, problems: string[]) => ConfigFileInvalid;
  /** The whole file: keys it does not declare are problems at every depth, named (`groups_claim: unknown field`). */
  schema: new () => T;
  /**
   * `yaml` (the default): a `.yaml`, `.yml` or `.json` file, read as YAML, a superset of JSON. `json`: JSON only,
   * whatever the file is called.
   */
  format?: 'yaml' | 'json';
  /** Rewrites the parsed mapping before validation (secrets taken from the environment); problems go to `problems`. */
  prepare?: (raw: Record<string, unknown>, problems: string[]) => Record<string, unknown>;
  /**
   * Rules between fields that the schema does not express. They run even when a field is invalid, so that one
   * report lists everything: a rule must skip a value it cannot judge.
   */
  checks?: (value: T) => string[];
}

/**
 * Where the content comes from: a path (the file is read), the text of the file already read (a reload, an edit
 * about to be written), or content already parsed (from code); `path` names it in problems.
 */
export type ConfigFileSource = string | { path: string; text: string } | { path: string; parsed: unknown };

const YAML_NAMES = ['.yaml', '.yml', '.json'];

/** The problem line of a file that cannot be read (`cannot be read: ENOENT`). */
export function unreadable(error: unknown): string {
  return `cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`;
}

/**
 * Loads a settings file: reads it, parses it (YAML or JSON), validates it against the schema with unknown keys
 * refused by name, runs the rules between fields, and throws `file.invalid` (kind, path and every problem) when
 * anything is wrong. Every settings file of the authorization server loads through here.
 */
export function loadConfigFile<T extends object>(file: ConfigFile<T>, source: ConfigFileSource): T {
  const path = typeof source === 'string' ? source : source.path;
  const fail = (problems: string[]) => new file.invalid(path, problems);

  let raw: unknown;
  if (typeof source === 'object' && 'parsed' in source) {
    raw = source.parsed;
  } else {
    const format = file.format ?? 'yaml';
    if (format === 'yaml' && !YAML_NAMES.includes(extname(path).toLowerCase())) {
      throw fail(['file name must end in .yaml, .yml or .json']);
    }
    let text: string;
    if (typeof source === 'string') {
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw fail([unreadable(error)]);
      }
    } else {
      text = source.text;
    }
    try {
      raw = format === 'json' ? JSON.parse(text) : parse(text);
    } catch (error) {
      throw fail([`cannot be parsed: ${(error as Error).message.split('\n')[0]}`]);
    }
  }
  if (!isMapping(raw)) throw fail(['the file: must be a mapping']);

  const problems: string[] = [];
  const prepared = file.prepare ? file.prepare(raw, problems) : raw;
  const value = plainToInstance(file.schema, prepared, { exposeDefaultValues: true });
  const errors = validateSync(value, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  problems.push(...validationProblems(errors));
  if (file.checks) {
    try {
      problems.push(...file.checks(value));
    } catch (error) {
      // A rule tripped over a value already reported above; without such a report it is a bug.
      if (problems.length === 0) throw error;
    }
  }
  if (problems.length > 0) throw fail(problems);
  return value;
}

/** A YAML/JSON mapping: an object that is neither null nor a list. */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A mapping of names to entries of one schema (`users: { alice: {…}, bob: {…} }`): validated entry by entry like
 * the rest of the file, so that problems read `users.bob.emial: unknown field`. The property becomes a Map.
 */
export function MappingOf(
  entry: () => new () => object,
  messages: { notMapping: string; entryNotMapping: string },
): PropertyDecorator {
  const toMap = Transform(({ obj, key }) => {
    const plain = (obj as Record<string, unknown>)[key];
    // Anything else is refused below; undefined keeps the nested validation from walking into it.
    if (!isMapping(plain)) return undefined;
    return new Map(
      Object.entries(plain).map(([name, value]) => [
        name,
        isMapping(value) ? plainToInstance(entry(), value, { exposeDefaultValues: true }) : null,
      ]),
    );
  });
  const isMap = ValidateBy({
    name: 'isMapping',
    validator: { validate: (value) => value instanceof Map, defaultMessage: () => messages.notMapping },
  });
  const nested = ValidateNested({ each: true, message: messages.entryNotMapping });
  return (target, property) => {
    toMap(target, property as string);
    isMap(target, property);
    nested(target, property);
  };
}
