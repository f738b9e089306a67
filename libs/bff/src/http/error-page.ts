/** What a person reads when a page of the gateway fails: a heading, a sentence and a way on. */
export interface ErrorPage {
  title: string;
  sentence: string;
  link: { href: string; text: string };
}

export const ERROR_PAGE_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The page as HTML. Only the fixed texts below go in: nothing from the request is echoed. */
export function renderErrorPage(status: number, page: ErrorPage): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · Cloakroom</title>
<style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #1d1d1f; } .muted { color: #666; }</style>
</head>
<body>
<h1>${page.title}</h1>
<p>${page.sentence}</p>
<p><a href="${page.link.href}">${page.link.text}</a></p>
<p class="muted">Error ${status}</p>
</body>
</html>
`;
}

const SIGN_IN_AGAIN = { href: '/auth/login', text: 'Sign in again' };
const START_PAGE = { href: '/', text: 'Back to the start page' };

export const PAGES = {
  unauthenticated: {
    title: 'Not signed in',
    sentence: 'You are not signed in, or your session has ended.',
    link: { href: '/auth/login', text: 'Sign in' },
  },
  csrf: {
    title: 'Request refused',
    sentence: 'This request was refused because it did not come from this site’s own pages.',
    link: START_PAGE,
  },
  loginFailed: {
    title: 'Sign-in failed',
    sentence: 'The sign-in could not be completed. Nothing was changed; you can simply try again.',
    link: SIGN_IN_AGAIN,
  },
  loginUnknown: {
    title: 'Sign-in failed',
    sentence:
      'The sign-in could not be completed: this browser no longer holds the sign-in it started. It may have taken too long, or cookies may be blocked for this site.',
    link: SIGN_IN_AGAIN,
  },
  storeUnavailable: {
    title: 'Session store unavailable',
    sentence:
      'The session store is unavailable right now, so nobody can sign in or stay signed in. Please try again in a minute.',
    link: START_PAGE,
  },
  issuerUnavailable: {
    title: 'Sign-in service unavailable',
    sentence: 'The sign-in service cannot be reached right now. Please try again in a minute.',
    link: SIGN_IN_AGAIN,
  },
  upstreamUnavailable: {
    title: 'Service unavailable',
    sentence: 'The service behind this page could not answer right now. Please try again in a minute.',
    link: START_PAGE,
  },
  notFound: { title: 'Not found', sentence: 'There is no page at this address.', link: START_PAGE },
  badRequest: { title: 'Bad request', sentence: 'The request could not be understood.', link: START_PAGE },
  internal: {
    title: 'Something went wrong',
    sentence: 'Something went wrong on the gateway’s side. Please try again.',
    link: START_PAGE,
  },
} satisfies Record<string, ErrorPage>;
