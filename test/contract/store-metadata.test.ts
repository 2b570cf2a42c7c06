// Store contract, MetadataStateStore: metadata sync's snapshots and item outcomes — on both
// adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../shared/store/store.ts';
import { newTask, rejectsWith, storeContract } from './store-contract.ts';

storeContract('MetadataStateStore', (db) => {
  let store: Store;
  before(() => {
    ({ store } = db);
  });

  describe('metadata sync', () => {
    it('round-trips snapshots per side and item outcomes', async () => {
      const t = await store.insertTask(newTask('t-meta'));
      const source = { topics: [{ name: 'orders', queues: 8, perm: 6 }], groups: [{ name: 'GID_a', retry: 16 }] };
      await store.saveSnapshot(t.id, 'source', source);
      const first = await store.getSnapshot(t.id, 'source');
      assert.deepEqual(first?.items, source);
      assert.equal(first?.side, 'source');
      assert.equal(await store.getSnapshot(t.id, 'target'), null);

      await store.saveSnapshot(t.id, 'source', [{ name: 'orders', queues: 16 }]);
      const replaced = await store.getSnapshot(t.id, 'source');
      assert.deepEqual(replaced?.items, [{ name: 'orders', queues: 16 }]);
      assert.ok(replaced!.takenAt.getTime() >= first!.takenAt.getTime());

      const when = new Date('2025-03-01T10:00:00.000Z');
      await store.upsertMetadataItems(t.id, [
        { kind: 'topic', name: 'orders', direction: 'source_to_target', action: 'create', status: 'synced', syncedAt: when },
        {
          kind: 'group',
          name: 'GID_a',
          direction: 'source_to_target',
          action: 'create',
          status: 'failed',
          error: 'SUBSCRIPTION_GROUP_NOT_EXIST',
        },
        { kind: 'role', name: 'ops', direction: 'target_to_source', action: 'create', status: 'unsupported' },
      ]);
      await store.upsertMetadataItems(t.id, [
        { kind: 'group', name: 'GID_a', direction: 'source_to_target', action: 'update', status: 'synced' },
        { kind: 'topic', name: 'orders', direction: 'target_to_source', action: 'update', status: 'synced' },
      ]);

      const items = await store.listMetadataItems(t.id);
      assert.deepEqual(
        items.map((i) => [i.kind, i.name, i.direction, i.action, i.status, i.error]),
        [
          ['group', 'GID_a', 'source_to_target', 'update', 'synced', null],
          ['role', 'ops', 'target_to_source', 'create', 'unsupported', null],
          ['topic', 'orders', 'source_to_target', 'create', 'synced', null],
          ['topic', 'orders', 'target_to_source', 'update', 'synced', null],
        ],
      );
      assert.deepEqual(items[2]?.syncedAt, when);
      assert.ok(items.every((i) => i.taskId === t.id && i.syncedAt instanceof Date));
    });

    it('keeps the last of duplicate outcomes in one call, ignores an empty one, and refuses a task that is gone', async () => {
      const t = await store.insertTask(newTask('t-meta'));
      await store.upsertMetadataItems(t.id, []);
      assert.deepEqual(await store.listMetadataItems(t.id), []);
      await store.upsertMetadataItems(t.id, [
        { kind: 'acl_user', name: 'alice', direction: 'source_to_target', action: 'create', status: 'failed', error: 'denied' },
        { kind: 'acl_user', name: 'alice', direction: 'source_to_target', action: 'update', status: 'synced' },
      ]);
      assert.deepEqual(
        (await store.listMetadataItems(t.id)).map((i) => [i.kind, i.name, i.action, i.status, i.error]),
        [['acl_user', 'alice', 'update', 'synced', null]],
      );
      await rejectsWith(
        store.upsertMetadataItems('no-such-task', [
          { kind: 'topic', name: 'x', direction: 'source_to_target', action: 'create', status: 'synced' },
        ]),
        'NOT_FOUND',
      );
      await rejectsWith(store.saveSnapshot('no-such-task', 'source', []), 'NOT_FOUND');
      assert.equal(await store.getSnapshot('no-such-task', 'source'), null);
    });
  });
});
