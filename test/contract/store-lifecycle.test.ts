// Store contract, lifecycle: migrations on open, ping, close, and withTransaction across ports —
// on both adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { openDatabase, openStore } from '../../shared/store/index.ts';
import { MIGRATIONS_DIR, migrate } from '../../shared/store/migrate.ts';
import type { Store } from '../../shared/store/store.ts';
import { newTask, rejectsWith, storeContract, uid } from './store-contract.ts';

storeContract('Store lifecycle', (db) => {
  const adapter = db.adapter;
  let store: Store;
  before(() => {
    ({ store } = db);
  });

  it('applies migrations once and is idempotent when opened again', async () => {
    const opts = await adapter.fresh();
    const expected = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
    assert.ok(expected.includes('001_initial.sql'));

    if (adapter.sharedAcrossInstances) {
      // Two cold starts against an empty database at once: the advisory lock makes them take turns.
      const both = await Promise.all([openStore(opts), openStore(opts)]);
      for (const s of both) await s.close();
    } else {
      await (await openStore(opts)).close();
    }
    const again = await openStore(opts); // second open on an already-migrated database
    await again.ping();
    await again.insertTask(newTask('t-mig'));
    await again.close();

    const db = await openDatabase(opts);
    try {
      assert.deepEqual(await migrate(db), [], 'nothing left to apply');
      const applied = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      assert.deepEqual(
        applied.map((r) => r.name),
        expected,
      );
      const tables = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      );
      assert.deepEqual(
        tables.map((t) => t.table_name),
        [
          'api_tokens',
          'audit_events',
          'checkpoints',
          'idempotency_keys',
          'leases',
          'metadata_items',
          'metadata_snapshots',
          'metrics',
          'offset_pairs',
          'offset_syncs',
          'parked_messages',
          'runtimes',
          'schema_migrations',
          'shard_plans',
          'tasks',
          'topic_metrics',
        ],
      );
      const [count] = await db.query<{ n: number }>('SELECT count(*) AS n FROM tasks');
      assert.equal(count?.n, 1, 'reopening kept the data (and int8 counts come back as numbers)');
    } finally {
      await db.close();
    }
  });

  describe('transactions', () => {
    it('withTransaction writes task and audit atomically', async () => {
      const tenant = uid('t-tx');
      const committed = newTask(tenant);
      await store.withTransaction(async (tx) => {
        await tx.insertTask(committed);
        await tx.appendAudit({ taskId: committed.id, tenant, actor: 'alice', action: 'create', after: { id: committed.id } });
      });
      assert.ok(await store.getTask(tenant, committed.id));
      assert.equal((await store.listAudit(tenant, committed.id, { limit: 5 })).length, 1);

      const rolledBack = newTask(tenant);
      await assert.rejects(
        store.withTransaction(async (tx) => {
          await tx.insertTask(rolledBack);
          await tx.appendAudit({ taskId: rolledBack.id, tenant, actor: 'alice', action: 'create' });
          throw new Error('validation failed after writing');
        }),
        /validation failed after writing/,
      );
      assert.equal(await store.getTask(tenant, rolledBack.id), null);
      assert.deepEqual(await store.listAudit(tenant, rolledBack.id, { limit: 5 }), []);

      // Store methods that are transactions themselves nest (savepoints) inside a caller's one;
      // a nested failure that is caught leaves the outer transaction usable.
      const doomed = await store.insertTask(newTask(tenant));
      await store.withTransaction(async (tx) => {
        assert.equal(await tx.deleteTask(tenant, doomed.id), true);
        await rejectsWith(tx.saveCheckpoints({ taskId: committed.id, flow: 'f', shard: 0, owner: 'nobody', epoch: 1 }, []), 'STALE_EPOCH');
        await tx.appendAudit({ taskId: doomed.id, tenant, actor: 'alice', action: 'delete' });
      });
      assert.equal(await store.getTask(tenant, doomed.id), null);
      assert.equal((await store.listAudit(tenant, doomed.id, { limit: 5 })).length, 1);

      await store.withTransaction(async (tx) => {
        await tx.ping();
        await rejectsWith(tx.close(), 'INTERNAL');
      });
      await store.ping();
    });
  });

  describe('health', () => {
    it('pings the database, and rejects once the store is closed', async () => {
      await store.ping();
      const closed = await openStore(await adapter.fresh());
      await closed.ping();
      await closed.close();
      await assert.rejects(closed.ping());
    });
  });
});
