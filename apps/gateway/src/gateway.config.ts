import { IsIn, IsInt, IsString, Max, Min } from 'class-validator';
import { Setting, isProduction, loadConfig } from '@cloakroom/config';
import { BffConfig, bffConfigProblems } from '@cloakroom/bff';
import { LOG_LEVELS } from '@cloakroom/ops';
import type { LogLevel } from '@cloakroom/ops';

/** The gateway: the BFF's settings and where it listens. */
export class GatewayConfig extends BffConfig {
  @Setting('Port the gateway listens on.', 8080)
  @IsInt()
  @Min(0)
  @Max(65_535)
  PORT: number = 8080;

  @Setting('Address the gateway listens on.', '127.0.0.1')
  @IsString()
  HOST = '127.0.0.1';

  @Setting(
    'Log level: fatal, error, warn, info (one access-log line per request), debug, trace or silent.',
    'info',
  )
  @IsIn([...LOG_LEVELS])
  LOG_LEVEL: LogLevel = 'info';
}

/** Reads and validates the gateway settings once; throws ConfigInvalid listing every problem. */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig(GatewayConfig, env, (config) => bffConfigProblems(config, isProduction(env)));
}
