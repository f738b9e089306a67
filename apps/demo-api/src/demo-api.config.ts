import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { Setting, isProduction } from '@cloakroom/config';
import { DEV_INTROSPECTION_SECRET, ResourceServerConfig } from '@cloakroom/resource-server';

/** Settings of the demo API: where it listens, plus how it checks tokens. */
export class DemoApiConfig extends ResourceServerConfig {
  @Setting('Port the demo API listens on.', 4000)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 4000;

  @Setting('Address the demo API listens on.', '127.0.0.1')
  @IsString()
  HOST = '127.0.0.1';

  @Setting(
    'Path prefix of the API routes (e.g. `/directory` serves `/directory/api/whoami`), for a second instance behind a gateway route of its own; `/healthz` and `/readyz` stay at the root.',
    '',
  )
  @Matches(/^(\/[A-Za-z0-9._~-]+)*$/, { message: 'must be empty or a path such as /directory' })
  BASE_PATH = '';

  @Setting('Log level: fatal, error, warn, info, debug, trace or silent.', 'info')
  @Matches(/^(fatal|error|warn|info|debug|trace|silent)$/)
  LOG_LEVEL = 'info';
}

export function demoApiConfigProblems(
  config: DemoApiConfig,
  env: Record<string, string | undefined>,
): string[] {
  return isProduction(env) && config.INTROSPECTION_CLIENT_SECRET === DEV_INTROSPECTION_SECRET
    ? ['INTROSPECTION_CLIENT_SECRET: the development default is refused in production']
    : [];
}
