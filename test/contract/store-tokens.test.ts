// Store contract, TokenStore: API tokens by hash — on both adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../shared/store/store.ts';
import { sleep, storeContract, uid } from './store-contract.ts';

storeContract('TokenStore', (db) => {
  let store: Store;
  before(() => {
    ({ store } = db);
  });

  describe('tokens', () => {
    it('finds live tokens by hash and stops finding them once revoked', async () => {
      const hash = uid('sha256');
      const inserted = await store.insertToken({ tokenHash: hash, tenant: 'acme', role: 'admin', label: 'ci' });
      assert.equal(inserted.revokedAt, null);
      const found = await store.findToken(hash);
      assert.deepEqual(found, inserted);
      assert.equal(await store.findToken('unknown-hash'), null);

      assert.equal(await store.revokeToken(hash), true);
      assert.equal(await store.findToken(hash), null);
      assert.equal(await store.revokeToken(hash), false, 'already revoked');
      assert.equal(await store.revokeToken('unknown-hash'), false);
    });

    it('counts every token ever issued, revoked ones included', async () => {
      const before = await store.countTokens();
      const [a, b] = [uid('sha256'), uid('sha256')];
      await store.insertToken({ tokenHash: a, tenant: 'acme', role: 'reader', label: 'dashboards' });
      await store.insertToken({ tokenHash: b, tenant: 'other', role: 'admin', label: 'ops' });
      assert.equal(await store.revokeToken(a), true);
      assert.equal(await store.countTokens(), before + 2);
    });

    it("lists a tenant's tokens, revoked ones included, newest first, and no other tenant's", async () => {
      const tenant = uid('tenant');
      const [a, b, c] = [uid('sha256'), uid('sha256'), uid('sha256')];
      await store.insertToken({ tokenHash: a, tenant, role: 'reader', label: 'first' });
      await store.insertToken({ tokenHash: b, tenant, role: 'admin', label: 'second' });
      await store.insertToken({ tokenHash: c, tenant: `${tenant}-other`, role: 'admin', label: 'elsewhere' });
      await store.revokeToken(a);
      const listed = await store.listTokens(tenant);
      assert.deepEqual(
        listed.map((t) => [t.label, t.role, t.revokedAt === null]),
        [
          ['second', 'admin', true],
          ['first', 'reader', false],
        ],
      );
      assert.deepEqual(await store.listTokens(uid('nobody')), []);
    });

    it('an expired token is not found, but getToken still has it; a token without expiry never expires', async () => {
      const [soon, later, never] = [uid('sha256'), uid('sha256'), uid('sha256')];
      // 0.5 s: it lapses while the test watches.
      const t = await store.insertToken({ tokenHash: soon, tenant: 'acme', role: 'admin', label: 'brief', expiresInDays: 0.5 / 86_400 });
      await store.insertToken({ tokenHash: later, tenant: 'acme', role: 'admin', label: 'week', expiresInDays: 7 });
      const n = await store.insertToken({ tokenHash: never, tenant: 'acme', role: 'admin', label: 'forever' });
      assert.equal(n.expiresAt, null);
      assert.ok(t.expiresAt && t.expiresAt.getTime() > t.createdAt.getTime());
      const week = (await store.findToken(later))!.expiresAt!.getTime() - t.createdAt.getTime();
      assert.ok(Math.abs(week - 7 * 86_400_000) < 60_000, `7 days ahead, got ${week} ms`);
      assert.ok(await store.findToken(soon), 'live before it lapses');
      await sleep(700);
      assert.equal(await store.findToken(soon), null, 'expired');
      assert.equal((await store.getToken(soon))?.label, 'brief', 'still there for bootstrap and listings');
      assert.ok(await store.findToken(never));
      assert.equal(await store.getToken('unknown-hash'), null);
    });

    it('touchToken writes lastUsedAt at most once a minute per token', async () => {
      const hash = uid('sha256');
      const t = await store.insertToken({ tokenHash: hash, tenant: 'acme', role: 'reader', label: 'scraper' });
      assert.equal(t.lastUsedAt, null);
      assert.equal(await store.touchToken(hash), true, 'the first use writes');
      const first = (await store.getToken(hash))!.lastUsedAt;
      assert.ok(first);
      const again = await Promise.all(Array.from({ length: 5 }, () => store.touchToken(hash)));
      assert.deepEqual(again, [false, false, false, false, false], 'within the minute nothing is written');
      assert.equal((await store.getToken(hash))!.lastUsedAt!.getTime(), first.getTime());
      assert.equal(await store.touchToken('unknown-hash'), false);
    });
  });
});
