import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import {
  analyzeCookieHeader,
  analyzeToken,
  evaluateCookie,
  evaluateHeaderLine,
  formatCookieReport,
  formatJsonReport,
  formatTokenReport,
  heaviestClaims,
  summarizeClaims,
  TokenMalformed,
} from './index.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/** An unsigned-looking compact JWS with exact, chosen JSON: sizes are computed by hand below. */
function craft(payloadJson: string, signature = 'c2ln'): string {
  return `${b64('{"alg":"HS256"}')}.${b64(payloadJson)}.${signature}`;
}

describe('analyzeToken', () => {
  it('measures segments and weighs each claim as its JSON member × 4/3', () => {
    // {"sub":"u1","groups":["aaaaaa","bbbbbb"],"x":1}
    // "sub":"u1",              → 11 bytes → 14.67 → 15
    // "groups":["aaaaaa","bbbbbb"], → 29 bytes → 38.67 → 39
    // "x":1                    → 5 bytes (last, no comma) → 6.67 → 7
    const json = '{"sub":"u1","groups":["aaaaaa","bbbbbb"],"x":1}';
    expect(Buffer.byteLength(json)).toBe(47);
    const token = craft(json);
    const analysis = analyzeToken(token);
    expect(analysis.headerBytes).toBe(20); // 15 bytes of JSON → 20 characters
    expect(analysis.payloadBytes).toBe(63); // 47 bytes → 62.67 → 63 characters (no padding)
    expect(analysis.signatureBytes).toBe(4);
    expect(analysis.totalBytes).toBe(20 + 1 + 63 + 1 + 4);
    expect(analysis.payloadJsonBytes).toBe(47);
    expect(analysis.alg).toBe('HS256');
    expect(analysis.claims.map((c) => [c.name, c.jsonBytes, c.encodedBytes])).toEqual([
      ['groups', 29, 39],
      ['sub', 11, 15],
      ['x', 5, 7],
    ]);
    expect(analysis.overheadBytes).toBe(89 - 61);
    expect(analysis.claims.reduce((s, c) => s + c.encodedBytes, 0) + analysis.overheadBytes).toBe(89);
    expect(analysis.claims[0]!.share).toBeCloseTo(39 / 89, 10);
  });

  it('names the heavy claims of a real signed token, heaviest first, adding up to the total', async () => {
    const groups = Array.from({ length: 300 }, (_, i) => `group-${String(i).padStart(4, '0')}`);
    const permissions = Array.from({ length: 15 }, (_, i) => `perm:${i}`);
    const jwt = await new SignJWT({ groups, permissions, name: 'Ada' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('user-1')
      .setIssuedAt(1_700_000_000)
      .sign(new TextEncoder().encode('s'.repeat(32)));
    const analysis = analyzeToken(jwt);
    expect(analysis.totalBytes).toBe(jwt.length);
    expect(analysis.kid).toBe('k1');
    expect(analysis.signatureBytes).toBe(43); // 32-byte HMAC
    // iat "iat":1700000000, 17 B; sub "sub":"user-1", 15 B; name "name":"Ada" 12 B (last member)
    expect(analysis.claims.map((c) => c.name)).toEqual(['groups', 'permissions', 'iat', 'sub', 'name']);
    // groups: "groups": + [ + 300 × "group-NNNN" (12 bytes) + 299 commas + ] + trailing comma
    const groupsJson = 9 + 2 + 300 * 12 + 299 + 1;
    expect(analysis.claims[0]!.jsonBytes).toBe(groupsJson);
    expect(analysis.claims[0]!.encodedBytes).toBe(Math.round((groupsJson * 4) / 3));
    const sum = analysis.claims.reduce((s, c) => s + c.encodedBytes, 0);
    // The overhead is the header, signature, dots and braces, give or take rounding.
    const expectedOverhead = analysis.headerBytes + analysis.signatureBytes + 2 + Math.round((2 * 4) / 3);
    expect(Math.abs(analysis.totalBytes - sum - expectedOverhead)).toBeLessThanOrEqual(3);
    expect(summarizeClaims(analysis.claims, 2)).toBe(
      `groups ${analysis.claims[0]!.encodedBytes.toLocaleString('en-US')} B, permissions ${analysis.claims[1]!.encodedBytes} B`,
    );
    expect(analysis.fits).toBe(false); // over 4 KB as a cookie
  });

  it('counts "Authorization: Bearer " in header verdicts and the cookie name in the cookie verdict', () => {
    const token = craft('{"sub":"u"}');
    const analysis = analyzeToken(token, { cookieName: 'sid' });
    const nginx = analysis.verdicts.find((v) => v.limitId === 'nginx-header-line')!;
    const apache = analysis.verdicts.find((v) => v.limitId === 'apache-field')!;
    const cookie = analysis.verdicts.find((v) => v.limitId === 'browser-cookie')!;
    expect(apache.measuredBytes).toBe('Authorization: Bearer '.length + token.length);
    expect(nginx.measuredBytes).toBe(apache.measuredBytes + 2);
    expect(cookie.measuredBytes).toBe(3 + token.length);
    expect(cookie.subject).toBe('cookie sid');
    expect(analysis.fits).toBe(true);
  });

  it('refuses what is not a compact JWS with a reason', () => {
    expect(() => analyzeToken('abc')).toThrow(TokenMalformed);
    expect(() => analyzeToken('a.b.c.d.e')).toThrow(/encrypted JWT/);
    expect(() => analyzeToken(`${b64('{"alg":"none"}')}.${b64('[1]')}.`)).toThrow(/object of claims/);
    expect(() => analyzeToken(`${b64('{"alg":"none"}')}.${b64('not json')}.`)).toThrow(
      /base64url-encoded JSON/,
    );
    expect(() => analyzeToken('a+b.c.d')).toThrow(/outside base64url/);
  });
});

describe('heaviestClaims', () => {
  it('returns the n heaviest claims by name and size only', () => {
    const payload = { sub: 'u', groups: ['x'.repeat(100)], roles: ['admin'], secret: 'pw' };
    const top = heaviestClaims(payload, 2);
    expect(top.map((c) => c.name)).toEqual(['groups', 'roles']);
    expect(top[0]!.jsonBytes).toBe('"groups":["'.length + 100 + '"],'.length);
    expect(JSON.stringify(top)).not.toContain('xxx');
    expect(heaviestClaims(payload, 0)).toEqual([]);
  });
});

describe('limits', () => {
  it('a cookie of exactly 4096 bytes of name + value fits, 4097 does not', () => {
    expect(evaluateCookie('n', 'v'.repeat(4095))).toMatchObject({
      measuredBytes: 4096,
      fits: true,
      headroomBytes: 0,
    });
    expect(evaluateCookie('n', 'v'.repeat(4096))).toMatchObject({
      measuredBytes: 4097,
      fits: false,
      headroomBytes: -1,
    });
  });

  it('applies nginx to the line with CRLF (8192) and Apache to the field without it (8190)', () => {
    const prefix = 'Authorization: Bearer '.length; // 22
    const at = (length: number) =>
      evaluateHeaderLine('Authorization', `Bearer ${'t'.repeat(length - prefix)}`);
    const fits = (line: number, id: string) => at(line).find((v) => v.limitId === id)!.fits;
    expect(fits(8190, 'apache-field')).toBe(true);
    expect(fits(8191, 'apache-field')).toBe(false);
    expect(fits(8190, 'nginx-header-line')).toBe(true); // + CRLF = 8192
    expect(fits(8191, 'nginx-header-line')).toBe(false);
    expect(fits(16384, 'load-balancer-header')).toBe(true);
    expect(fits(16385, 'load-balancer-header')).toBe(false);
    expect(fits(16382, 'node-headers')).toBe(true);
    expect(fits(16383, 'node-headers')).toBe(false);
  });

  it('gives every verdict an official source', () => {
    for (const v of evaluateHeaderLine('Cookie', 'a=b')) expect(v.source).toMatch(/^https:\/\//);
    expect(evaluateCookie('a', 'b').source).toMatch(/rfc6265bis/);
  });
});

describe('analyzeCookieHeader', () => {
  it('weighs each cookie by name + value and the header as a whole line', () => {
    const header = 'a=1; theme=dark; big=' + 'x'.repeat(5000);
    const analysis = analyzeCookieHeader(`Cookie: ${header}`);
    expect(analysis.headerValueBytes).toBe(header.length);
    expect(analysis.headerLineBytes).toBe(header.length + 'Cookie: '.length);
    expect(analysis.cookies.map((c) => [c.name, c.nameValueBytes])).toEqual([
      ['big', 5003],
      ['theme', 9],
      ['a', 2],
    ]);
    const over = analysis.verdicts.filter((v) => !v.fits);
    expect(over.map((v) => v.subject)).toEqual(['cookie big']);
    expect(analysis.fits).toBe(false);
  });

  it('draws the cookie boundary at exactly 4096 bytes of one cookie, not of the header', () => {
    const fitting = analyzeCookieHeader(`session=${'v'.repeat(4096 - 7)}; other=1`);
    expect(fitting.cookies[0]!.nameValueBytes).toBe(4096);
    expect(fitting.fits).toBe(true);
    const over = analyzeCookieHeader(`session=${'v'.repeat(4097 - 7)}; other=1`);
    expect(over.fits).toBe(false);
  });

  it('weighs a value that only looks like a JWT as an opaque cookie', () => {
    const fake = `${b64('{"alg":"HS256"}')}.${b64('[1,2]')}.sig`;
    const analysis = analyzeCookieHeader(`x=${fake}`);
    expect(analysis.cookies[0]).toEqual({
      name: 'x',
      valueBytes: fake.length,
      nameValueBytes: fake.length + 1,
    });
  });

  it('analyses JWT cookies and reassembles chunked ones', async () => {
    const jwt = await new SignJWT({ groups: Array.from({ length: 400 }, (_, i) => `g${i}`) })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('k'.repeat(32)));
    const half = Math.ceil(jwt.length / 2);
    const header = `auth.1=${jwt.slice(half)}; auth.0=${jwt.slice(0, half)}; id=${jwt}`;
    const analysis = analyzeCookieHeader(header);
    expect(analysis.chunked).toHaveLength(1);
    expect(analysis.chunked[0]).toMatchObject({
      name: 'auth',
      chunks: ['auth.0', 'auth.1'],
      valueBytes: jwt.length,
    });
    expect(analysis.chunked[0]!.token?.totalBytes).toBe(jwt.length);
    expect(analysis.chunked[0]!.token?.claims[0]!.name).toBe('groups');
    const id = analysis.cookies.find((c) => c.name === 'id')!;
    expect(id.token?.totalBytes).toBe(jwt.length);
    expect(analysis.cookies.find((c) => c.name === 'auth.0')!.token).toBeUndefined();
  });
});

describe('reports', () => {
  it('prints sizes, claims, limits with sources, and never the claim values', () => {
    const token = craft(JSON.stringify({ sub: 'user-42', groups: Array(600).fill('engineering') }));
    const text = formatTokenReport(analyzeToken(token));
    expect(text).toMatch(/^Token: [\d,]+ B \(HS256\)/);
    expect(text).toMatch(/groups\s+[\d,]+ B/);
    expect(text).toContain(
      'https://nginx.org/en/docs/http/ngx_http_core_module.html#large_client_header_buffers',
    );
    expect(text).toContain('OVER cookie token');
    expect(text).not.toContain('engineering');
    expect(text).not.toContain('user-42');
    const json = JSON.parse(formatJsonReport(analyzeToken(token))) as { totalBytes: number; fits: boolean };
    expect(json.totalBytes).toBe(token.length);
    expect(json.fits).toBe(false);
  });

  it('prints a cookie report', () => {
    const text = formatCookieReport(analyzeCookieHeader(`a=1; s=${craft('{"groups":["g"]}')}`));
    expect(text).toContain('2 cookies');
    expect(text).toContain('JWT: groups');
    expect(text).toContain('Fits every limit.');
  });
});
