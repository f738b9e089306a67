import { IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { Setting } from '@cloakroom/config';

/** Each app's management port when MANAGEMENT_PORT is not set: apart, so that one host can run them all. */
export const MANAGEMENT_PORTS = {
  authorizationServer: 9300,
  gateway: 9380,
  demoApi: 9400,
} as const;

/** Where an app serves its health and metrics: the same settings in every app. */
export class OpsConfig {
  @Setting(
    `Port of the management server: \`/healthz\`, \`/readyz\` and \`/metrics\` (Prometheus), which the public port does not serve. Default: ${MANAGEMENT_PORTS.authorizationServer} for the authorization server, ${MANAGEMENT_PORTS.gateway} for the gateway, ${MANAGEMENT_PORTS.demoApi} for the demo API; 0 (any free port) when the app's \`PORT\` is 0. Two instances on one host need one each.`,
  )
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  MANAGEMENT_PORT?: number;

  @Setting(
    'Address the management server listens on. Metrics describe traffic and internals: keep it on a private address, reachable by the scraper and the probes only.',
    '127.0.0.1',
  )
  @IsString()
  @MinLength(1)
  MANAGEMENT_HOST = '127.0.0.1';
}

/** The management port in effect: the setting, else the app's default, else 0 when the app itself has port 0. */
export function managementPort(config: OpsConfig, app: { port: number; defaultPort: number }): number {
  return config.MANAGEMENT_PORT ?? (app.port === 0 ? 0 : app.defaultPort);
}

/** The management port must not be the app's own (0 aside: each gets a free port of its own). */
export function opsConfigProblems(config: OpsConfig, app: { port: number; defaultPort: number }): string[] {
  const port = managementPort(config, app);
  return port !== 0 && port === app.port
    ? [`MANAGEMENT_PORT: ${port} is also PORT; the management server needs a port of its own`]
    : [];
}
