import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Provider from 'oidc-provider';
import { Envelope } from '@cloakroom/envelope';
import { sealedOidcAdapter } from '@cloakroom/oidc-adapter';
import { MemorySealedStore } from '@cloakroom/sealed-store';
import { generateJwk } from '../keys/jwks.js';
import type { PrivateJwk } from '../keys/jwks.js';
import { isoSeconds } from '../keys/key-schedule.js';
import { SigningKeyRing } from '../keys/signing-key.ring.js';
import { ProviderSwitch } from './provider.switch.js';

describe(ProviderSwitch.name, () => {
  let old: PrivateJwk;
  let next: PrivateJwk;
  let now: number;
  let ring: SigningKeyRing;
  let providers: ProviderSwitch;
  const built: Provider[] = [];
  const store = new MemorySealedStore(new Envelope());
  const server = createServer((req, res) => void providers.callback(req, res));
  let url: string;

  beforeAll(async () => {
    [old, next] = await Promise.all([generateJwk('RS256'), generateJwk('ES256')]);
    now = Date.now();
    ring = new SigningKeyRing({ keys: [old] }, () => now);
    providers = new ProviderSwitch(ring, (keys) => {
      const provider = new Provider('http://issuer.test', {
        jwks: keys.provider as never,
        adapter: sealedOidcAdapter(store, { defaultTtlSeconds: 60 }),
        features: { devInteractions: { enabled: false } },
      });
      built.push(provider);
      return provider;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
  });

  const published = async () => {
    const response = await fetch(`${url}/jwks`);
    return ((await response.json()) as { keys: Array<Record<string, unknown>> }).keys;
  };

  it('serves with one instance while the keys stay, and with a new one, listeners and all, once they change', async () => {
    const first = providers.current;
    expect(providers.current).toBe(first);
    expect((await published()).map((key) => key.kid)).toEqual([old.kid]);
    const heard: string[] = [];
    first.on('server_error', () => heard.push('on'));
    first.once('server_error', () => heard.push('once'));

    // A rotated file: the new key is published by the next request, marked as not signing yet.
    ring.replace({ keys: [{ ...next, activatesAt: isoSeconds(now + 60_000) }, old] });
    const keys = await published();
    expect(keys.map((key) => [key.kid, key.key_ops])).toEqual([
      [old.kid, undefined],
      [next.kid, ['verify']],
    ]);
    for (const key of keys) {
      expect(key).not.toHaveProperty('activatesAt');
      expect(key).not.toHaveProperty('d');
    }
    const second = providers.current;
    expect(second).not.toBe(first);

    // Its activation time: the next request gets an instance that signs with it.
    now += 60_000;
    expect((await published()).map((key) => [key.kid, key.key_ops])).toEqual([
      [next.kid, undefined],
      [old.kid, undefined],
    ]);
    const third = providers.current;
    expect(built).toEqual([first, second, third]);

    third.emit('server_error', {}, new Error('test'));
    third.emit('server_error', {}, new Error('test'));
    expect(heard).toEqual(['on', 'once', 'on']);
  });

  it('goes on serving with the instance it has when oidc-provider refuses new keys, and tries them once', async () => {
    const refusals: string[] = [];
    let builds = 0;
    const local = new SigningKeyRing({ keys: [old] });
    const switched = new ProviderSwitch(
      local,
      (keys) => {
        builds++;
        if (keys.provider.keys.length > 1) throw new Error('refused', { cause: keys.signing });
        return new Provider('http://issuer.test', {
          jwks: keys.provider as never,
          adapter: sealedOidcAdapter(store, { defaultTtlSeconds: 60 }),
          features: { devInteractions: { enabled: false } },
        });
      },
      (error) => refusals.push(error.message),
    );
    const serving = switched.current;
    local.replace({ keys: [next, old] });
    expect(switched.current).toBe(serving);
    expect(switched.callback).toBe(switched.callback);
    expect(refusals).toEqual(['refused']);
    expect(builds).toBe(2);
  });
});
