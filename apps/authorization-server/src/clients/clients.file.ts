import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
  MinLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import type { ValidationOptions } from 'class-validator';
import { ConfigFileInvalid, isMapping, loadConfigFile } from '@cloakroom/config';
import type { ConfigFile, ConfigFileSource } from '@cloakroom/config';
import type { ClientMetadata } from 'oidc-provider';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
const SECRET_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

/** Rules of a client beyond oidc-provider's metadata. */
export interface ClientPolicy {
  /** Consent is implied: the login flow skips the consent page. */
  firstParty: boolean;
  /**
   * Resource indicators (RFC 8707) the client may ask tokens for. Introspecting another client's tokens is a
   * resource's `introspectionClients`, not this.
   */
  resources: string[];
  /** Scopes the client may ask for. */
  scopes: string[];
}

export interface LoadedClients {
  /** oidc-provider's `clients` configuration (snake_case metadata). */
  clients: ClientMetadata[];
  policies: Map<string, ClientPolicy>;
}

export interface LoadClientsOptions {
  /** Where `${NAME}` references in client_secret and backchannel_logout_uri are looked up. Default: process.env. */
  env?: Record<string, string | undefined>;
  /** In production a secret's `${NAME:-default}` reference must be set: the file's defaults are for development. */
  production?: boolean;
}

/** The clients file does not validate; lists every problem with its path and what is expected. */
export class ClientsFileInvalid extends ConfigFileInvalid {
  override readonly name = 'ClientsFileInvalid';
  constructor(path: string, problems: string[]) {
    super('clients', path, problems);
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An absolute https URL, or http on a loopback host (development), without fragment or credentials. */
export function isClientUrl(value: unknown): boolean {
  if (typeof value !== 'string' || value.includes('#')) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}

function IsClientUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isClientUrl',
      validator: {
        validate: isClientUrl,
        defaultMessage: (args) =>
          `${options?.each ? 'each value in ' : ''}${args?.property} must be an absolute https URL (http only for localhost, 127.0.0.1, [::1]) without fragment`,
      },
    },
    options,
  );
}

/**
 * Where the authorization server posts logout tokens: an absolute http(s) URL without fragment or credentials.
 * Server to server, so plain http may name a service in a private network (a container's service name); production
 * holds it to {@link isClientUrl} in {@link crossChecks}.
 */
function IsBackChannelUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBackChannelUrl',
      validator: {
        validate: (value) => {
          if (typeof value !== 'string' || value.includes('#')) return false;
          try {
            const url = new URL(value);
            return ['http:', 'https:'].includes(url.protocol) && !url.username && !url.password;
          } catch {
            return false;
          }
        },
        defaultMessage: (args) =>
          `${args?.property} must be an absolute http(s) URL without fragment or credentials`,
      },
    },
    options,
  );
}

/** An RFC 8707 resource indicator: an absolute http(s) URL without fragment. */
function IsResourceIndicator(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isResourceIndicator',
      validator: {
        validate: (value) => {
          if (typeof value !== 'string' || value.includes('#')) return false;
          try {
            return ['http:', 'https:'].includes(new URL(value).protocol);
          } catch {
            return false;
          }
        },
        defaultMessage: () => 'each resource must be an absolute http(s) URL without fragment (RFC 8707)',
      },
    },
    options,
  );
}

/** One client of the clients file, in oidc-provider's spelling plus Cloakroom's policy fields. */
export class ClientDefinition {
  @Matches(/^[A-Za-z0-9._~-]{1,128}$/, { message: 'client_id must be 1 to 128 of A-Z a-z 0-9 . _ ~ -' })
  client_id!: string;

  @IsOptional()
  @IsString()
  @Length(1, 256)
  client_name?: string;

  /** Absent: a public client (token_endpoint_auth_method none, PKCE required). */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'client_secret must be at least 16 characters' })
  client_secret?: string;

  @IsOptional()
  @IsIn([...SECRET_METHODS, 'none'])
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'none';

  @IsArray()
  @ArrayUnique()
  @IsClientUrl({ each: true })
  redirect_uris: string[] = [];

  @IsArray()
  @ArrayUnique()
  @IsClientUrl({ each: true })
  post_logout_redirect_uris: string[] = [];

  @IsOptional()
  @IsBackChannelUrl()
  backchannel_logout_uri?: string;

  /** The logout token names the session (`sid`), so the client can end just that one. */
  @IsBoolean()
  backchannel_logout_session_required = true;

  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(GRANT_TYPES, { each: true })
  grant_types!: GrantType[];

  @IsBoolean()
  first_party = false;

  @IsArray()
  @ArrayUnique()
  @IsResourceIndicator({ each: true })
  resources: string[] = [];

  @IsArray()
  @ArrayUnique()
  @Matches(/^[\x21\x23-\x5B\x5D-\x7E]+$/, {
    each: true,
    message: 'each scope must be a scope token (RFC 6749 §3.3)',
  })
  scopes: string[] = [];
}

class ClientsFile {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ClientDefinition)
  clients!: ClientDefinition[];
}

/** The clients file, its secrets taken from the environment where it says so. */
function clientsFile(options: LoadClientsOptions): ConfigFile<ClientsFile> {
  return {
    invalid: ClientsFileInvalid,
    schema: ClientsFile,
    prepare: (raw, problems) => substituteReferences(raw, options, problems),
    checks: (file) => {
      if (!Array.isArray(file.clients)) return [];
      const problems: string[] = [];
      const seen = new Set<string>();
      file.clients.forEach((client, index) => {
        if (!isMapping(client)) return;
        const at = `clients[${index}]`;
        if (seen.has(client.client_id)) problems.push(`${at}.client_id: ${client.client_id} is listed twice`);
        seen.add(client.client_id);
        problems.push(...crossChecks(client, options).map((problem) => `${at}.${problem}`));
      });
      return problems;
    },
  };
}

/**
 * Loads the clients file (YAML or JSON; a path, or its content already parsed): oidc-provider's metadata and
 * Cloakroom's policy of each client, or ClientsFileInvalid listing every problem.
 */
export function loadClients(source: ConfigFileSource, options: LoadClientsOptions = {}): LoadedClients {
  const file = loadConfigFile(clientsFile(options), source);
  const clients = file.clients.map(toMetadata);
  const policies = new Map(
    file.clients.map((c) => [
      c.client_id,
      { firstParty: c.first_party, resources: c.resources, scopes: c.scopes },
    ]),
  );
  return { clients, policies };
}

/** Same as {@link loadClients} with the file's content already parsed. */
export function clientsFrom(
  raw: unknown,
  options: LoadClientsOptions = {},
  source = 'clients',
): LoadedClients {
  return loadClients({ path: source, parsed: raw }, options);
}

/** Rules between fields, which class-validator does not express. */
function crossChecks(client: ClientDefinition, options: LoadClientsOptions): string[] {
  const problems: string[] = [];
  const backChannel = client.backchannel_logout_uri;
  if (options.production && typeof backChannel === 'string' && !isClientUrl(backChannel)) {
    problems.push(
      'backchannel_logout_uri: must be https in production (http only for localhost, 127.0.0.1, [::1])',
    );
  }
  const grants = new Set(Array.isArray(client.grant_types) ? client.grant_types : []);
  const method = client.token_endpoint_auth_method;
  if (client.client_secret === undefined) {
    if (method !== undefined && method !== 'none') {
      problems.push('client_secret: required with token_endpoint_auth_method ' + method);
    }
    if (grants.has('client_credentials')) {
      problems.push(
        'grant_types: client_credentials needs a client_secret (a public client cannot keep one)',
      );
    }
  } else if (method === 'none') {
    problems.push(
      'token_endpoint_auth_method: none is for public clients; remove client_secret or the method',
    );
  }
  const redirects = Array.isArray(client.redirect_uris) ? client.redirect_uris : [];
  if (grants.has('authorization_code') && redirects.length === 0) {
    problems.push('redirect_uris: at least one is required for authorization_code');
  }
  if (!grants.has('authorization_code') && redirects.length > 0) {
    problems.push('redirect_uris: only used with authorization_code; add the grant or remove them');
  }
  if (grants.has('refresh_token') && !grants.has('authorization_code')) {
    problems.push('grant_types: refresh_token needs authorization_code');
  }
  return problems;
}

function toMetadata(client: ClientDefinition): ClientMetadata {
  const interactive = client.grant_types.includes('authorization_code');
  const metadata: ClientMetadata = {
    client_id: client.client_id,
    grant_types: client.grant_types,
    response_types: interactive ? ['code'] : [],
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    token_endpoint_auth_method:
      client.client_secret === undefined
        ? 'none'
        : (client.token_endpoint_auth_method ?? 'client_secret_basic'),
  };
  if (client.client_secret !== undefined) metadata.client_secret = client.client_secret;
  if (client.client_name !== undefined) metadata.client_name = client.client_name;
  if (client.backchannel_logout_uri !== undefined) {
    metadata.backchannel_logout_uri = client.backchannel_logout_uri;
    metadata.backchannel_logout_session_required = client.backchannel_logout_session_required;
  }
  return metadata;
}

const REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

/**
 * Fields that may name an environment variable, `${NAME}` or `${NAME:-default}`. Secrets keep real values out of
 * the file, and their defaults are public, so production refuses them; the back-channel logout URI differs per
 * deployment (a service name inside a container network) and its default stands.
 */
const REFERABLE = [
  { field: 'client_secret', secret: true },
  { field: 'backchannel_logout_uri', secret: false },
] as const;

/** Replaces the references of {@link REFERABLE} fields with the environment's values. Problems name the variable, never a value. */
function substituteReferences(
  raw: Record<string, unknown>,
  options: LoadClientsOptions,
  problems: string[],
): Record<string, unknown> {
  if (!Array.isArray(raw.clients)) return raw;
  const env = options.env ?? process.env;
  const clients = raw.clients.map((client: unknown, index) => {
    if (client === null || typeof client !== 'object' || Array.isArray(client)) return client;
    let substituted = client as Record<string, unknown>;
    for (const { field, secret } of REFERABLE) {
      const value = substituted[field];
      if (typeof value !== 'string' || !value.includes('${')) continue;
      const at = `clients[${index}].${field}`;
      const resolved = resolveReference(value, { at, env, secret, production: options.production }, problems);
      substituted = { ...substituted, [field]: resolved ?? standIn(field) };
    }
    return substituted;
  });
  return { ...raw, clients };
}

function resolveReference(
  value: string,
  context: {
    at: string;
    env: Record<string, string | undefined>;
    secret: boolean;
    production?: boolean;
  },
  problems: string[],
): string | undefined {
  const { at, env, secret, production } = context;
  const match = REFERENCE.exec(value.trim());
  if (!match) {
    const [literal, fallback] = secret
      ? ['a literal secret', 'development default']
      : ['a literal value', 'default'];
    problems.push(`${at}: must be ${literal} or exactly \${NAME} / \${NAME:-${fallback}}`);
    return undefined;
  }
  const [, name, fallback] = match;
  const fromEnv = env[name];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (fallback === undefined) {
    problems.push(`${at}: environment variable ${name} is not set`);
  } else if (production && secret) {
    problems.push(`${at}: set ${name} (the file's default is for development only)`);
  } else {
    return fallback;
  }
  return undefined;
}

/**
 * Once a reference failed, a stand-in keeps the other checks quiet (a client stays confidential, its URI valid);
 * the problem already listed stops the load.
 */
function standIn(field: string): string {
  return field === 'client_secret' ? 'unresolved-reference' : 'https://unresolved.invalid/';
}
