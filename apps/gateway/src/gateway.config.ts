import { IsIn, IsInt, IsString, Max, Min } from 'class-validator';
import { Setting, isProduction, loadConfig } from '@cloakroom/config';
import { BffConfig, bffConfigProblems } from '@cloakroom/bff';

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

  @Setting('Log level: silent, error, warn, info or debug.', 'warn')
  @IsIn(['silent', 'error', 'warn', 'info', 'debug'])
  LOG_LEVEL: 'silent' | 'error' | 'warn' | 'info' | 'debug' = 'warn';
}

/** Reads and validates the gateway settings once; throws ConfigInvalid listing every problem. */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig(GatewayConfig, env, (config) => bffConfigProblems(config, isProduction(env)));
}
