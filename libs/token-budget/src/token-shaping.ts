import { byteLength } from './limits.js';

/**
 * Keeps a JWT access token under a byte budget whatever the user's claims weigh: claims that would push the
 * `Authorization: Bearer …` line over the budget leave the token and become OpenID Connect distributed claims
 * (Core §5.6.2): `_claim_names` maps each moved claim to a source, `_claim_sources` names the endpoint that
 * returns them for this very token. Framework-free: the authorization server shapes tokens with it, and
 * `cloakroom budget` predicts the shape before anyone signs in.
 */

/** `Authorization: Bearer ` and the CRLF that ends the line: what a proxy counts besides the token. */
export const BEARER_LINE_OVERHEAD_BYTES = byteLength('Authorization: Bearer \r\n');

/** The default budget: the whole header line of a forwarded access token, in bytes. */
export const DEFAULT_TOKEN_BUDGET_BYTES = 4096;

/** The source name claims moved out of a token are filed under. */
export const DISTRIBUTED_SOURCE = 'src1';

/** JWT and RFC 9068 claims that stay in the token whatever it weighs: a token is useless without them. */
const KEPT_CLAIMS = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'scope',
  'cnf',
  'auth_time',
  'acr',
  'amr',
  'sid',
  '_claim_names',
  '_claim_sources',
]);

/** Claims moved first when a token is over budget: the ones that grow with the user. */
const MOVED_FIRST = ['groups', 'roles', 'entitlements', 'permissions'];

/** Bytes of a base64url encoding, without padding, of `bytes` bytes. */
export function base64urlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

/** Encoded size of a JWS signature for an algorithm and key (RSA: the modulus's bytes). */
export function signatureLength(alg: string, rsaModulusBytes = 256): number {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return base64urlLength(rsaModulusBytes);
  if (alg === 'ES256') return base64urlLength(64);
  if (alg === 'ES384') return base64urlLength(96);
  if (alg === 'ES512') return base64urlLength(132);
  if (alg === 'EdDSA' || alg === 'Ed25519') return base64urlLength(64);
  return base64urlLength(512); // unknown: assume the largest signature in common use
}

export interface TokenEnvelope {
  /** The protected header as it will be encoded, e.g. `{ alg: 'RS256', typ: 'at+jwt', kid }`. */
  header: Record<string, unknown>;
  /** Encoded signature length ({@link signatureLength}). */
  signatureBytes: number;
}

/** Bytes of `Authorization: Bearer <header>.<payload>.<signature>\r\n` for this payload. */
export function bearerLineBytes(payload: Record<string, unknown>, envelope: TokenEnvelope): number {
  return (
    BEARER_LINE_OVERHEAD_BYTES +
    base64urlLength(byteLength(JSON.stringify(envelope.header))) +
    1 +
    base64urlLength(byteLength(JSON.stringify(payload))) +
    1 +
    envelope.signatureBytes
  );
}

export interface ShapingPolicy {
  /** Largest allowed `Authorization: Bearer …\r\n` line, in bytes. */
  budgetBytes: number;
  /** Where an API fetches the claims moved out of the token, presenting that token as a bearer token. */
  claimsEndpoint: string;
}

export interface ShapedToken {
  payload: Record<string, unknown>;
  /** Claims moved to the distributed source, in the order they were moved. */
  moved: string[];
  /** The claims moved out, with their values: what the claims endpoint answers for this token. */
  movedClaims: Record<string, unknown>;
  /** Header line bytes before and after shaping. */
  bytesBefore: number;
  bytes: number;
  /** False when even the kept claims alone exceed the budget (the token is then as small as it can be). */
  fits: boolean;
}

/**
 * The payload as it should be signed: unchanged when it fits, otherwise with the growing claims (groups
 * first, then the heaviest of the others) moved to a distributed claims source until it does.
 */
export function shapeAccessToken(
  payload: Record<string, unknown>,
  envelope: TokenEnvelope,
  policy: ShapingPolicy,
): ShapedToken {
  const bytesBefore = bearerLineBytes(payload, envelope);
  if (bytesBefore <= policy.budgetBytes) {
    return { payload, moved: [], movedClaims: {}, bytesBefore, bytes: bytesBefore, fits: true };
  }
  const kept: Record<string, unknown> = { ...payload };
  const movedClaims: Record<string, unknown> = {};
  const candidates = movable(payload);
  let shaped = kept;
  let bytes = bytesBefore;
  for (const name of candidates) {
    movedClaims[name] = kept[name];
    delete kept[name];
    shaped = withSources(kept, Object.keys(movedClaims), policy.claimsEndpoint);
    bytes = bearerLineBytes(shaped, envelope);
    if (bytes <= policy.budgetBytes) break;
  }
  return {
    payload: shaped,
    moved: Object.keys(movedClaims),
    movedClaims,
    bytesBefore,
    bytes,
    fits: bytes <= policy.budgetBytes,
  };
}

/** Claims that may leave the token: the growing ones first, then the others, heaviest first. */
function movable(payload: Record<string, unknown>): string[] {
  const free = Object.keys(payload).filter((name) => !KEPT_CLAIMS.has(name));
  const weight = (name: string) => byteLength(JSON.stringify(payload[name]) ?? '');
  const first = MOVED_FIRST.filter((name) => free.includes(name));
  const rest = free.filter((name) => !first.includes(name)).sort((a, b) => weight(b) - weight(a));
  return [...first, ...rest];
}

function withSources(
  payload: Record<string, unknown>,
  moved: string[],
  endpoint: string,
): Record<string, unknown> {
  return {
    ...payload,
    _claim_names: Object.fromEntries(moved.map((name) => [name, DISTRIBUTED_SOURCE])),
    _claim_sources: { [DISTRIBUTED_SOURCE]: { endpoint } },
  };
}

/**
 * Whether a group name is admitted by any of the patterns: `*` matches any run of characters, everything else
 * matches itself. `['*']` admits every group.
 */
export function groupMatcher(patterns: readonly string[]): (group: string) => boolean {
  if (patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns
    .filter((p) => p.includes('*'))
    .map((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`, 's'));
  return (group) => exact.has(group) || globs.some((glob) => glob.test(group));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
