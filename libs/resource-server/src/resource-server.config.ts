import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { Setting } from '@cloakroom/config';

export const DEFAULT_DPOP_ALGORITHMS = 'ES256,ES384,ES512,PS256,RS256,EdDSA,Ed25519';

export type TokenValidation = 'introspection' | 'jwt' | 'auto';

/** How an internal API checks the bearer tokens it receives. */
export class ResourceServerConfig {
  @Setting(
    'Issuer of the tokens (its discovery document gives the JWKS and introspection endpoints).',
    'http://localhost:3000',
  )
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' })
  ISSUER_URL = 'http://localhost:3000';

  @Setting(
    "Where this API reaches the authorization server when that differs from ISSUER_URL (containers: `http://authorization-server:3000`): discovery, the JWKS, introspection and distributed claims are fetched at this origin in place of the issuer's. Tokens are still checked against ISSUER_URL, and a claims source only at the issuer's own origin is accepted.",
  )
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+\/?$/, { message: 'must be an http(s) origin (scheme://host[:port])' })
  ISSUER_INTERNAL_URL?: string;

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

  @Setting(
    "The URL clients call this API at (scheme, host, port, any path prefix). A DPoP proof's `htu` must be this URL followed by the request's path: it is never taken from the `Host` header. Unset: the demo API uses the address it listens on; a library user must set it to accept DPoP.",
  )
  @IsOptional()
  @Matches(/^https?:\/\/[^\s?#]+$/, { message: 'must be an http(s) URL without query or fragment' })
  RESOURCE_PUBLIC_URL?: string;

  @Setting(
    'Accepted DPoP proof signature algorithms (RFC 9449), comma-separated (asymmetric only); advertised in the `WWW-Authenticate: DPoP algs` challenge.',
    'ES256,ES384,ES512,PS256,RS256,EdDSA,Ed25519',
  )
  @Matches(
    /^(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA|Ed25519)(,(RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA|Ed25519))*$/,
    { message: 'must be a comma-separated list of RS*, PS*, ES*, EdDSA or Ed25519' },
  )
  DPOP_ALGORITHMS = DEFAULT_DPOP_ALGORITHMS;

  @Setting(
    "A DPoP proof's `iat` may be at most this many seconds before or after this API's clock; its `jti` is remembered until the proof leaves that window, so it is used once.",
    60,
  )
  @IsInt()
  @Min(5)
  @Max(300)
  DPOP_PROOF_WINDOW_SECONDS = 60;

  @Setting(
    'DPoP proofs remembered against replay, per instance (about 120 bytes each). Full of proofs still in their window, DPoP requests get 503 until some expire: size it to peak DPoP requests per second × 2 × the window.',
    100000,
  )
  @IsInt()
  @Min(100)
  @Max(10_000_000)
  DPOP_REPLAY_CACHE_MAX_ENTRIES = 100000;

  @Setting('Requests to the authorization server time out after this many milliseconds (then 503).', 3000)
  @IsInt()
  @Min(100)
  @Max(60_000)
  AUTHORIZATION_SERVER_TIMEOUT_MS = 3000;
}

export const DEV_INTROSPECTION_SECRET = 'demo-api-dev-secret';
