import { evaluateHeaderLine } from './limits.js';
import type { Verdict } from './limits.js';
import { groupMatcher, shapeAccessToken, signatureLength } from './token-shaping.js';
import type { TokenEnvelope } from './token-shaping.js';

/** A user as the users file has them (only what travels in an access token). */
export interface PredictedUser {
  username: string;
  sub: string;
  groups: string[];
}

/** A resource as the resources file has it (only what shapes its access tokens). */
export interface PredictedResource {
  indicator: string;
  audience?: string;
  accessTokenFormat: 'jwt' | 'opaque';
  scopes: string[];
  groupsClaim: boolean;
  groups: string[];
  tokenBudgetBytes: number;
}

export interface PredictionContext {
  issuer: string;
  clientId: string;
  /** Signature algorithm and RSA modulus of the signing key (RS256 with 2048 bits by default). */
  alg?: string;
  rsaModulusBytes?: number;
}

export interface TokenPrediction {
  username: string;
  resource: string;
  /** `Authorization: Bearer …\r\n` bytes as issued, and as it would be without a budget. */
  bytes: number;
  bytesWithoutBudget: number;
  /** Groups the resource may see, of the user's. */
  groupsSeen: number;
  /** Claims moved to distributed claims to stay under the budget. */
  moved: string[];
  budgetBytes: number;
  fitsBudget: boolean;
  /** The line as issued against every header limit. */
  verdicts: Verdict[];
  /** The limits the token would break without its budget (what an unbounded issuer would hit). */
  wouldBreakWithoutBudget: string[];
}

/**
 * The access token a user would get for a resource, built the way the authorization server builds it (the same
 * claims, the same group patterns, the same shaping), without signing in: how big it would be, and which named
 * limit it would break, before anyone meets a 431.
 */
export function predictAccessToken(
  user: PredictedUser,
  resource: PredictedResource,
  context: PredictionContext,
): TokenPrediction {
  const admits = groupMatcher(resource.groups);
  const groups = resource.groupsClaim ? user.groups.filter(admits) : [];
  const now = 1_700_000_000;
  const payload: Record<string, unknown> = {
    ...(resource.groupsClaim ? { groups } : {}),
    jti: 'j'.repeat(43),
    sub: user.sub,
    iat: now,
    exp: now + 3600,
    scope: resource.scopes.join(' ') || undefined,
    client_id: context.clientId,
    iss: context.issuer,
    aud: resource.audience ?? resource.indicator,
  };
  const alg = context.alg ?? 'RS256';
  const envelope: TokenEnvelope = {
    header: { alg, typ: 'at+jwt', kid: 'k'.repeat(43) },
    signatureBytes: signatureLength(alg, context.rsaModulusBytes ?? 256),
  };
  const shaped = shapeAccessToken(JSON.parse(JSON.stringify(payload)) as Record<string, unknown>, envelope, {
    budgetBytes: resource.tokenBudgetBytes,
    claimsEndpoint: `${context.issuer.replace(/\/$/, '')}/claims`,
  });
  const token = (bytes: number) => 'x'.repeat(bytes - 'Authorization: Bearer \r\n'.length);
  return {
    username: user.username,
    resource: resource.indicator,
    bytes: shaped.bytes,
    bytesWithoutBudget: shaped.bytesBefore,
    groupsSeen: groups.length,
    moved: shaped.moved,
    budgetBytes: resource.tokenBudgetBytes,
    fitsBudget: shaped.fits,
    verdicts: evaluateHeaderLine('Authorization', `Bearer ${token(shaped.bytes)}`),
    wouldBreakWithoutBudget: evaluateHeaderLine('Authorization', `Bearer ${token(shaped.bytesBefore)}`)
      .filter((v) => !v.fits)
      .map((v) => v.limit),
  };
}

/** One line per user and resource, then what to do about any that does not fit. */
export function formatPredictions(predictions: TokenPrediction[]): string {
  const lines = ['Access tokens as they would be issued (the Authorization: Bearer line, CRLF included):'];
  for (const p of predictions) {
    const over = p.verdicts.filter((v) => !v.fits).map((v) => v.limit);
    const shaped =
      p.moved.length > 0
        ? `; ${p.moved.join(', ')} moved to distributed claims (would be ${p.bytesWithoutBudget.toLocaleString('en-US')} B${
            p.wouldBreakWithoutBudget.length > 0 ? `, over ${p.wouldBreakWithoutBudget.join(', ')}` : ''
          })`
        : '';
    const verdict = !p.fitsBudget
      ? ` OVER its budget of ${p.budgetBytes.toLocaleString('en-US')} B even without its movable claims`
      : over.length > 0
        ? ` OVER ${over.join(', ')}`
        : '';
    lines.push(
      `  ${p.username} → ${p.resource}: ${p.bytes.toLocaleString('en-US')} B, ${p.groupsSeen.toLocaleString('en-US')} groups seen${shaped}${verdict}`,
    );
  }
  const bad = predictions.filter((p) => !p.fitsBudget || p.verdicts.some((v) => !v.fits));
  lines.push(
    bad.length === 0
      ? 'Every token fits its budget and every header limit.'
      : `${bad.length} token(s) would not fit: raise tokenBudgetBytes only as far as every proxy on the way allows, or narrow the resource's groups patterns.`,
  );
  return `${lines.join('\n')}\n`;
}
