import { byteLength, evaluateCookie, evaluateHeaderLine } from './limits.js';
import type { Verdict } from './limits.js';
import { isJwtShaped } from './jwt-shape.js';
import { analyzeToken, TokenMalformed } from './token-analysis.js';
import type { TokenAnalysis } from './token-analysis.js';

export interface CookieWeight {
  readonly name: string;
  readonly valueBytes: number;
  /** What the browser limit counts: name + value. */
  readonly nameValueBytes: number;
  /** Present when the value is a JWT. */
  readonly token?: TokenAnalysis;
}

/** Cookies `name.0`, `name.1` … that together carry one value too big for a single cookie. */
export interface ChunkedCookie {
  readonly name: string;
  readonly chunks: readonly string[];
  /** Bytes of the reassembled value. */
  readonly valueBytes: number;
  readonly token?: TokenAnalysis;
}

export interface CookieHeaderAnalysis {
  /** Bytes of the header value (what follows `Cookie: `). */
  readonly headerValueBytes: number;
  /** Bytes of the whole line `Cookie: …` without CRLF. */
  readonly headerLineBytes: number;
  /** Heaviest first. */
  readonly cookies: readonly CookieWeight[];
  readonly chunked: readonly ChunkedCookie[];
  /** Each cookie against the browser limit, then the whole header line against header limits. */
  readonly verdicts: readonly Verdict[];
  readonly fits: boolean;
}

const CHUNK = /^(.+)\.(\d{1,3})$/;

function tokenOf(cookieName: string, value: string): TokenAnalysis | undefined {
  const unquoted =
    value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (!isJwtShaped(unquoted)) return undefined;
  try {
    return analyzeToken(unquoted, { cookieName });
  } catch (error) {
    // A value that only looks like a JWT is weighed as an opaque cookie.
    if (error instanceof TokenMalformed) return undefined;
    throw error;
  }
}

/** Parses a Cookie request header (with or without the leading `Cookie:`) and weighs each cookie. */
export function analyzeCookieHeader(header: string): CookieHeaderAnalysis {
  const value = header.trim().replace(/^cookie:\s*/i, '');
  const pairs = value
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const eq = pair.indexOf('=');
      // A pair without '=' is a name-less cookie per RFC 6265bis; its text is the value.
      return eq < 0
        ? { name: '', value: pair }
        : { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
    });

  const cookies: CookieWeight[] = pairs
    .map(({ name, value: cookieValue }) => {
      const token = tokenOf(name, cookieValue);
      const valueBytes = byteLength(cookieValue);
      return { name, valueBytes, nameValueBytes: byteLength(name) + valueBytes, ...(token ? { token } : {}) };
    })
    .sort((a, b) => b.nameValueBytes - a.nameValueBytes || a.name.localeCompare(b.name));

  const groups = new Map<string, { index: number; value: string }[]>();
  for (const pair of pairs) {
    const match = CHUNK.exec(pair.name);
    if (!match) continue;
    const [, base, index] = match as unknown as [string, string, string];
    groups.set(base, [...(groups.get(base) ?? []), { index: Number(index), value: pair.value }]);
  }
  const chunked: ChunkedCookie[] = [...groups.entries()]
    .filter(([, parts]) => parts.some((p) => p.index === 0))
    .map(([name, parts]) => {
      const ordered = [...parts].sort((a, b) => a.index - b.index);
      const whole = ordered.map((p) => p.value).join('');
      const token = tokenOf(name, whole);
      return {
        name,
        chunks: ordered.map((p) => `${name}.${p.index}`),
        valueBytes: byteLength(whole),
        ...(token ? { token } : {}),
      };
    });

  const verdicts = [
    ...pairs.map((pair) => evaluateCookie(pair.name, pair.value)),
    ...evaluateHeaderLine('Cookie', value),
  ];
  return {
    headerValueBytes: byteLength(value),
    headerLineBytes: byteLength(`Cookie: ${value}`),
    cookies,
    chunked,
    verdicts,
    fits: verdicts.every((v) => v.fits),
  };
}
