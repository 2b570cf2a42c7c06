// Store contract, OffsetPairStore and OffsetSyncStore: offset pairs written with fenced checkpoints,
// the lookups translation makes, pruning that keeps the newest pairs dense and the old ones sparse,
// and translation outcomes — on both adapters (store-contract.ts).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OffsetPairEntry, Store } from '../../shared/store/store.ts';
import { newTask, rejectsWith, storeContract } from './store-contract.ts';

const q = { topic: 'orders', broker: 'broker-a', queueId: 1 };
const pair = (sourceOffset: number, targetOffset: number, over: Partial<OffsetPairEntry> = {}): OffsetPairEntry => ({
  ...q,
  sourceOffset,
  targetBroker: 'broker-b',
  targetQueueId: 1,
  targetOffset,
  ...over,
});

storeContract('OffsetPairStore / OffsetSyncStore', (db) => {
  let store: Store;
  before(() => {
    ({ store } = db);
  });

  async function holder(tenant: string) {
    const t = await store.insertTask(newTask(tenant));
    const key = { taskId: t.id, flow: 'forward', shard: 0 };
    const lease = await store.acquireLease({ ...key, owner: 'r1', ttlMs: 60_000 });
    return { t, holder: { ...key, owner: 'r1', epoch: lease!.epoch } };
  }

  describe('offset pairs', () => {
    it('are written with fenced checkpoints, a later pair of a source offset replacing the earlier', async () => {
      const { t, holder: h } = await holder('t-pairs');
      await store.saveCheckpoints(h, [{ ...q, nextOffset: 40 }], [pair(0, 100), pair(16, 116), pair(39, 139)]);
      // A resend after an unclean stop stored offset 39 again, further on.
      await store.saveCheckpoints(h, [], [pair(39, 150), pair(40, 151)]);
      const pairs = await store.listOffsetPairs(t.id, 'forward');
      assert.deepEqual(
        pairs.map((p) => [p.sourceOffset, p.targetOffset]),
        [
          [0, 100],
          [16, 116],
          [39, 150],
          [40, 151],
        ],
      );
      assert.deepEqual(
        (await store.getCheckpoints(t.id, 'forward')).map((c) => c.nextOffset),
        [40],
        'checkpoints unchanged by a pairs-only write',
      );
      assert.ok(pairs.every((p) => p.taskId === t.id && p.flow === 'forward' && p.recordedAt instanceof Date));

      // A stale holder writes neither checkpoints nor pairs.
      await store.acquireLease({ taskId: t.id, flow: 'forward', shard: 0, owner: 'r1', ttlMs: 60_000 });
      await rejectsWith(store.saveCheckpoints(h, [{ ...q, nextOffset: 99 }], [pair(90, 190)]), 'STALE_EPOCH');
      assert.equal((await store.listOffsetPairs(t.id, 'forward')).length, 4);
    });

    it('answer "the newest pair at or below" by source offset, by target offset, and newest/oldest per queue', async () => {
      const { t, holder: h } = await holder('t-find');
      const other = { topic: 'orders', broker: 'broker-a', queueId: 2 };
      await store.saveCheckpoints(
        h,
        [],
        [
          pair(0, 100),
          pair(16, 116),
          pair(32, 140),
          { ...other, sourceOffset: 5, targetBroker: 'broker-b', targetQueueId: 2, targetOffset: 7 },
        ],
      );
      const found = await store.findOffsetPairs(t.id, 'forward', [
        { ...q, sourceOffset: 31 },
        { ...q, sourceOffset: 32 },
        { ...q, sourceOffset: -1 },
        { ...other, sourceOffset: 4 },
        { ...q, topic: 'nope', sourceOffset: 100 },
      ]);
      assert.deepEqual(
        found.map((p) => p?.sourceOffset ?? null),
        [16, 32, null, null, null],
      );
      const byTarget = await store.findOffsetPairsByTarget(t.id, 'forward', [
        { ...q, targetBroker: 'broker-b', targetQueueId: 1, targetOffset: 139 },
        { ...q, targetBroker: 'broker-b', targetQueueId: 1, targetOffset: 99 },
        { ...q, targetBroker: 'broker-c', targetQueueId: 1, targetOffset: 500 },
      ]);
      assert.deepEqual(
        byTarget.map((p) => p?.sourceOffset ?? null),
        [16, null, null],
      );
      assert.deepEqual(
        (await store.newestOffsetPairs(t.id, 'forward')).map((p) => [p.queueId, p.sourceOffset]),
        [
          [1, 32],
          [2, 5],
        ],
      );
      assert.deepEqual(
        (await store.oldestOffsetPairs(t.id, 'forward')).map((p) => [p.queueId, p.sourceOffset]),
        [
          [1, 0],
          [2, 5],
        ],
      );
      assert.deepEqual(await store.findOffsetPairs(t.id, 'reverse', [{ ...q, sourceOffset: 50 }]), [null]);
    });

    it('are pruned: every pair near the newest stays, farther back one per bucket ~1/64 of the distance', async () => {
      const { t, holder: h } = await holder('t-prune');
      // One pair every 16 offsets over 200,000 offsets.
      const all: OffsetPairEntry[] = [];
      for (let s = 0; s <= 200_000; s += 16) all.push(pair(s, s + 1_000));
      for (let i = 0; i < all.length; i += 2000) await store.saveCheckpoints(h, [], all.slice(i, i + 2000));
      const removed = await store.pruneOffsetPairs(t.id, 'forward', 4096);
      const kept = await store.listOffsetPairs(t.id, 'forward');
      assert.equal(kept.length + removed, all.length);
      assert.ok(kept.length < 700, `bounded: ${kept.length} rows kept of ${all.length}`);
      const offsets = kept.map((p) => p.sourceOffset);
      assert.equal(offsets[0], 0, 'the oldest pair stays');
      assert.equal(offsets.at(-1), 200_000, 'the newest pair stays');
      assert.equal(offsets.filter((s) => s >= 200_000 - 4096).length, 4096 / 16 + 1, 'dense near the newest');
      // Far back the gap between kept pairs stays within a few percent of the distance from the newest.
      for (let i = 1; i < offsets.length; i++) {
        const gap = offsets[i]! - offsets[i - 1]!;
        const distance = 200_000 - offsets[i]!;
        assert.ok(gap <= 16 + distance / 8, `gap ${gap} at distance ${distance}`);
      }
      assert.equal(await store.pruneOffsetPairs(t.id, 'forward', 4096), 0, 'pruning again removes nothing');
    });
  });

  describe('offset syncs', () => {
    it('record the latest outcome per flow, group and source queue', async () => {
      const t = await store.insertTask(newTask('t-osync'));
      await store.upsertOffsetSyncs(t.id, 'forward', [
        { group: 'G1', ...q, sourceOffset: 30, targetBroker: 'broker-b', targetQueueId: 1, targetOffset: 131, status: 'synced' },
        {
          group: 'G2',
          ...q,
          sourceOffset: 5,
          targetBroker: null,
          targetQueueId: null,
          targetOffset: null,
          status: 'no-mapping-yet',
          error: 'no pair',
        },
      ]);
      await store.upsertOffsetSyncs(t.id, 'forward', [
        {
          group: 'G2',
          ...q,
          sourceOffset: 50,
          targetBroker: 'broker-b',
          targetQueueId: 1,
          targetOffset: 140,
          status: 'skipped-active-consumers',
        },
      ]);
      await store.upsertOffsetSyncs(t.id, 'reverse', [
        {
          group: 'G1',
          ...q,
          sourceOffset: 1,
          targetBroker: 'broker-a',
          targetQueueId: 1,
          targetOffset: 2,
          status: 'failed',
          error: 'boom',
        },
      ]);
      const items = await store.listOffsetSyncs(t.id);
      assert.deepEqual(
        items.map((i) => [i.flow, i.group, i.sourceOffset, i.targetOffset, i.status, i.error]),
        [
          ['forward', 'G1', 30, 131, 'synced', null],
          ['forward', 'G2', 50, 140, 'skipped-active-consumers', null],
          ['reverse', 'G1', 1, 2, 'failed', 'boom'],
        ],
      );
      assert.ok(items.every((i) => i.taskId === t.id && i.syncedAt instanceof Date && i.topic === 'orders' && i.queueId === 1));
      assert.ok(await store.deleteTask(t.tenant, t.id));
      await rejectsWith(
        store.upsertOffsetSyncs(t.id, 'forward', [
          { group: 'G1', ...q, sourceOffset: 1, targetBroker: null, targetQueueId: null, targetOffset: null, status: 'synced' },
        ]),
        'NOT_FOUND',
      );
    });
  });
});
