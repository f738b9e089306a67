import { Controller, Get, Header } from '@nestjs/common';

/** The demo page: plain HTML and a few lines of script, talking only to the gateway's own endpoints. */
@Controller()
export class DemoPageController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  @Header(
    'content-security-policy',
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  )
  page(): string {
    return DEMO_PAGE;
  }
}

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
<body>
<h1>Cloakroom</h1>
<p class="muted">The tokens stay in the cloakroom (server-side, encrypted); the browser holds a 43-character ticket.</p>

<div class="card">
  <div id="who">Checking the session…</div>
  <p>
    <button id="login" hidden>Log in</button>
    <button id="logout" hidden>Log out</button>
  </p>
</div>

<div class="card" id="sizes" hidden>
  <table>
    <tr><th>What</th><th>Where</th><th class="num">Bytes</th></tr>
    <tr><td>Access token</td><td>gateway (Redis, encrypted)</td><td class="num" id="size-access"></td></tr>
    <tr><td>ID token</td><td>gateway (Redis, encrypted)</td><td class="num" id="size-id"></td></tr>
    <tr><td>Refresh token</td><td>gateway (Redis, encrypted)</td><td class="num" id="size-refresh"></td></tr>
    <tr><td><strong>Session cookie</strong></td><td>your browser</td><td class="num" id="size-cookie"></td></tr>
  </table>
</div>

<div class="card" id="budget" hidden>
  <strong>Token budget</strong> <span class="muted">(the access token, had it travelled to your browser)</span>
  <table id="budget-claims"></table>
  <table id="budget-limits"></table>
</div>

<div class="card">
  <button id="whoami">Call /api/whoami</button>
  <pre id="answer" class="muted">No call yet.</pre>
</div>

<script>
const $ = (id) => document.getElementById(id);
async function refresh() {
  const response = await fetch('/auth/session', { credentials: 'same-origin' });
  const session = await response.json();
  $('login').hidden = session.authenticated;
  $('logout').hidden = !session.authenticated;
  $('sizes').hidden = !session.authenticated;
  if (!session.authenticated) {
    $('who').textContent = 'Nobody is logged in.';
    return;
  }
  const user = session.user;
  $('who').textContent = 'Logged in as ' + (user.name || user.sub) + (user.email ? ' <' + user.email + '>' : '') +
    (user.groupsCount === undefined ? '' : ', member of ' + user.groupsCount + ' groups') + '. Session ends at the latest ' + new Date(session.expiresAt).toLocaleString() + '.';
  $('size-access').textContent = session.sizes.accessToken.toLocaleString();
  $('size-id').textContent = session.sizes.idToken.toLocaleString();
  $('size-refresh').textContent = session.sizes.refreshToken.toLocaleString();
  $('size-cookie').textContent = session.sizes.cookie.toLocaleString();
  showBudget(session.budget);
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
refresh().catch((error) => { $('who').textContent = 'Could not read the session: ' + error; });
</script>
</body>
</html>
`;
