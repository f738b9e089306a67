import { byteLength, evaluateCookie, evaluateHeaderLine } from './limits.js';
import type { Verdict } from './limits.js';

/** The value is not a compact JWS (three base64url segments, JSON header and payload). */
export class TokenMalformed extends Error {
  override readonly name = 'TokenMalformed';
}

export interface ClaimWeight {
  readonly name: string;
  /** Bytes of `"name":value,` in the payload JSON (no comma after the last claim). */
  readonly jsonBytes: number;
  /** The claim's share of the encoded token: jsonBytes × 4/3, rounded. */
  readonly encodedBytes: number;
  /** encodedBytes as a fraction of the whole token (0..1). */
  readonly share: number;
}

export interface TokenAnalysis {
  /** Bytes of the compact token, dots included. */
  readonly totalBytes: number;
  /** Encoded segment lengths. */
  readonly headerBytes: number;
  readonly payloadBytes: number;
  readonly signatureBytes: number;
  /** Decoded payload JSON. */
  readonly payloadJsonBytes: number;
  readonly alg: string | undefined;
  readonly kid: string | undefined;
  /** Heaviest first. */
  readonly claims: readonly ClaimWeight[];
  /** totalBytes − Σ claims.encodedBytes: header, signature, dots, braces, rounding. */
  readonly overheadBytes: number;
  /** The token as `Authorization: Bearer <jwt>`, and as the value of a cookie. */
  readonly verdicts: readonly Verdict[];
  readonly fits: boolean;
}

export interface TokenAnalysisOptions {
  /** Name of the cookie the token would travel in; its length counts against the cookie limit. */
  cookieName?: string;
}

export const DEFAULT_TOKEN_COOKIE_NAME = 'token';

const SEGMENT = /^[A-Za-z0-9_-]*$/;

function decodeJson(segment: string, what: string): { json: string; value: unknown } {
  const json = Buffer.from(segment, 'base64url').toString('utf8');
  try {
    return { json, value: JSON.parse(json) };
  } catch {
    throw new TokenMalformed(`the ${what} is not base64url-encoded JSON`);
  }
}

/**
 * Weighs each claim by its contribution to the encoded token. Method: a claim costs the bytes of its
 * `"name":value` member in the payload JSON plus the comma that separates it from the next one, and
 * base64url turns every 3 bytes into 4 characters, so it costs that × 4/3 in the token (rounded to
 * whole bytes). Whatever is left (header, signature, dots, braces, whitespace, rounding) is overhead,
 * so claims + overhead add up to the token exactly.
 */
function weighClaims(payload: Record<string, unknown>, totalBytes: number): ClaimWeight[] {
  const names = Object.keys(payload).filter((name) => payload[name] !== undefined);
  return names
    .map((name, index) => {
      const member = `${JSON.stringify(name)}:${JSON.stringify(payload[name])}`;
      const jsonBytes = byteLength(member) + (index < names.length - 1 ? 1 : 0);
      const encodedBytes = Math.round((jsonBytes * 4) / 3);
      return { name, jsonBytes, encodedBytes, share: totalBytes > 0 ? encodedBytes / totalBytes : 0 };
    })
    .sort((a, b) => b.encodedBytes - a.encodedBytes || a.name.localeCompare(b.name));
}

/**
 * The heaviest `n` claims of a payload about to be signed, for a warning log when a token is issued
 * over budget. Only names and sizes: claim values never leave this function. `share` is relative to
 * the encoded payload segment, the only part known before signing.
 */
export function heaviestClaims(payload: object, n = 3): ClaimWeight[] {
  const record = payload as Record<string, unknown>;
  const encodedPayload = Math.ceil((byteLength(JSON.stringify(record)) * 4) / 3);
  return weighClaims(record, encodedPayload).slice(0, Math.max(0, n));
}

/** Sizes, heaviest claims and verdicts of a compact JWS. Throws TokenMalformed for anything else. */
export function analyzeToken(jwt: string, options: TokenAnalysisOptions = {}): TokenAnalysis {
  const token = jwt.trim();
  const parts = token.split('.');
  if (parts.length === 5)
    throw new TokenMalformed('this is an encrypted JWT (JWE): its claims cannot be read');
  if (parts.length !== 3)
    throw new TokenMalformed(`a JWT has 3 dot-separated parts, this value has ${parts.length}`);
  const [header, payload, signature] = parts as [string, string, string];
  if (![header, payload, signature].every((p) => SEGMENT.test(p))) {
    throw new TokenMalformed('a JWT segment holds characters outside base64url');
  }
  const decodedHeader = decodeJson(header, 'header').value as Record<string, unknown> | null;
  const decodedPayload = decodeJson(payload, 'payload');
  if (typeof decodedHeader !== 'object' || decodedHeader === null || Array.isArray(decodedHeader)) {
    throw new TokenMalformed('the header is not a JSON object');
  }
  const claimsObject = decodedPayload.value;
  if (typeof claimsObject !== 'object' || claimsObject === null || Array.isArray(claimsObject)) {
    throw new TokenMalformed('the payload is not a JSON object of claims');
  }

  const totalBytes = byteLength(token);
  const claims = weighClaims(claimsObject as Record<string, unknown>, totalBytes);
  const cookieName = options.cookieName ?? DEFAULT_TOKEN_COOKIE_NAME;
  const verdicts = [
    ...evaluateHeaderLine('Authorization', `Bearer ${token}`),
    evaluateCookie(cookieName, token),
  ];
  return {
    totalBytes,
    headerBytes: header.length,
    payloadBytes: payload.length,
    signatureBytes: signature.length,
    payloadJsonBytes: byteLength(decodedPayload.json),
    alg: typeof decodedHeader['alg'] === 'string' ? decodedHeader['alg'] : undefined,
    kid: typeof decodedHeader['kid'] === 'string' ? decodedHeader['kid'] : undefined,
    claims,
    overheadBytes: totalBytes - claims.reduce((sum, claim) => sum + claim.encodedBytes, 0),
    verdicts,
    fits: verdicts.every((v) => v.fits),
  };
}
