import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { errors } from 'oidc-provider';
import { newSecret } from '@cloakroom/envelope';
import type { SealedStore } from '@cloakroom/sealed-store';
import { SealedOidcAdapter } from './sealed-oidc.adapter.js';

/** A store under test plus an attacker's view of everything it holds. */
export interface AdapterHarness {
  store: SealedStore;
  dump(): Promise<Array<{ key: string; ttlMs: number; value: Buffer }>>;
  advance(ms: number): Promise<void>;
  teardown(): Promise<void>;
}

const DEFAULT_TTL = 3600;

/** The one contract the oidc-provider adapter honours on every SealedStore backend. */
export function oidcAdapterContract(name: string, setup: () => Promise<AdapterHarness>): void {
  describe(`SealedOidcAdapter on ${name}`, () => {
    let harness: AdapterHarness;
    const adapter = (model: string) =>
      new SealedOidcAdapter(harness.store, model, { defaultTtlSeconds: DEFAULT_TTL });
    const grantArtefacts = async (grantId: string) => {
      const ids = { at: newSecret(), rt: newSecret(), code: newSecret() };
      await adapter('AccessToken').upsert(ids.at, { grantId, kind: 'AccessToken' }, 600);
      await adapter('RefreshToken').upsert(ids.rt, { grantId, kind: 'RefreshToken' }, 6000);
      await adapter('AuthorizationCode').upsert(ids.code, { grantId, kind: 'AuthorizationCode' }, 60);
      return ids;
    };

    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => harness?.teardown());

    it('stores and finds payloads per model, with the TTL oidc-provider asks for', async () => {
      const id = newSecret();
      const payload = { accountId: 'alice', clientId: 'gateway', scope: 'openid', exp: 1 };
      await adapter('AccessToken').upsert(id, payload, 120);
      expect(await adapter('AccessToken').find(id)).toEqual(payload);
      expect(await adapter('RefreshToken').find(id)).toBeUndefined();
      const ttl = await harness.store.ttl('oidc.AccessToken', id);
      expect(ttl).toBeGreaterThan(110);
      expect(ttl).toBeLessThanOrEqual(120);
    });

    it('gives models stored without an expiry the configured ceiling', async () => {
      const id = `client-${newSecret()}`;
      await adapter('Client').upsert(id, { client_id: id });
      expect(await harness.store.ttl('oidc.Client', id)).toBe(DEFAULT_TTL);
    });

    it('treats an expiry of zero or less as already expired: nothing stored, a stored one removed', async () => {
      const fresh = newSecret();
      await adapter('AccessToken').upsert(fresh, { grantId: newSecret() }, 0);
      expect(await adapter('AccessToken').find(fresh)).toBeUndefined();
      expect(await harness.store.ttl('oidc.AccessToken', fresh)).toBeUndefined();

      // Session.persist() saves with what is left of its lifetime, which may be nothing.
      const session = newSecret();
      const uid = newSecret();
      await adapter('Session').upsert(session, { uid, accountId: 'alice' }, 600);
      await adapter('Session').upsert(session, { uid, accountId: 'alice' }, -3);
      expect(await adapter('Session').find(session)).toBeUndefined();
      expect(await adapter('Session').findByUid(uid)).toBeUndefined();
      expect(await harness.store.get('oidc.Session.uid', uid)).toBeUndefined();
    });

    it('expires payloads with their TTL', async () => {
      const id = newSecret();
      await adapter('Interaction').upsert(id, { uid: id }, 1);
      await harness.advance(1100);
      expect(await adapter('Interaction').find(id)).toBeUndefined();
    });

    it('finds a session by its uid and a device code by its user code, and forgets both on destroy', async () => {
      const sessionId = newSecret();
      const uid = newSecret();
      await adapter('Session').upsert(sessionId, { uid, accountId: 'alice' }, 600);
      expect(await adapter('Session').findByUid(uid)).toEqual({ uid, accountId: 'alice' });
      expect(await adapter('Session').findByUid(newSecret())).toBeUndefined();

      const deviceCode = newSecret();
      await adapter('DeviceCode').upsert(deviceCode, { userCode: 'BCDF-GHJK', grantId: newSecret() }, 600);
      expect(await adapter('DeviceCode').findByUserCode('BCDF-GHJK')).toMatchObject({
        userCode: 'BCDF-GHJK',
      });
      // A pointer never leads into another model.
      expect(await adapter('Session').findByUserCode('BCDF-GHJK')).toBeUndefined();

      await adapter('Session').destroy(sessionId);
      await adapter('DeviceCode').destroy(deviceCode);
      expect(await adapter('Session').findByUid(uid)).toBeUndefined();
      expect(await adapter('DeviceCode').findByUserCode('BCDF-GHJK')).toBeUndefined();
      expect(await harness.store.get('oidc.Session.uid', uid)).toBeUndefined();
    });

    it('keeps a uid or user-code lookup that another record took over when the old record is destroyed', async () => {
      // A session whose id is rotated keeps its uid: the new record is saved, then the old one destroyed.
      const uid = newSecret();
      const [old, rotated] = [newSecret(), newSecret()];
      await adapter('Session').upsert(old, { uid, accountId: 'alice' }, 600);
      await adapter('Session').upsert(rotated, { uid, accountId: 'alice', rotated: true }, 600);
      await adapter('Session').destroy(old);
      expect(await adapter('Session').findByUid(uid)).toMatchObject({ rotated: true });

      const userCode = `U${newSecret().slice(0, 8)}`;
      const [first, second] = [newSecret(), newSecret()];
      await adapter('DeviceCode').upsert(first, { userCode, n: 1 }, 600);
      await adapter('DeviceCode').upsert(second, { userCode, n: 2 }, 600);
      await adapter('DeviceCode').destroy(first);
      expect(await adapter('DeviceCode').findByUserCode(userCode)).toMatchObject({ n: 2 });
      await adapter('DeviceCode').destroy(second);
      expect(await adapter('DeviceCode').findByUserCode(userCode)).toBeUndefined();
    });

    it('lets exactly one of 20 concurrent redemptions win, and leaves the grant to oidc-provider', async () => {
      const grantId = newSecret();
      await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 3600);
      const { code, at } = await grantArtefacts(grantId);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => adapter('AuthorizationCode').consume(code)),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(losers).toHaveLength(19);
      for (const loser of losers) {
        expect(loser.reason).toBeInstanceOf(errors.InvalidGrant);
        expect(loser.reason).toMatchObject({
          message: 'invalid_grant',
          error_description: 'grant request is invalid',
          error_detail: 'authorization code already consumed',
        });
      }
      // Revoking is oidc-provider's call (its revokeGrantPolicy, its grant.revoked event): it makes it when
      // the code comes back, and find shows it consumed.
      expect(await adapter('AccessToken').find(at)).toBeDefined();
      expect(await adapter('Grant').find(grantId)).toBeDefined();
      expect(await adapter('AuthorizationCode').find(code)).toMatchObject({ consumed: expect.anything() });
    });

    it('treats ids too long to be stored as absent instead of failing', async () => {
      const long = 'x'.repeat(5000);
      expect(await adapter('AccessToken').find(long)).toBeUndefined();
      expect(await adapter('Session').findByUid(long)).toBeUndefined();
      await expect(adapter('AuthorizationCode').consume(long)).rejects.toBeInstanceOf(errors.InvalidGrant);
      await expect(adapter('AccessToken').destroy(long)).resolves.toBeUndefined();
      await expect(adapter('AccessToken').revokeByGrantId(long)).resolves.toBeUndefined();
    });

    it('refuses to consume what does not exist', async () => {
      await expect(adapter('RefreshToken').consume(newSecret())).rejects.toBeInstanceOf(errors.InvalidGrant);
    });

    it('keeps the consumed mark visible to find, as the time of consumption in seconds', async () => {
      const id = newSecret();
      await adapter('RefreshToken').upsert(id, { grantId: newSecret() }, 600);
      await adapter('RefreshToken').consume(id);
      // oidc-provider only needs it truthy; the time of use tells an operator when a replay began.
      const { consumed } = (await adapter('RefreshToken').find(id))!;
      expect(consumed).toEqual(expect.any(Number));
      // Within a few seconds of now: the memory backend runs on a test clock that other tests move on.
      expect(Math.abs((consumed as number) - Date.now() / 1000)).toBeLessThan(5);
    });

    it('revokes every artefact of a grant across models, and nothing of another grant', async () => {
      const grantId = newSecret();
      const other = newSecret();
      const ids = await grantArtefacts(grantId);
      const kept = await grantArtefacts(other);
      await adapter('AccessToken').revokeByGrantId(grantId);
      expect(await adapter('AccessToken').find(ids.at)).toBeUndefined();
      expect(await adapter('RefreshToken').find(ids.rt)).toBeUndefined();
      expect(await adapter('AuthorizationCode').find(ids.code)).toBeUndefined();
      expect(await adapter('AccessToken').find(kept.at)).toBeDefined();
      expect(await adapter('RefreshToken').find(kept.rt)).toBeDefined();
    });

    it('keeps storing artefacts of a grant that a revocation kept (oidc-provider reuses its id)', async () => {
      const grantId = newSecret();
      await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 3600);
      const revoked = await grantArtefacts(grantId);
      // What revoking an access token does by default: the tokens go, the Grant stays.
      await adapter('AccessToken').revokeByGrantId(grantId);
      expect(await adapter('AccessToken').find(revoked.at)).toBeUndefined();
      const code = newSecret();
      await adapter('AuthorizationCode').upsert(code, { grantId, exp: Date.now() / 1000 + 60 }, 60);
      expect(await adapter('AuthorizationCode').find(code)).toMatchObject({ grantId });
      expect(await adapter('Grant').find(grantId)).toBeDefined();
      // And the next revocation removes it like any other.
      await adapter('RefreshToken').revokeByGrantId(grantId);
      expect(await adapter('AuthorizationCode').find(code)).toBeUndefined();
    });

    it('does not let a token saved while its Grant is destroyed outlive it, unless the Grant is saved again', async () => {
      const grantId = newSecret();
      await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 3600);
      const before = await grantArtefacts(grantId);
      await adapter('Grant').destroy(grantId);
      // Destroying the Grant takes what was issued from it along.
      expect(await adapter('RefreshToken').find(before.rt)).toBeUndefined();
      // A request that read the Grant before it went saves its token after.
      const late = newSecret();
      await adapter('AccessToken').upsert(late, { grantId }, 600);
      expect(await adapter('AccessToken').find(late)).toBeUndefined();
      // A Grant saved again under its id is alive: its artefacts are kept.
      await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 3600);
      await adapter('AccessToken').upsert(late, { grantId }, 600);
      expect(await adapter('AccessToken').find(late)).toBeDefined();
    });

    it('never keeps a token saved at the same time as its Grant is destroyed', async () => {
      for (let round = 0; round < 20; round++) {
        const grantId = newSecret();
        await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 3600);
        const token = newSecret();
        await Promise.all([
          adapter('Grant').destroy(grantId),
          adapter('AccessToken').upsert(token, { grantId }, 600),
        ]);
        expect(await adapter('AccessToken').find(token)).toBeUndefined();
      }
    });

    it('leaves interactions and sessions filed under a grant alone when the grant is revoked', async () => {
      const grantId = newSecret();
      await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 3600);
      const interaction = newSecret();
      await adapter('Interaction').upsert(interaction, { uid: interaction, grantId }, 600);
      const session = newSecret();
      await adapter('Session').upsert(session, { uid: newSecret(), grantId }, 600);
      await adapter('AccessToken').revokeByGrantId(grantId);
      await adapter('Grant').destroy(grantId);
      expect(await adapter('Interaction').find(interaction)).toMatchObject({ grantId });
      expect(await adapter('Session').find(session)).toMatchObject({ grantId });
      // Saved again after the Grant went (a login in flight finishing): still there.
      await adapter('Interaction').upsert(interaction, { uid: interaction, grantId, result: {} }, 600);
      expect(await adapter('Interaction').find(interaction)).toMatchObject({ grantId, result: {} });
    });

    it('removes a destroyed artefact from its grant index', async () => {
      const indexed = async (model: string) =>
        (await harness.dump())
          .filter((e) => e.key.includes('idx:oidc.grant:'))
          .flatMap((e) => e.value.toString().split('\n'))
          .filter((member) => member.startsWith(`oidc.${model}:`)).length;
      const ids = await grantArtefacts(newSecret());
      const [tokens, refreshTokens] = [await indexed('AccessToken'), await indexed('RefreshToken')];
      await adapter('AccessToken').destroy(ids.at);
      expect(await adapter('AccessToken').find(ids.at)).toBeUndefined();
      expect(await indexed('AccessToken')).toBe(tokens - 1);
      expect(await indexed('RefreshToken')).toBe(refreshTokens);
    });

    it('holds no id, grant id, user code or claim in plaintext, and gives every key a TTL', async () => {
      const grantId = newSecret();
      const ids = await grantArtefacts(grantId);
      const sessionId = newSecret();
      const uid = newSecret();
      await adapter('Session').upsert(sessionId, { uid, accountId: 'alice@example.com' }, 600);
      await adapter('DeviceCode').upsert(newSecret(), { userCode: 'WXYZ-QRST', grantId }, 600);
      const dumped = await harness.dump();
      expect(dumped.length).toBeGreaterThan(0);
      const haystack = Buffer.concat(dumped.flatMap((e) => [Buffer.from(e.key), e.value])).toString('latin1');
      for (const needle of [
        grantId,
        ids.at,
        ids.rt,
        ids.code,
        sessionId,
        uid,
        'WXYZ-QRST',
        'alice@example.com',
      ]) {
        expect(haystack.includes(needle)).toBe(false);
      }
      expect(dumped.filter((e) => e.ttlMs <= 0)).toEqual([]);
    });
  });
}
