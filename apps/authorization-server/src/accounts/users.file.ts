import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmail,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Min,
} from 'class-validator';
import { MappingOf, loadConfigFile } from '@cloakroom/config';
import type { ConfigFile, ConfigFileSource } from '@cloakroom/config';
import { UsersFileInvalid } from './accounts.errors.js';
import { ARGON2ID_PHC } from './password.hasher.js';

/** Usernames are compared in this form, so `Alice` and `alice` are one user with one failure counter. */
export const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;
const USERNAME_RULE = 'lowercase letters, digits and . _ @ + -, starting with a letter or digit, at most 128';

const URL_OPTIONS = { require_protocol: true, require_tld: false, protocols: ['http', 'https'] };

/** One user of the users file: the password hash, the stable subject, OIDC standard claims, groups. */
export class UserRecord {
  @Matches(ARGON2ID_PHC, {
    message:
      'passwordHash must be an argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash); make one with `hash-password`',
  })
  passwordHash!: string;

  /** Stable subject identifier (OIDC `sub`, at most 255 ASCII characters); defaults to the username. */
  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,255}$/, {
    message: 'sub must be 1 to 255 printable ASCII characters without spaces',
  })
  sub?: string;

  /** Refused at sign-in with the usual answer; tokens already issued live out their lifetime. */
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @IsOptional() @IsString() @Length(1, 256) name?: string;
  @IsOptional() @IsString() @Length(1, 256) given_name?: string;
  @IsOptional() @IsString() @Length(1, 256) family_name?: string;
  @IsOptional() @IsString() @Length(1, 256) middle_name?: string;
  @IsOptional() @IsString() @Length(1, 256) nickname?: string;
  @IsOptional() @IsString() @Length(1, 256) preferred_username?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) profile?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) picture?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) website?: string;
  @IsOptional() @IsString() @Length(1, 64) gender?: string;
  @IsOptional()
  @Matches(/^\d{4}(-\d{2}-\d{2})?$/, { message: 'birthdate must be YYYY-MM-DD or YYYY' })
  birthdate?: string;
  @IsOptional() @IsString() @Length(1, 64) zoneinfo?: string;
  @IsOptional() @IsString() @Length(1, 35) locale?: string;
  @IsOptional() @IsInt() @Min(0) updated_at?: number;

  @IsOptional() @IsEmail({}, { message: 'email must be an email address' }) email?: string;
  @IsOptional() @IsBoolean() email_verified?: boolean;

  @IsArray()
  @ArrayUnique({ message: 'groups must not repeat a group' })
  @ArrayMaxSize(20_000)
  @IsString({ each: true })
  @Length(1, 256, { each: true, message: 'each group must be 1 to 256 characters' })
  groups: string[] = [];
}

/** The profile claims a user may carry (OIDC Core §5.4, scope `profile`). */
export const PROFILE_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'updated_at',
] as const;

/** A validated user with its username. */
export interface UserEntry {
  username: string;
  sub: string;
  record: UserRecord;
}

/** The users file: `{ users: { <username>: UserRecord } }`. */
class UsersFile {
  @MappingOf(() => UserRecord, {
    notMapping: 'must be a mapping of username to user',
    entryNotMapping: 'must be a mapping with passwordHash, claims and groups',
  })
  users!: Map<string, UserRecord>;
}

const USERS_FILE: ConfigFile<UsersFile> = {
  invalid: UsersFileInvalid,
  schema: UsersFile,
  checks: (file) => {
    const problems: string[] = [];
    const subs = new Map<string, string>();
    for (const [username, record] of file.users ?? []) {
      const at = `users.${username}`;
      if (!USERNAME.test(username)) problems.push(`${at}: username must be ${USERNAME_RULE} characters`);
      if (record === null) continue;
      const sub = typeof record.sub === 'string' ? record.sub : username;
      const owner = subs.get(sub);
      if (owner !== undefined) problems.push(`${at}.sub: ${sub} is already the sub of ${owner}`);
      subs.set(sub, username);
    }
    return problems;
  },
};

/**
 * Loads the users file (a path, its text, or its parsed content): the users, or UsersFileInvalid listing every
 * problem. Unknown fields are problems too, so that a misspelt claim does not vanish silently.
 */
export function loadUsers(source: ConfigFileSource): UserEntry[] {
  const file = loadConfigFile(USERS_FILE, source);
  return [...file.users].map(([username, record]) => ({ username, sub: record.sub ?? username, record }));
}
