import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { Transform } from 'class-transformer';
import { Setting, isProduction } from '@cloakroom/config';
import { OidcStoreConfig } from '@cloakroom/oidc-adapter';
import type { FailureThrottleSettings } from './throttle/failure.throttle.js';

/** Cookie-signing keys used when none are configured: development only, refused in production. */
export const DEV_COOKIE_KEYS = 'dev-cookie-key-not-secret-0123456789abcdef';

const toBoolean = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;

/** Settings of the authorization server. */
export class AuthorizationServerConfig extends OidcStoreConfig {
  @Setting('Address the authorization server listens on.', '127.0.0.1')
  @IsString()
  HOST = '127.0.0.1';

  @Setting('Port the authorization server listens on.', 3000)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @Setting('Issuer identifier: the public base URL, without a trailing slash.', 'http://localhost:3000')
  @Matches(/^https?:\/\/[^\s?#]+[^/\s?#]$/, {
    message: 'must be an http(s) URL without query or trailing slash',
  })
  ISSUER = 'http://localhost:3000';

  @Setting('Trust X-Forwarded-* headers from a reverse proxy in front.', false)
  @Transform(toBoolean)
  @IsBoolean()
  TRUST_PROXY = false;

  @Setting('Name shown on the login, consent and logout pages.', 'Cloakroom')
  @IsString()
  @MinLength(1)
  APP_NAME = 'Cloakroom';

  @Setting(
    'Users file (YAML or JSON) with argon2id password hashes, claims and groups; reloaded when it changes. The default is the public demo, refused in production.',
    'config/demo/users.yaml',
  )
  @IsString()
  USERS_FILE = 'config/demo/users.yaml';

  @Setting(
    'Clients file (YAML or JSON). The default is the public demo, refused in production.',
    'config/demo/clients.yaml',
  )
  @IsString()
  CLIENTS_FILE = 'config/demo/clients.yaml';

  @Setting(
    'Resource servers file (YAML or JSON): audience, token format, scopes, groups claim. The default is the public demo, refused in production.',
    'config/demo/resources.yaml',
  )
  @IsString()
  RESOURCES_FILE = 'config/demo/resources.yaml';

  @Setting(
    'Private signing keys (JWKS file). Missing: generated in memory in development, refused in production.',
  )
  @IsOptional()
  @IsString()
  JWKS_FILE?: string;

  @Setting(
    'Comma-separated cookie-signing keys, newest first (rotate by prepending). Required in production.',
  )
  @IsOptional()
  @Matches(/^[^,\s]{32,}(,[^,\s]{32,})*$/, {
    message: 'must be comma-separated keys of at least 32 characters',
  })
  COOKIE_KEYS?: string;

  @Setting('Access token lifetime in seconds.', 600)
  @IsInt()
  @Min(10)
  @Max(24 * 3600)
  ACCESS_TOKEN_TTL_SECONDS = 600;

  @Setting('Refresh token lifetime in seconds.', 14 * 24 * 3600)
  @IsInt()
  @Min(60)
  @Max(400 * 24 * 3600)
  REFRESH_TOKEN_TTL_SECONDS = 14 * 24 * 3600;

  @Setting('Login session lifetime at the authorization server, in seconds.', 14 * 24 * 3600)
  @IsInt()
  @Min(60)
  @Max(400 * 24 * 3600)
  SESSION_TTL_SECONDS = 14 * 24 * 3600;

  @Setting('Log a warning when an issued token is larger than this many bytes.', 8192)
  @IsInt()
  @Min(256)
  TOKEN_SIZE_BUDGET_BYTES = 8192;

  @Setting('Log level: fatal, error, warn, info, debug, trace or silent.', 'info')
  @Matches(/^(fatal|error|warn|info|debug|trace|silent)$/)
  LOG_LEVEL = 'info';

  @Setting(
    'Wrong client secrets for one client id from one address (IPv6: per /64) within CLIENT_AUTH_WINDOW_SECONDS before that address gets 429 for that client; a success clears them.',
    10,
  )
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  CLIENT_AUTH_MAX_FAILURES_PER_ADDRESS = 10;

  @Setting(
    'Wrong client secrets for one client id from anywhere within CLIENT_AUTH_WINDOW_SECONDS after which each further wrong secret is answered after 250 ms, doubling each time up to CLIENT_AUTH_DELAY_MAX_MS; the right secret never waits and is never counted.',
    10,
  )
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  CLIENT_AUTH_DELAY_AFTER_FAILURES = 10;

  @Setting('Longest wait before a wrong client secret is answered, in milliseconds.', 8000)
  @IsInt()
  @Min(0)
  @Max(60_000)
  CLIENT_AUTH_DELAY_MAX_MS = 8000;

  @Setting('Window of the client authentication failure counts, in seconds, from the first failure.', 900)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  CLIENT_AUTH_WINDOW_SECONDS = 900;

  get clientAuthThrottle(): FailureThrottleSettings {
    return {
      maxFailuresPerAddress: this.CLIENT_AUTH_MAX_FAILURES_PER_ADDRESS,
      addressWindowSeconds: this.CLIENT_AUTH_WINDOW_SECONDS,
      delayAfterFailures: this.CLIENT_AUTH_DELAY_AFTER_FAILURES,
      delayBaseMs: Math.min(250, this.CLIENT_AUTH_DELAY_MAX_MS),
      delayMaxMs: this.CLIENT_AUTH_DELAY_MAX_MS,
      windowSeconds: this.CLIENT_AUTH_WINDOW_SECONDS,
    };
  }

  get cookieKeys(): string[] {
    return (this.COOKIE_KEYS ?? DEV_COOKIE_KEYS).split(',');
  }
}

/** Problems that only exist together or only in production. */
export function authorizationServerConfigProblems(
  config: AuthorizationServerConfig,
  env: Record<string, string | undefined>,
): string[] {
  const problems: string[] = [];
  if (isProduction(env)) {
    if (!config.COOKIE_KEYS)
      problems.push('COOKIE_KEYS: required in production (the development keys are public)');
    if (!config.JWKS_FILE)
      problems.push('JWKS_FILE: required in production (keys generated in memory do not survive a restart)');
    if (!config.ISSUER.startsWith('https://')) problems.push('ISSUER: must be https in production');
  }
  return problems;
}
