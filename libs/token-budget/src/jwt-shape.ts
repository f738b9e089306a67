const SEGMENT = /^[A-Za-z0-9_-]*$/;

/**
 * A JWS in compact form, or an attempt at one: three dot-separated base64url segments, the first a JSON object
 * (the header). Payload and signature may be empty (an unsigned `header.payload.`), so that whoever verifies
 * refuses such a value as a bad JWT rather than taking it for an opaque token; whoever weighs one finds it
 * malformed. The one test of "is this a JWT?" for the resource server's `auto` mode, the token analysis and the
 * authorization server's size watch. A JWE (five segments) is not one.
 */
export function isJwtShaped(value: string): boolean {
  const parts = value.split('.');
  if (parts.length !== 3 || !parts[0] || !parts.every((part) => SEGMENT.test(part))) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && !Array.isArray(header);
  } catch {
    return false;
  }
}
