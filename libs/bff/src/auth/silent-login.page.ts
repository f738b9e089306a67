import { createHash } from 'node:crypto';

/** The `source` of the message a silent login's iframe posts to its parent page. */
export const SILENT_LOGIN_MESSAGE_SOURCE = 'cloakroom-silent-login';

/** What a silent login ended with: signed in, or the authorization server's reason (`login_required` …). */
export interface SilentLoginResult {
  loggedIn: boolean;
  error?: string;
}

/** The answers of the authorization server a single-page app can act on; anything else reads `login_failed`. */
const KNOWN_ERRORS = new Set([
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
]);

export function silentLoginError(error: string | null | undefined): string {
  return error && KNOWN_ERRORS.has(error) ? error : 'login_failed';
}

/**
 * The page a hidden iframe ends on: one script that posts the result to the parent page, only if the parent is on
 * the gateway's own origin (`targetOrigin`; the page may be framed only by the gateway's own pages as well). The
 * script is allowed by its hash, nothing else may run or load.
 */
export function silentLoginPage(origin: string, result: SilentLoginResult): { html: string; csp: string } {
  const message = JSON.stringify({ source: SILENT_LOGIN_MESSAGE_SOURCE, ...result });
  // Only fixed words and the configured origin go in; `<` is escaped all the same, so no value can end the script.
  const script = `parent.postMessage(${message}, ${JSON.stringify(origin)});`.replaceAll('<', '\\u003c');
  const hash = createHash('sha256').update(script).digest('base64');
  return {
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Silent sign-in</title></head><body><script>${script}</script></body></html>`,
    csp: `default-src 'none'; script-src 'sha256-${hash}'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'`,
  };
}

/** Where a top-level silent login returns: the page it came from, told the outcome in its fragment. */
export function silentLoginReturn(returnTo: string, result: SilentLoginResult): string {
  const path = returnTo.split('#')[0];
  return `${path}#silent-login=${result.loggedIn ? 'ok' : result.error}`;
}
