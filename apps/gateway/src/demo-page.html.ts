import { createHash } from 'node:crypto';
import { DEMO_PAGE_SCRIPT } from './demo-page.script.js';

/** What the gateway fills in: all of it its own configuration and state, HTML-escaped where it is a value. */
export interface DemoPageValues {
  /** Where the tokens are kept, in words ("Redis", "the gateway’s memory"). */
  store: string;
  storeState: 'available' | 'unavailable';
  /** The first sentence the page shows, before its script has asked anything. */
  who: string;
  /** The proxied route prefixes, space-separated (an attribute value: escaped). */
  routes: string;
}

const SCRIPT_HASH = createHash('sha256').update(DEMO_PAGE_SCRIPT).digest('base64');

/**
 * The demo page's Content-Security-Policy: its one inline script by hash, its inline style, calls to the gateway
 * only, and frames for the silent sign-in, which starts on the gateway, passes through the sign-in server (a frame's
 * redirects are checked too) and ends on the gateway.
 */
export function demoPagePolicy(issuerOrigin: string): string {
  return [
    "default-src 'none'",
    `script-src 'sha256-${SCRIPT_HASH}'`,
    "style-src 'unsafe-inline'",
    "connect-src 'self'",
    `frame-src 'self' ${issuerOrigin}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function renderDemoPage(values: DemoPageValues): string {
  // The values go into the markup only; the script goes in as it is, whatever they hold: its hash is in the policy.
  const markup = MARKUP.replaceAll('{{store}}', values.store)
    .replace('{{store-state}}', values.storeState)
    .replace('{{who}}', values.who)
    .replace('{{routes}}', values.routes);
  return `${markup}<script>${DEMO_PAGE_SCRIPT}</script>\n</body>\n</html>\n`;
}

const MARKUP = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cloakroom demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
  h1 { font-size: 1.6rem; margin-bottom: .2rem; }
  h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
  .muted { color: #666; }
  .card { border: 1px solid #ddd; border-radius: 8px; padding: 1rem 1.2rem; margin: 1rem 0; }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.current { font-weight: 600; }
  td.current button { margin: 0; padding: .1rem .6rem; }
  button { font: inherit; padding: .4rem .9rem; margin-right: .5rem; cursor: pointer; }
  pre { background: #f6f6f6; padding: .8rem; overflow: auto; max-height: 20rem; }
  .over { color: #b00020; font-weight: 600; }
  .warning { color: #b00020; font-weight: 600; }
</style>
</head>
<body data-store="{{store-state}}" data-routes="{{routes}}">
<h1>Cloakroom</h1>
<p class="muted">The tokens stay in the cloakroom (server-side, encrypted); the browser holds a 43-character ticket.</p>

<div class="card">
  <div id="who">{{who}}</div>
  <div id="countdown" class="muted" role="status"></div>
  <div id="expiry" class="muted"></div>
  <p>
    <button id="login" hidden>Sign in</button>
    <button id="logout" hidden>Sign out</button>
  </p>
</div>

<div class="card" id="sessions" hidden>
  <h2>Your sessions</h2>
  <table id="session-list"></table>
  <p class="muted" id="sessions-note"></p>
  <p><button id="sign-out-others" hidden>Sign out everywhere else</button></p>
</div>

<div class="card" id="sizes" hidden>
  <table>
    <tr><th>What</th><th>Where</th><th class="num">Bytes</th></tr>
    <tr><td>Access token</td><td>{{store}}, encrypted</td><td class="num" id="size-access"></td></tr>
    <tr><td>ID token</td><td>{{store}}, encrypted</td><td class="num" id="size-id"></td></tr>
    <tr><td>Refresh token</td><td>{{store}}, encrypted</td><td class="num" id="size-refresh"></td></tr>
    <tr><td><strong>Session cookie</strong></td><td>your browser</td><td class="num" id="size-cookie"></td></tr>
  </table>
  <p class="muted" id="cookie-note"></p>
</div>

<div class="card" id="budget" hidden>
  <strong>Token budget</strong> <span class="muted">(the access token, had it travelled to your browser)</span>
  <table id="budget-claims"></table>
  <table id="budget-limits"></table>
</div>

<div class="card" id="hops" hidden>
  <strong>Every hop</strong> <span class="muted">(the largest header line each hop carries; nginx's default buffer takes 8,192 bytes, Node.js 16,384 for all headers)</span>
  <table id="hop-table"></table>
  <p><button id="measure">Measure again</button></p>
</div>

<div class="card">
  <button id="whoami">Call /api/whoami</button>
  <pre id="answer" class="muted">No call yet.</pre>
</div>

`;
