import type { CookieHeaderAnalysis } from './cookie-analysis.js';
import type { Verdict } from './limits.js';
import type { ClaimWeight, TokenAnalysis } from './token-analysis.js';

/** "7,412 B": grouping makes sizes readable at a glance in a terminal. */
export function formatBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} B`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function claimLines(claims: readonly ClaimWeight[], indent: string, max = 20): string[] {
  const width = Math.max(5, ...claims.slice(0, max).map((c) => c.name.length));
  const lines = claims
    .slice(0, max)
    .map(
      (c) =>
        `${indent}${c.name.padEnd(width)}  ${formatBytes(c.encodedBytes).padStart(10)}  ${percent(c.share).padStart(6)}`,
    );
  if (claims.length > max) {
    const rest = claims.slice(max).reduce((sum, c) => sum + c.encodedBytes, 0);
    lines.push(`${indent}… ${claims.length - max} more claims, ${formatBytes(rest)} together`);
  }
  return lines;
}

function verdictLines(verdicts: readonly Verdict[], indent: string): string[] {
  return verdicts.flatMap((v) => {
    const mark = v.fits ? 'ok  ' : 'OVER';
    const room = v.fits
      ? `${formatBytes(v.headroomBytes)} to spare`
      : `${formatBytes(-v.headroomBytes)} over`;
    const lines = [
      `${indent}${mark} ${v.subject}: ${formatBytes(v.measuredBytes)} / ${formatBytes(v.limitBytes)}, ${room}`,
      `${indent}     ${v.limit}: ${v.source}`,
    ];
    if (!v.fits) lines.push(`${indent}     → ${v.consequence}`);
    return lines;
  });
}

/** "groups 7,412 B, permissions 352 B": the heaviest claims in one line, for logs. */
export function summarizeClaims(claims: readonly ClaimWeight[], n = 3): string {
  return claims
    .slice(0, n)
    .map((c) => `${c.name} ${formatBytes(c.encodedBytes)}`)
    .join(', ');
}

export function formatTokenReport(analysis: TokenAnalysis): string {
  const lines = [
    `Token: ${formatBytes(analysis.totalBytes)}${analysis.alg ? ` (${analysis.alg})` : ''}`,
    `  header ${formatBytes(analysis.headerBytes)}, payload ${formatBytes(analysis.payloadBytes)} ` +
      `(${formatBytes(analysis.payloadJsonBytes)} of JSON), signature ${formatBytes(analysis.signatureBytes)}`,
    `Claims by weight (share of the encoded token; the rest, ${formatBytes(analysis.overheadBytes)}, is ` +
      'header, signature, separators and rounding):',
    ...claimLines(analysis.claims, '  '),
    'Limits:',
    ...verdictLines(analysis.verdicts, '  '),
    analysis.fits ? 'Fits every limit.' : `Exceeds ${countOver(analysis.verdicts)}.`,
  ];
  return `${lines.join('\n')}\n`;
}

function countOver(verdicts: readonly Verdict[]): string {
  const over = verdicts.filter((v) => !v.fits).length;
  return over === 1 ? '1 limit' : `${over} limits`;
}

export function formatCookieReport(analysis: CookieHeaderAnalysis): string {
  const width = Math.max(4, ...analysis.cookies.map((c) => c.name.length));
  const lines = [
    `Cookie header: ${formatBytes(analysis.headerLineBytes)} as a header line, ` +
      `${analysis.cookies.length} cookie${analysis.cookies.length === 1 ? '' : 's'}`,
    ...analysis.cookies.map(
      (c) =>
        `  ${(c.name || '(no name)').padEnd(width)}  ${formatBytes(c.nameValueBytes).padStart(10)}` +
        (c.token ? `  JWT: ${summarizeClaims(c.token.claims)}` : ''),
    ),
  ];
  for (const chunk of analysis.chunked) {
    lines.push(
      `Chunked cookie ${chunk.name} (${chunk.chunks.join(', ')}): ${formatBytes(chunk.valueBytes)} reassembled` +
        (chunk.token ? ', a JWT' : ''),
    );
  }
  for (const token of [
    ...analysis.cookies.filter((c) => c.token).map((c) => ({ name: c.name, token: c.token! })),
    ...analysis.chunked.filter((c) => c.token).map((c) => ({ name: c.name, token: c.token! })),
  ]) {
    lines.push(`Claims of the JWT in ${token.name} (${formatBytes(token.token.totalBytes)}):`);
    lines.push(...claimLines(token.token.claims, '  ', 10));
  }
  lines.push('Limits:', ...verdictLines(analysis.verdicts, '  '));
  lines.push(analysis.fits ? 'Fits every limit.' : `Exceeds ${countOver(analysis.verdicts)}.`);
  return `${lines.join('\n')}\n`;
}

/** The `--json` form: the analysis itself, stable keys, no claim values and no token. */
export function formatJsonReport(analysis: TokenAnalysis | CookieHeaderAnalysis): string {
  return `${JSON.stringify(analysis, null, 2)}\n`;
}
