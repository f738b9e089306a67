import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { ValidationError } from 'class-validator';

/** One documented setting: its environment variable, what it means, its default. */
export interface SettingDoc {
  name: string;
  description: string;
  default?: string;
}

const DOCS = Symbol('cloakroom:settings');

/**
 * Documents a setting next to its schema. The README's configuration tables are generated from these
 * (`npm run config:docs`), so each setting is described exactly once.
 */
export function Setting(description: string, defaultValue?: unknown): PropertyDecorator {
  return (target, property) => {
    // Each class keeps its own list: a subclass's settings must not leak into its base class's table.
    const docs: SettingDoc[] = Reflect.getOwnMetadata(DOCS, target) ?? [];
    docs.push({
      name: String(property),
      description,
      default: defaultValue === undefined ? undefined : String(defaultValue),
    });
    Reflect.defineMetadata(DOCS, docs, target);
  };
}

/**
 * The documented settings of a config class, in declaration order (base classes first): its own only, or up to (not
 * including) the base class `until`, or the whole chain.
 */
export function settingsOf(
  schema: abstract new () => object,
  options: { own?: boolean; until?: abstract new () => object } = {},
): SettingDoc[] {
  const chain: SettingDoc[][] = [];
  for (
    let proto = schema.prototype;
    proto && proto !== Object.prototype && proto !== options.until?.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    chain.unshift((Reflect.getOwnMetadata(DOCS, proto) as SettingDoc[] | undefined) ?? []);
    if (options.own) break;
  }
  return chain.flat();
}

/** The configuration does not validate; the message lists every bad variable with what it expects. */
export class ConfigInvalid extends Error {
  override readonly name = 'ConfigInvalid';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Reads a config class from environment variables (property names are the variable names), converting
 * types with class-transformer and validating with class-validator, once, at boot.
 */
export function loadConfig<T extends object>(
  schema: new () => T,
  env: Record<string, string | undefined> = process.env,
  extraChecks: (config: T) => string[] = () => [],
): T {
  const { config, problems } = checkConfig(schema, env);
  if (problems.length === 0) problems.push(...extraChecks(config));
  if (problems.length > 0) throw new ConfigInvalid(problems);
  return config;
}

/**
 * Same as {@link loadConfig}, returning the problems instead of throwing them, so that a caller can report
 * them together with other startup problems. The rules between fields run even when a setting is invalid,
 * so that one report lists everything (a rule that cannot judge an invalid value is skipped).
 */
export function checkConfig<T extends object>(
  schema: new () => T,
  env: Record<string, string | undefined> = process.env,
  extraChecks: (config: T) => string[] = () => [],
): { config: T; problems: string[] } {
  const defaults = new schema() as Record<string, unknown>;
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') plain[key] = coerce(value, defaults[key]);
  }
  const config = plainToInstance(schema, plain, {
    enableImplicitConversion: true,
    exposeDefaultValues: true,
  });
  const errors = validateSync(config, { whitelist: false, forbidUnknownValues: false });
  const problems = validationProblems(errors);
  try {
    problems.push(...extraChecks(config));
  } catch {
    // A rule between fields tripped over a value already reported above.
  }
  return { config, problems };
}

/**
 * Environment variables are strings: a setting whose default is a number or a boolean gets its value
 * converted here (a value that does not convert stays a string, and validation names it).
 */
function coerce(value: string, defaultValue: unknown): unknown {
  if (typeof defaultValue === 'number' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if (typeof defaultValue === 'boolean') {
    const lower = value.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
    if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  }
  return value;
}

/**
 * Every constraint a validation failed, as `path: what is expected` lines (`clients[0].redirect_uris: …`),
 * nested objects and arrays included; a property the schema does not know reads `path: unknown field`.
 */
export function validationProblems(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    // A list's items read `[0]`; a mapping's entries keep their names, digits or not (`users.42`).
    const indexed = /^\d+$/.test(error.property) && !(error.target instanceof Map);
    const key = indexed ? `[${error.property}]` : error.property;
    const path = !parent ? key : key.startsWith('[') ? `${parent}${key}` : `${parent}.${key}`;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith('property ') ? `${path}: unknown field` : `${path}: ${message}`,
    );
    return [...own, ...validationProblems(error.children ?? [], path)];
  });
}

/** True in production deployments, where dev secrets, dev keys and the memory store are refused. */
export function isProduction(env: Record<string, string | undefined> = process.env): boolean {
  return env.NODE_ENV === 'production';
}
