import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ConfigFileInvalid, isMapping, loadConfigFile } from '@cloakroom/config';
import type { ConfigFile, ConfigFileSource } from '@cloakroom/config';

/** One API that access tokens can be issued for (RFC 8707 resource indicator). */
export class ResourceServerDefinition {
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  indicator!: string;

  /** `aud` of the tokens; defaults to the indicator. */
  @IsOptional()
  @IsString()
  audience?: string;

  @IsIn(['jwt', 'opaque'])
  accessTokenFormat: 'jwt' | 'opaque' = 'jwt';

  @IsArray()
  @ArrayUnique()
  @Matches(/^[\x21\x23-\x5B\x5D-\x7E]+$/, {
    each: true,
    message: 'scopes must be scope tokens (RFC 6749 §3.3)',
  })
  scopes: string[] = [];

  /** Put the user's `groups` into JWT access tokens for this resource (and into introspection answers). */
  @IsBoolean()
  groupsClaim = false;

  /**
   * The groups this API may see: names or patterns where `*` matches any run of characters (`app-orders-*`).
   * Groups no pattern admits never reach its tokens or its introspection answers.
   */
  @IsArray()
  @ArrayNotEmpty()
  @IsString({ each: true })
  @Matches(/^[^\s]+$/, { each: true, message: 'groups patterns must not contain white space' })
  groups: string[] = ['*'];

  /**
   * Largest `Authorization: Bearer …` line, CRLF included, of a JWT access token for this API. Claims that would
   * exceed it leave the token as distributed claims, which the API fetches from the issuer's /claims endpoint.
   * Above 8,192 a default nginx, above 16,384 a default Node.js refuses the request.
   */
  @IsInt()
  @Min(1024)
  @Max(1_048_576)
  tokenBudgetBytes = 4096;

  /**
   * Client ids the resource server itself authenticates with at the introspection endpoint: only they (and
   * the client a token was issued to) learn anything about a token for this audience. An id that names no
   * confidential client matches nobody.
   */
  @IsArray()
  @ArrayUnique()
  @Matches(/^[A-Za-z0-9._~-]{1,128}$/, {
    each: true,
    message: 'each introspection client must be a client_id',
  })
  introspectionClients: string[] = [];

  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(24 * 3600)
  accessTokenTTL?: number;
}

class ResourcesFile {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ResourceServerDefinition)
  resources: ResourceServerDefinition[] = [];
}

/** The resources file does not validate; lists every problem. */
export class ResourcesFileInvalid extends ConfigFileInvalid {
  override readonly name = 'ResourcesFileInvalid';
  constructor(path: string, problems: string[]) {
    super('resources', path, problems);
  }
}

const RESOURCES_FILE: ConfigFile<ResourcesFile> = {
  invalid: ResourcesFileInvalid,
  schema: ResourcesFile,
  checks: (file) => {
    if (!Array.isArray(file.resources)) return [];
    const seen = new Set<string>();
    const duplicates: string[] = [];
    for (const resource of file.resources) {
      if (!isMapping(resource) || typeof resource.indicator !== 'string') continue;
      if (seen.has(resource.indicator)) duplicates.push(`resources: ${resource.indicator} is listed twice`);
      seen.add(resource.indicator);
    }
    return duplicates;
  },
};

/** Loads the resources file: the resources keyed by indicator, or ResourcesFileInvalid listing every problem. */
export function loadResources(source: ConfigFileSource): Map<string, ResourceServerDefinition> {
  const file = loadConfigFile(RESOURCES_FILE, source);
  return new Map(file.resources.map((resource) => [resource.indicator, resource]));
}
