import { PAGES, SILENT_LOGIN_MESSAGE_SOURCE } from '@cloakroom/bff';

/** How long the page waits for a silent sign-in's iframe to answer before it offers the button. */
export const SILENT_LOGIN_TIMEOUT_MS = 10_000;
/** The countdown turns into a warning this many seconds before the session ends unused. */
export const EXPIRY_WARNING_SECONDS = 60;
/**
 * Set in a tab once it saw its session end, a silent sign-in fail, or its person sign out: the next load of the
 * page does not sign in silently (no loop, and a session ended from another device does not come back by itself
 * while the sign-in server still knows the browser). Signing in with the button clears it.
 */
export const QUIET_KEY = 'cloakroom.silent-login';

/**
 * The demo page's script, inline and allowed by its hash. It talks only to the gateway: the session endpoints with
 * `X-CSRF: 1`, the proxied APIs, and a hidden iframe for the silent sign-in. The session cookie stays out of reach
 * (HttpOnly): everything it shows comes from the answers.
 */
export const DEMO_PAGE_SCRIPT = String.raw`
const $ = (id) => document.getElementById(id);
const STORE_DOWN = ${JSON.stringify(PAGES.storeUnavailable.sentence)};
const SILENT_LOGIN_SOURCE = ${JSON.stringify(SILENT_LOGIN_MESSAGE_SOURCE)};
const SILENT_LOGIN_TIMEOUT_MS = ${SILENT_LOGIN_TIMEOUT_MS};
const WARNING_SECONDS = ${EXPIRY_WARNING_SECONDS};
const QUIET = ${JSON.stringify(QUIET_KEY)};
const CSRF = { 'X-CSRF': '1' };
const when = (iso) => new Date(iso).toLocaleString();
const plural = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');
let signedIn = false;
let triedSilently = false;

// Every call of the page goes through here: the answer's X-Session-Expires-In moves the countdown, and the gateway's
// own 401 while signed in means the session has ended (expired, or ended from another device). An API's 401 relayed
// by the gateway came with a session, so with the header: that one is the API's business.
async function call(path, init = {}) {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  const left = response.headers.get('x-session-expires-in');
  if (left !== null && /^\d+$/.test(left)) countdown.set(Number(left));
  if (response.status === 401 && left === null && signedIn) {
    const refusal = await response.clone().json().catch(() => ({}));
    if (refusal.error === 'unauthenticated' && signedIn) ended();
  }
  return response;
}

const countdown = {
  deadline: 0,
  timer: undefined,
  checking: false,
  set(seconds) {
    this.deadline = Date.now() + seconds * 1000;
    if (this.timer === undefined) this.timer = setInterval(() => this.render(), 1000);
    this.render();
  },
  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    const el = $('countdown');
    el.textContent = '';
    el.className = 'muted';
    delete el.dataset.seconds;
  },
  render() {
    if (!signedIn || this.timer === undefined) return;
    const left = Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000));
    const el = $('countdown');
    el.dataset.seconds = String(left);
    el.className = left <= WARNING_SECONDS ? 'warning' : 'muted';
    el.textContent = left <= WARNING_SECONDS
      ? 'Your session ends in ' + clock(left) + ' unless you use it: call an API to keep it.'
      : 'Session ends in ' + clock(left) + ' without activity.';
    if (left === 0 && !this.checking) {
      // Another tab may have kept the session alive meanwhile: ask before saying it ended.
      this.checking = true;
      confirmEnd().finally(() => { this.checking = false; });
    }
  },
};

function clock(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const two = (n) => String(n).padStart(2, '0');
  return h > 0 ? h + ':' + two(m) + ':' + two(s) : m + ':' + two(s);
}

async function confirmEnd() {
  const response = await call('/auth/user', { headers: CSRF }).catch(() => undefined);
  const answer = response && (await response.json().catch(() => undefined));
  if (!signedIn) return;
  if (response && response.ok && answer) return answer.session.expiresInSeconds > 0 ? undefined : ended();
  countdown.stop();
  $('countdown').textContent = 'The session could not be checked' + (response ? ' (' + response.status + ').' : '.');
}

function ended() {
  signedIn = false;
  sessionStorage.setItem(QUIET, '1');
  countdown.stop();
  $('who').textContent = 'Your session has ended. Sign in to continue.';
  showSignedOut(false);
}

function showSignedOut(down) {
  $('login').hidden = down;
  $('logout').hidden = true;
  for (const id of ['sizes', 'budget', 'hops', 'sessions']) $(id).hidden = true;
  $('expiry').textContent = '';
}

async function start() {
  const response = await call('/auth/user', { headers: CSRF });
  const view = await response.json().catch(() => undefined);
  if (response.ok && view) {
    sessionStorage.removeItem(QUIET);
    return show(view);
  }
  const down = response.status === 503 || document.body.dataset.store === 'unavailable';
  if (response.status === 401 && !down && !triedSilently && !sessionStorage.getItem(QUIET)) {
    triedSilently = true;
    $('who').textContent = 'Looking for a session at the sign-in server…';
    const result = await silentLogin();
    if (result.loggedIn) return start();
    sessionStorage.setItem(QUIET, '1');
  }
  signedIn = false;
  countdown.stop();
  showSignedOut(down);
  $('who').textContent = down ? STORE_DOWN : response.status === 401 ? 'Nobody is signed in.' : 'The session could not be read (' + response.status + ').';
}

// A sign-in without leaving the page: a hidden iframe goes to the sign-in server with prompt=none and ends on a page
// of the gateway that posts the outcome here. No answer in time counts as "not signed in".
function silentLogin() {
  return new Promise((resolve) => {
    const frame = document.createElement('iframe');
    const done = (result) => {
      clearTimeout(timer);
      removeEventListener('message', onMessage);
      frame.remove();
      resolve(result);
    };
    const onMessage = (event) => {
      if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
      const data = event.data;
      if (!data || data.source !== SILENT_LOGIN_SOURCE) return;
      done({ loggedIn: data.loggedIn === true, error: data.error });
    };
    const timer = setTimeout(() => done({ loggedIn: false, error: 'timeout' }), SILENT_LOGIN_TIMEOUT_MS);
    addEventListener('message', onMessage);
    frame.hidden = true;
    frame.title = 'Silent sign-in';
    frame.src = '/auth/silent-login?mode=iframe&returnTo=' + encodeURIComponent(location.pathname);
    document.body.appendChild(frame);
  });
}

function whoLine(user, groupsCount) {
  return 'Signed in as ' + (user.name || user.sub) + (user.email ? ' <' + user.email + '>' : '') +
    (groupsCount === undefined ? '' : ', member of ' + groupsCount + ' groups') + '.';
}

async function show(view) {
  signedIn = true;
  $('login').hidden = true;
  $('logout').hidden = false;
  $('who').textContent = whoLine(view.user);
  $('expiry').textContent = 'Without activity the session ends at ' + when(view.session.idleExpiresAt) +
    ' (each request pushes this back); in any case it ends at ' + when(view.session.absoluteExpiresAt) + ', its absolute limit.';
  countdown.set(view.session.expiresInSeconds);
  await Promise.all([showDetails(view.user), listSessions()]);
}

// The sizes, the token budget and the hops, from GET /auth/session.
async function showDetails(user) {
  const response = await call('/auth/session');
  const session = await response.json().catch(() => ({}));
  if (!signedIn || !response.ok || !session.authenticated) return;
  $('who').textContent = whoLine(user, session.user.groupsCount);
  $('size-access').textContent = session.sizes.accessToken.toLocaleString();
  $('size-id').textContent = session.sizes.idToken.toLocaleString();
  $('size-refresh').textContent = session.sizes.refreshToken.toLocaleString();
  $('size-cookie').textContent = session.sizes.cookie.toLocaleString();
  const name = session.sizes.cookieName;
  $('cookie-note').textContent = 'The ' + session.sizes.cookie + ' bytes are what your browser sends with every request, and what it counts against its 4,096-byte limit: the name ' +
    name + ' (' + name.length + ') + "=" (1) + the ticket (' + (session.sizes.cookie - name.length - 1) + '). The attributes (HttpOnly, SameSite=Lax, Path=/ and, over https, Secure) came once, with the sign-in, and are never sent back.';
  $('sizes').hidden = false;
  showBudget(session.budget);
  measureHops(session).catch(() => undefined);
}

async function listSessions(note) {
  const response = await call('/auth/sessions', { headers: CSRF });
  const answer = await response.json().catch(() => ({}));
  if (!signedIn) return;
  $('sessions').hidden = false;
  if (!response.ok || !Array.isArray(answer.sessions)) {
    $('sessions-note').textContent = 'The list could not be read (' + response.status + ').';
    return;
  }
  const sessions = answer.sessions;
  const table = $('session-list');
  table.replaceChildren(row([['Device'], ['Signed in'], ['Last used'], ['']], true));
  for (const session of sessions) {
    const tr = row([[session.device], [when(session.createdAt)], [when(session.lastUsedAt)], [session.current ? 'this device' : '', 'current']]);
    tr.dataset.current = String(session.current);
    if (!session.current) {
      const end = document.createElement('button');
      end.textContent = 'End';
      end.onclick = () => endSessions('/auth/sessions/' + encodeURIComponent(session.id), 'DELETE');
      tr.lastChild.appendChild(end);
    }
    table.appendChild(tr);
  }
  const others = sessions.filter((s) => !s.current).length;
  $('sign-out-others').hidden = others === 0;
  $('sessions-note').textContent = note || (others === 0 ? 'No other device is signed in.' : plural(others, 'other session') + ' of yours.');
}

async function endSessions(path, method) {
  const response = await call(path, { method, headers: CSRF });
  const result = await response.json().catch(() => ({}));
  if (!signedIn) return;
  const note = response.ok
    ? 'Ended ' + plural(result.ended, 'session') + '; ' + plural(result.revoked, 'refresh token') + ' revoked at the sign-in server.'
    : 'Nothing was ended (' + response.status + ' ' + (result.reason || result.error || response.statusText) + ').';
  await listSessions(note);
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
    const response = await call(path);
    const answer = await response.json().catch(() => ({}));
    if (!response.ok || typeof answer.tokenBytes !== 'number') {
      table.appendChild(row([['gateway → ' + prefix], ['Authorization'], ['', 'num'], ['', 'num'], [response.status + ' ' + (answer.reason || answer.error || response.statusText), 'over']]));
      continue;
    }
    const line = 'Authorization: Bearer '.length + answer.tokenBytes + 2;
    table.appendChild(row([['gateway → ' + prefix], ['Authorization'], [line.toLocaleString(), 'num'], [typeof answer.groupsCount === 'number' ? answer.groupsCount.toLocaleString() : '', 'num'], verdict(line)]));
  }
  if (signedIn) $('hops').hidden = false;
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
$('login').onclick = () => {
  sessionStorage.removeItem(QUIET);
  location.href = '/auth/login?returnTo=/';
};
$('logout').onclick = async () => {
  // Signed out on purpose: the next load must not sign in again silently.
  sessionStorage.setItem(QUIET, '1');
  signedIn = false;
  countdown.stop();
  const response = await call('/auth/logout', { method: 'POST', headers: CSRF });
  const result = await response.json().catch(() => ({}));
  if (result.endSessionUrl) location.href = result.endSessionUrl; else start();
};
$('sign-out-others').onclick = () => endSessions('/auth/sessions/sign-out-others', 'POST');
$('whoami').onclick = async () => {
  $('answer').textContent = 'Calling…';
  try {
    const response = await call('/api/whoami');
    const text = await response.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch {}
    $('answer').textContent = response.status + ' ' + response.statusText + '\n' + shown;
  } catch (error) {
    $('answer').textContent = 'Request failed: ' + error;
  }
};
start().catch((error) => { $('who').textContent = 'The session could not be read: ' + error; });
`;
