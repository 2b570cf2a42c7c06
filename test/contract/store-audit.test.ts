// Store contract, AuditStore: the audit trail — on both adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../shared/store/store.ts';
import { newTask, rejectsWith, storeContract, uid } from './store-contract.ts';

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

    it("a token actor (`token:<id>`) carries its token's label, of its own tenant only; system actors none", async () => {
      const tenant = uid('t-actor');
      const t = await store.insertTask(newTask(tenant));
      const hash = `${'ab12'.repeat(4)}${uid('rest')}`;
      await store.insertToken({ tokenHash: hash, tenant, role: 'admin', label: 'reconciler-ish ops' });
      // The same id in another tenant must not lend its label.
      await store.insertToken({ tokenHash: `${hash}-x`, tenant: `${tenant}-other`, role: 'admin', label: 'elsewhere' });
      const byToken = await store.appendAudit({ taskId: t.id, tenant, actor: `token:${hash.slice(0, 16)}`, action: 'create' });
      assert.equal(byToken.actorLabel, 'reconciler-ish ops');
      await store.appendAudit({ taskId: t.id, tenant, actor: 'reconciler', action: 'start-failed' });
      const listed = await store.listAudit(tenant, t.id, { limit: 10 });
      assert.deepEqual(
        listed.map((e) => [e.actor, e.actorLabel]),
        [
          ['reconciler', null],
          [`token:${hash.slice(0, 16)}`, 'reconciler-ish ops'],
        ],
      );
    });
  });
});
