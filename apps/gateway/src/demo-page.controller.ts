import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { BFF_BACKEND, BffConfig, PAGES } from '@cloakroom/bff';
import type { BffBackend } from '@cloakroom/bff';
import { SealedStore } from '@cloakroom/sealed-store';

/** The demo page: plain HTML and a few lines of script, talking only to the gateway's own endpoints. */
@Controller()
export class DemoPageController {
  private readonly storeName: string;
  /** The proxied route prefixes, for the page's hop measurements (HTML-escaped: an attribute value). */
  private readonly routes: string;

  constructor(
    @Inject(SealedStore) private readonly store: SealedStore,
    @Inject(BFF_BACKEND) backend: BffBackend,
    @Inject(BffConfig) config: BffConfig,
  ) {
    this.storeName = backend.description;
    this.routes = config.routes
      .map((route) => route.prefix)
      .join(' ')
      .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  /** 503 while the session store is away: nobody can log in or stay logged in, and the page says so. */
  @Get()
  async page(@Res() res: Response): Promise<void> {
    const available = await this.store.ping().then(
      () => true,
      () => false,
    );
    res.status(available ? 200 : 503).set({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': PAGE_SECURITY_POLICY,
    });
    res.send(
      DEMO_PAGE.replaceAll('{{store}}', this.storeName)
        .replace('{{store-state}}', available ? 'available' : 'unavailable')
        .replace('{{who}}', available ? 'Checking the session…' : PAGES.storeUnavailable.sentence)
        .replace('{{routes}}', this.routes),
    );
  }
}

const PAGE_SECURITY_POLICY =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cloakroom demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
  h1 { font-size: 1.6rem; margin-bottom: .2rem; }
  .muted { color: #666; }
  .card { border: 1px solid #ddd; border-radius: 8px; padding: 1rem 1.2rem; margin: 1rem 0; }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  button { font: inherit; padding: .4rem .9rem; margin-right: .5rem; cursor: pointer; }
  pre { background: #f6f6f6; padding: .8rem; overflow: auto; max-height: 20rem; }
  .over { color: #b00020; font-weight: 600; }
</style>
</head>
<body data-store="{{store-state}}" data-routes="{{routes}}">
<h1>Cloakroom</h1>
<p class="muted">The tokens stay in the cloakroom (server-side, encrypted); the browser holds a 43-character ticket.</p>

<div class="card">
  <div id="who">{{who}}</div>
  <div id="expiry" class="muted"></div>
  <p>
    <button id="login" hidden>Log in</button>
    <button id="logout" hidden>Log out</button>
  </p>
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

<script>
const $ = (id) => document.getElementById(id);
const STORE_DOWN = ${JSON.stringify(PAGES.storeUnavailable.sentence)};
const when = (iso) => new Date(iso).toLocaleString();
async function refresh() {
  const response = await fetch('/auth/session', { credentials: 'same-origin' });
  const session = await response.json().catch(() => ({}));
  const down = response.status === 503 || (!session.authenticated && document.body.dataset.store === 'unavailable');
  $('login').hidden = session.authenticated || down;
  $('logout').hidden = !session.authenticated;
  $('sizes').hidden = !session.authenticated;
  $('expiry').textContent = '';
  if (!response.ok || !session.authenticated) {
    $('who').textContent = down ? STORE_DOWN : response.ok ? 'Nobody is logged in.' : 'The session could not be read (' + response.status + ').';
    return;
  }
  const user = session.user;
  $('who').textContent = 'Logged in as ' + (user.name || user.sub) + (user.email ? ' <' + user.email + '>' : '') +
    (user.groupsCount === undefined ? '' : ', member of ' + user.groupsCount + ' groups') + '.';
  $('expiry').textContent = 'Without activity the session ends at ' + when(session.idleExpiresAt) +
    ' (each request pushes this back); in any case it ends at ' + when(session.absoluteExpiresAt) + ', its absolute limit.';
  $('size-access').textContent = session.sizes.accessToken.toLocaleString();
  $('size-id').textContent = session.sizes.idToken.toLocaleString();
  $('size-refresh').textContent = session.sizes.refreshToken.toLocaleString();
  $('size-cookie').textContent = session.sizes.cookie.toLocaleString();
  const name = session.sizes.cookieName;
  $('cookie-note').textContent = 'The ' + session.sizes.cookie + ' bytes are what your browser sends with every request, and what it counts against its 4,096-byte limit: the name ' +
    name + ' (' + name.length + ') + "=" (1) + the ticket (' + (session.sizes.cookie - name.length - 1) + '). The attributes (HttpOnly, SameSite=Lax, Path=/ and, over https, Secure) came once, with the login, and are never sent back.';
  showBudget(session.budget);
  measureHops(session).catch(() => undefined);
}
let lastSession;
async function measureHops(session) {
  lastSession = session;
  const table = $('hop-table');
  table.replaceChildren(row([['Hop'], ['Header line'], ['Bytes', 'num'], ['Groups seen', 'num'], ['Verdict']], true));
  const verdict = (bytes) => bytes <= 8192 ? ['fits', ''] : ['over by ' + (bytes - 8192).toLocaleString(), 'over'];
  const cookieLine = 'Cookie: '.length + session.sizes.cookie + 2;
  table.appendChild(row([['browser → gateway'], ['Cookie'], [cookieLine.toLocaleString(), 'num'], ['', 'num'], verdict(cookieLine)]));
  for (const prefix of (document.body.dataset.routes || '').split(' ').filter(Boolean)) {
    // The demo APIs serve /api/whoami under their base path: /api itself, or /directory/api/whoami.
    const path = (prefix === '/api' ? '' : (prefix.endsWith('/') ? prefix.slice(0, -1) : prefix)) + '/api/whoami';
    const response = await fetch(path, { credentials: 'same-origin' });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok || typeof answer.tokenBytes !== 'number') {
      table.appendChild(row([['gateway → ' + prefix], ['Authorization'], ['', 'num'], ['', 'num'], [response.status + ' ' + (answer.reason || answer.error || response.statusText), 'over']]));
      continue;
    }
    const line = 'Authorization: Bearer '.length + answer.tokenBytes + 2;
    table.appendChild(row([['gateway → ' + prefix], ['Authorization'], [line.toLocaleString(), 'num'], [typeof answer.groupsCount === 'number' ? answer.groupsCount.toLocaleString() : '', 'num'], verdict(line)]));
  }
  $('hops').hidden = false;
}
function row(cells, header) {
  const tr = document.createElement('tr');
  for (const [text, cls] of cells) {
    const cell = document.createElement(header ? 'th' : 'td');
    cell.textContent = text;
    if (cls) cell.className = cls;
    tr.appendChild(cell);
  }
  return tr;
}
function showBudget(budget) {
  $('budget').hidden = !budget;
  if (!budget) return;
  const claims = $('budget-claims');
  claims.replaceChildren(row([['Heaviest claims'], ['Bytes', 'num'], ['Share', 'num']], true));
  for (const claim of budget.claims) {
    claims.appendChild(row([[claim.name], [claim.bytes.toLocaleString(), 'num'], [Math.round((claim.bytes / budget.totalBytes) * 100) + '%', 'num']]));
  }
  const limits = $('budget-limits');
  limits.replaceChildren(row([['Limit'], ['As'], ['Bytes', 'num'], ['Verdict']], true));
  for (const limit of budget.limits) {
    const verdict = limit.fits ? 'fits' : 'over by ' + (limit.measuredBytes - limit.limitBytes).toLocaleString();
    limits.appendChild(row([[limit.title], [limit.subject], [limit.measuredBytes.toLocaleString() + ' / ' + limit.limitBytes.toLocaleString(), 'num'], [verdict, limit.fits ? '' : 'over']]));
  }
}
$('measure').onclick = () => { if (lastSession) measureHops(lastSession).catch(() => undefined); };
$('login').onclick = () => { location.href = '/auth/login?returnTo=/'; };
$('logout').onclick = async () => {
  const response = await fetch('/auth/logout', { method: 'POST', headers: { 'X-CSRF': '1' }, credentials: 'same-origin' });
  const result = await response.json();
  if (result.endSessionUrl) location.href = result.endSessionUrl; else refresh();
};
$('whoami').onclick = async () => {
  $('answer').textContent = 'Calling…';
  try {
    const response = await fetch('/api/whoami', { credentials: 'same-origin' });
    const text = await response.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch {}
    $('answer').textContent = response.status + ' ' + response.statusText + '\\n' + shown;
  } catch (error) {
    $('answer').textContent = 'Request failed: ' + error;
  }
};
refresh().catch((error) => { $('who').textContent = 'The session could not be read: ' + error; });
</script>
</body>
</html>
`;
