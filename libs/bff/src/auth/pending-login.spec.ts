import { describe, expect, it } from '@jest/globals';
import { Envelope } from '@cloakroom/envelope';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { LoginCookies } from './login.cookie.js';
import { PendingLogins } from './pending-login.js';
import type { PendingLogin } from '../relying-party/oidc.client.js';

const CALLBACK = 'https://gateway.test/auth/callback';
const cookies = new LoginCookies(true);

function pending(state: string): PendingLogin {
  return { state, nonce: `n-${state}`, codeVerifier: `v-${state}`.padEnd(43, 'x'), returnTo: `/${state}` };
}

/** The Cookie header a browser sends after these Set-Cookie lines (creation order kept). */
function browser() {
  const jar = new Map<string, string>();
  return {
    accept(lines: string[]) {
      for (const line of lines) {
        const [pair] = line.split(';');
        const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
        if (/Max-Age=0/.test(line)) jar.delete(name);
        else jar.set(name, value);
      }
    },
    header: () => [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
    names: () => [...jar.keys()],
  };
}

const callback = (state: string) => new URL(`${CALLBACK}?code=c&state=${encodeURIComponent(state)}`);

describe(PendingLogins.name, () => {
  const logins = new PendingLogins(new MemorySealedStore(new Envelope()), cookies, 600, 5);

  it('finds each login by its state, whatever the order, and serves it once', async () => {
    const b = browser();
    for (const state of ['s1', 's2', 's3']) b.accept(await logins.start(pending(state), b.header()));
    expect(b.names()).toEqual(['s1', 's2', 's3'].map((s) => cookies.nameOf(s)));
    expect(b.names()[0]).toMatch(/^__Host-cloakroom-login\.[\w-]{12}$/);
    for (const state of ['s2', 's3', 's1']) {
      const taken = await logins.take(callback(state), b.header());
      expect(taken.pending).toEqual(pending(state));
      b.accept(taken.cookies);
    }
    expect(b.names()).toEqual([]);
    b.accept(await logins.start(pending('s4'), b.header()));
    const header = b.header();
    await logins.take(callback('s4'), header);
    await expect(logins.take(callback('s4'), header)).rejects.toMatchObject({ name: 'PendingLoginUnknown' });
  });

  it('leaves a login alone when a callback brings another or no state', async () => {
    const b = browser();
    b.accept(await logins.start(pending('real'), b.header()));
    for (const url of [
      callback('forged'),
      callback('rea'),
      new URL(`${CALLBACK}?code=c`),
      callback('x'.repeat(600)),
    ]) {
      await expect(logins.take(url, b.header())).rejects.toMatchObject({
        name: 'PendingLoginUnknown',
        restartable: true,
      });
    }
    // The cookie of one login presented with another's state: the state inside does not match.
    const swapped = `${cookies.nameOf('other')}=${b.header().split('=')[1]}`;
    await expect(logins.take(callback('other'), swapped)).rejects.toMatchObject({
      name: 'PendingLoginUnknown',
    });
    expect((await logins.take(callback('real'), b.header())).pending.returnTo).toBe('/real');
  });

  it('marks a restarted login as not restartable again', async () => {
    await expect(logins.take(callback('r.abc'), '')).rejects.toMatchObject({ restartable: false });
  });

  it('keeps the newest five, dropping the oldest cookies', async () => {
    const b = browser();
    const states = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    for (const state of states) b.accept(await logins.start(pending(state), b.header()));
    expect(b.names()).toEqual(states.slice(2).map((s) => cookies.nameOf(s)));
  });
});
