/** Server-rendered pages: no JavaScript, one small stylesheet, every interpolation escaped. */

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:#f3f4f6;color:#111827;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;width:min(24rem,92vw);padding:2rem;border-radius:.75rem;box-shadow:0 10px 30px rgba(0,0,0,.08)}
header{font-weight:700;letter-spacing:.02em;color:#4b5563;font-size:.85rem;text-transform:uppercase;margin-bottom:1rem}
h1{font-size:1.35rem;margin:0 0 1rem}label{display:block;font-size:.9rem;margin:.75rem 0 .25rem}
input{width:100%;padding:.6rem .7rem;border:1px solid #d1d5db;border-radius:.4rem;font:inherit}
button{width:100%;margin-top:1.25rem;padding:.65rem;border:0;border-radius:.4rem;background:#1f2937;color:#fff;font:inherit;cursor:pointer}
button.secondary{background:#e5e7eb;color:#111827;margin-top:.5rem}
.error{background:#fef2f2;color:#991b1b;padding:.6rem .8rem;border-radius:.4rem;font-size:.9rem}
ul{padding-left:1.2rem}.muted{color:#6b7280;font-size:.85rem}`;

export function escapeHtml(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function layout(appName: string, title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · ${escapeHtml(appName)}</title>
<style>${STYLE}</style></head><body><main><header>${escapeHtml(appName)}</header>${body}</main></body></html>`;
}

export interface LoginPage {
  appName: string;
  clientName: string;
  action: string;
  csrf: string;
  username?: string;
  error?: string;
}

export function loginPage(page: LoginPage): string {
  const error = page.error ? `<p class="error" role="alert">${escapeHtml(page.error)}</p>` : '';
  return layout(
    page.appName,
    'Sign in',
    `<h1>Sign in to ${escapeHtml(page.clientName)}</h1>${error}
<form method="post" action="${escapeHtml(page.action)}" autocomplete="on">
<input type="hidden" name="csrf" value="${escapeHtml(page.csrf)}">
<label for="username">Username</label>
<input id="username" name="username" required maxlength="256" autocomplete="username" value="${escapeHtml(page.username ?? '')}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required maxlength="1024" autocomplete="current-password">
<button type="submit">Sign in</button></form>`,
  );
}

export interface ConsentPage {
  appName: string;
  clientName: string;
  action: string;
  abortAction: string;
  csrf: string;
  scopes: string[];
  resources: string[];
}

export function consentPage(page: ConsentPage): string {
  const items = [...page.scopes.map((s) => `<li>${escapeHtml(s)}</li>`)];
  const resources = page.resources.length
    ? `<p class="muted">For: ${page.resources.map(escapeHtml).join(', ')}</p>`
    : '';
  return layout(
    page.appName,
    'Authorize',
    `<h1>${escapeHtml(page.clientName)} asks for access</h1><ul>${items.join('')}</ul>${resources}
<form method="post" action="${escapeHtml(page.action)}"><input type="hidden" name="csrf" value="${escapeHtml(page.csrf)}">
<button type="submit">Allow</button></form>
<form method="post" action="${escapeHtml(page.abortAction)}"><input type="hidden" name="csrf" value="${escapeHtml(page.csrf)}">
<button type="submit" class="secondary">Deny</button></form>`,
  );
}

/** The logout confirmation; `form` is oidc-provider's hidden form (it carries its own CSRF token). */
export function logoutPage(appName: string, clientName: string | undefined, form: string): string {
  const from = clientName ? ` of ${escapeHtml(clientName)}` : '';
  return layout(
    appName,
    'Sign out',
    `<h1>Sign out${from}?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
  );
}

export function loggedOutPage(appName: string, clientName: string | undefined): string {
  const from = clientName ? ` of ${escapeHtml(clientName)}` : '';
  return layout(
    appName,
    'Signed out',
    `<h1>You are signed out${from}.</h1><p class="muted">You can close this page.</p>`,
  );
}

/** OAuth error codes in words a person can act on; the code itself stays visible for support. */
const HUMAN: Record<string, string> = {
  invalid_request: 'The request was not valid. Go back to the application and try again.',
  invalid_client: 'This application is not known here.',
  invalid_redirect_uri: 'This application asked to return to an address that is not registered for it.',
  unauthorized_client: 'This application is not allowed to do that.',
  access_denied: 'Access was denied.',
  invalid_scope: 'This application asked for permissions that do not exist or are not allowed.',
  invalid_target: 'This application asked for an API it is not allowed to use.',
  login_required: 'You need to sign in first.',
  session_not_found:
    'Your sign-in took too long or was already completed. Go back to the application and start again.',
  server_error: 'Something went wrong on our side. Try again in a moment.',
  temporarily_unavailable: 'The service is temporarily unavailable. Try again in a moment.',
};

export function errorPage(appName: string, error: string, description?: string): string {
  const human =
    HUMAN[error] ?? 'The request could not be completed. Go back to the application and try again.';
  const detail =
    description && error !== 'server_error' ? `<p class="muted">${escapeHtml(description)}</p>` : '';
  return layout(
    appName,
    'Something went wrong',
    `<h1>Something went wrong</h1><p>${escapeHtml(human)}</p>${detail}<p class="muted">Error: ${escapeHtml(error)}</p>`,
  );
}
