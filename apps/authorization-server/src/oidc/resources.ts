import { readFileSync } from 'node:fs';
import { plainToInstance, Type } from 'class-transformer';
import {
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
  validateSync,
} from 'class-validator';
import { validationProblems } from '@cloakroom/config';
import { parse } from 'yaml';

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
export class ResourcesFileInvalid extends Error {
  override readonly name = 'ResourcesFileInvalid';
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`invalid resources file ${path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads and validates the resources file; resources keyed by indicator. */
export function loadResources(path: string): Map<string, ResourceServerDefinition> {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ResourcesFileInvalid(path, [`cannot be read: ${(error as Error).message}`]);
  }
  const file = plainToInstance(ResourcesFile, raw ?? {});
  const problems = validationProblems(validateSync(file));
  const seen = new Set<string>();
  for (const resource of file.resources ?? []) {
    if (seen.has(resource.indicator)) problems.push(`resources: ${resource.indicator} is listed twice`);
    seen.add(resource.indicator);
  }
  if (problems.length > 0) throw new ResourcesFileInvalid(path, problems);
  return new Map(file.resources.map((resource) => [resource.indicator, resource]));
}
