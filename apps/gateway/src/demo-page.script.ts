import { PAGES } from '@cloakroom/bff';

/**
 * The demo page's script, inline and allowed by its hash. It talks only to the gateway's own endpoints; the session
 * cookie stays out of its reach (HttpOnly).
 */
export const DEMO_PAGE_SCRIPT = `
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
`;
