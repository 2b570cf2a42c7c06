// Store contract, TokenStore: API tokens by hash — on both adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../shared/store/store.ts';
import { storeContract, uid } from './store-contract.ts';

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
  });
});
