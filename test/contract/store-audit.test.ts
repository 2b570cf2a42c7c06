// Store contract, AuditStore: the audit trail — on both adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../shared/store/store.ts';
import { newTask, rejectsWith, storeContract } from './store-contract.ts';

storeContract('AuditStore', (db) => {
  let store: Store;
  before(() => {
    ({ store } = db);
  });

  describe('audit', () => {
    it('appends audit events and lists them newest first, per tenant and task', async () => {
      const tenant = 't-audit';
      const t = await store.insertTask(newTask(tenant));
      const e1 = await store.appendAudit({ taskId: t.id, tenant, actor: 'alice', action: 'create', after: { name: 'a' } });
      const e2 = await store.appendAudit({
        taskId: t.id,
        tenant,
        actor: 'bob',
        action: 'rename',
        before: { name: 'a' },
        after: { name: 'b' },
      });
      const e3 = await store.appendAudit({ taskId: t.id, tenant, actor: 'carol', action: 'delete', before: { name: 'b' } });
      await store.appendAudit({ taskId: 'another-task', tenant, actor: 'alice', action: 'create' });

      assert.ok(e1.id < e2.id && e2.id < e3.id);
      assert.equal(e1.before, null);
      assert.deepEqual(e1.after, { name: 'a' });
      assert.equal(e3.after, null);

      const all = await store.listAudit(tenant, t.id, { limit: 10 });
      assert.deepEqual(
        all.map((e) => e.action),
        ['delete', 'rename', 'create'],
      );
      assert.deepEqual(all[1], e2);
      assert.deepEqual(
        (await store.listAudit(tenant, t.id, { limit: 2 })).map((e) => e.actor),
        ['carol', 'bob'],
      );
      assert.deepEqual(await store.listAudit('other-tenant', t.id, { limit: 10 }), []);
    });

    it('rejects an out-of-range limit', async () => {
      await rejectsWith(store.listAudit('t-audit', 'any-task', { limit: 0 }), 'VALIDATION_FAILED');
      await rejectsWith(store.listAudit('t-audit', 'any-task', { limit: 1001 }), 'VALIDATION_FAILED');
    });
  });
});
