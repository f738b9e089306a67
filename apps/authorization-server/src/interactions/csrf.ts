import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { parseCookie, stringifySetCookie } from 'cookie';

const COOKIE = 'cloakroom.csrf';

/**
 * Double-submit CSRF protection for the interaction forms: a random token in a SameSite cookie, repeated in
 * a hidden field; a cross-site page can neither read the cookie nor set it, so it cannot forge the pair.
 */
export function issueCsrfToken(req: Request, res: Response, secure: boolean): string {
  const existing = parseCookie(req.headers.cookie ?? '')[COOKIE];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  res.append(
    'Set-Cookie',
    stringifySetCookie({
      name: COOKIE,
      value: token,
      httpOnly: true,
      sameSite: 'lax',
      secure,
      path: '/interaction',
    }),
  );
  return token;
}

/** True when the form's token matches the cookie and the request does not come from another origin. */
export function csrfValid(req: Request, submitted: unknown, issuerOrigin: string): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== issuerOrigin) return false;
  const cookie = parseCookie(req.headers.cookie ?? '')[COOKIE];
  if (typeof submitted !== 'string' || !cookie) return false;
  // Compared as bytes: a string of the same length may still differ in UTF-8 length.
  const [a, b] = [Buffer.from(submitted), Buffer.from(cookie)];
  return a.length === b.length && timingSafeEqual(a, b);
}
