const BASE = new URL('http://gateway.invalid');
const MAX_LENGTH = 2048;

/**
 * Where a login returns to: a path on the gateway's own origin, or `/`. The decision is made on the
 * normalised value, the one the browser is sent: `/.//evil.example` and `/%2e//evil.example` are single-slash
 * paths as given and `//evil.example` once their dot segments are resolved.
 */
export function returnToPath(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return '/';
  // Browsers read `\` as `/` and drop tabs and newlines before parsing: refuse them rather than guess.
  // eslint-disable-next-line no-control-regex
  if (!value.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(value)) return '/';
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return '/';
  }
  if (url.origin !== BASE.origin) return '/';
  const path = url.pathname + url.search + url.hash;
  if (!isLocalPath(path)) return '/';
  // An encoded slash or backslash in the path only helps a later decoder turn it into another origin.
  if (/%(2f|5c)/i.test(url.pathname)) return '/';
  // The value sent must resolve to itself, so no second parse (the browser's) can read it differently.
  const again = new URL(path, BASE);
  return again.origin === BASE.origin && again.pathname + again.search + again.hash === path ? path : '/';
}

function isLocalPath(path: string): boolean {
  return path.startsWith('/') && path[1] !== '/' && path[1] !== '\\';
}
