import { IsIn, IsNumber, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { Setting } from '@cloakroom/config';

/** The samplers of OTEL_TRACES_SAMPLER, under their standard names. */
export const TRACE_SAMPLERS = [
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'always_on',
  'always_off',
  'traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/** `name=value` pairs, comma-separated, as OpenTelemetry's exporters read them. */
const KEY_VALUE_PAIRS = /^\s*[^\s=,]+\s*=[^,]*(,\s*[^\s=,]+\s*=[^,]*)*$/;

/**
 * Traces (OpenTelemetry), the same settings in every app under the standard variable names. Off unless an OTLP
 * endpoint is named: then no span is made and no trace field is added to any request.
 */
export class TracingConfig {
  @Setting(
    'Base URL of an OpenTelemetry collector that takes OTLP over HTTP (`http://collector:4318`): spans are posted to `<url>/v1/traces`. Tracing is off while neither this nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set: no span is made and no `traceparent` is added to any request.',
  )
  @IsOptional()
  @Matches(/^https?:\/\/[^\s?#]+$/, { message: 'must be an http(s) URL without query or fragment' })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  @Setting(
    'URL spans are posted to (OTLP/HTTP, JSON), used as it is; takes precedence over OTEL_EXPORTER_OTLP_ENDPOINT.',
  )
  @IsOptional()
  @Matches(/^https?:\/\/[^\s#]+$/, { message: 'must be an http(s) URL without fragment' })
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;

  @Setting(
    "Header fields sent with every export, `name=value` comma-separated, values URL-encoded (a collector's API key: `authorization=Bearer%20…`). Never logged.",
  )
  @IsOptional()
  @Matches(KEY_VALUE_PAIRS, { message: 'must be name=value pairs, comma-separated' })
  OTEL_EXPORTER_OTLP_HEADERS?: string;

  @Setting(
    '`service.name` of the spans. Default: `authorization-server`, `gateway` or `demo-api`, as in the log lines.',
  )
  @IsOptional()
  @IsString()
  @MinLength(1)
  OTEL_SERVICE_NAME?: string;

  @Setting(
    "Which traces are recorded: `parentbased_always_on` (all, unless the caller's `traceparent` says not sampled), `parentbased_traceidratio` (a share of new traces, the caller's decision otherwise), `traceidratio` (a share of all traces, whatever the caller says), `always_on`, `always_off`, `parentbased_always_off`. The `traceparent` of a browser is the caller's: `traceidratio` keeps clients from choosing what is recorded.",
    'parentbased_always_on',
  )
  @IsIn([...TRACE_SAMPLERS])
  OTEL_TRACES_SAMPLER: TraceSampler = 'parentbased_always_on';

  @Setting('Share of traces the `traceidratio` samplers record, from 0 to 1.', 1)
  @IsNumber({}, { message: 'must be a number from 0 to 1' })
  @Min(0, { message: 'must be a number from 0 to 1' })
  @Max(1, { message: 'must be a number from 0 to 1' })
  OTEL_TRACES_SAMPLER_ARG: number = 1;
}

/** Where spans are posted, or undefined when tracing is off. */
export function tracesEndpoint(config: TracingConfig): string | undefined {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}
