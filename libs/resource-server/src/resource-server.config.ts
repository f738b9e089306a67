import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { Setting } from '@cloakroom/config';

export type TokenValidation = 'introspection' | 'jwt' | 'auto';

/** How an internal API checks the bearer tokens it receives. */
export class ResourceServerConfig {
  @Setting(
    'Issuer of the tokens (its discovery document gives the JWKS and introspection endpoints).',
    'http://localhost:3000',
  )
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' })
  ISSUER_URL = 'http://localhost:3000';

  @Setting("This API's audience: tokens whose `aud` does not name it are refused.", 'http://localhost:4000')
  @IsString()
  RESOURCE_AUDIENCE = 'http://localhost:4000';

  @Setting(
    '`jwt` (signature against the JWKS), `introspection` (RFC 7662), or `auto` (JWTs locally, opaque tokens by introspection).',
    'auto',
  )
  @IsIn(['introspection', 'jwt', 'auto'])
  TOKEN_VALIDATION: TokenValidation = 'auto';

  @Setting('Client id this API authenticates with at the introspection endpoint.', 'demo-api')
  @IsString()
  INTROSPECTION_CLIENT_ID = 'demo-api';

  @Setting(
    'Client secret for introspection. The development default is refused in production.',
    'demo-api-dev-secret',
  )
  @IsString()
  INTROSPECTION_CLIENT_SECRET = 'demo-api-dev-secret';

  @Setting('Introspection answers cached at most (entries; the oldest go first).', 10000)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  INTROSPECTION_CACHE_MAX_ENTRIES = 10000;

  @Setting(
    "An active introspection answer is reused at most this many seconds (and never past the token's `exp`): a revoked token is refused within this bound.",
    30,
  )
  @IsInt()
  @Min(0)
  @Max(3600)
  INTROSPECTION_CACHE_MAX_SECONDS = 30;

  @Setting(
    'An inactive answer is remembered this many seconds, so a flood of bad tokens does not reach the authorization server.',
    5,
  )
  @IsInt()
  @Min(0)
  @Max(300)
  INTROSPECTION_NEGATIVE_CACHE_SECONDS = 5;

  @Setting('Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.', 30)
  @IsInt()
  @Min(0)
  @Max(300)
  JWT_CLOCK_TOLERANCE_SECONDS = 30;

  @Setting('At most one JWKS refetch per this many seconds when a token names an unknown key.', 30)
  @IsInt()
  @Min(1)
  @Max(3600)
  JWKS_MIN_REFETCH_SECONDS = 30;

  @Setting(
    'Accepted JWT signature algorithms, comma-separated (asymmetric only; never `none` or HS*).',
    'RS256,PS256,ES256,EdDSA',
  )
  @Matches(
    /^(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA)(,(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA))*$/,
    {
      message: 'must be a comma-separated list of RS*, PS*, ES* or EdDSA',
    },
  )
  JWT_ALGORITHMS = 'RS256,PS256,ES256,EdDSA';

  @Setting('Requests to the authorization server time out after this many milliseconds (then 503).', 3000)
  @IsInt()
  @Min(100)
  @Max(60_000)
  AUTHORIZATION_SERVER_TIMEOUT_MS = 3000;
}

export const DEV_INTROSPECTION_SECRET = 'demo-api-dev-secret';
