// Store contract, MetricsStore: per-minute buckets — on both adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../shared/store/store.ts';
import { MINUTE, newTask, rejectsWith, storeContract } from './store-contract.ts';

storeContract('MetricsStore', (db) => {
  let store: Store;
  let other: Store;
  before(() => {
    ({ store, other } = db);
  });
  const racers = (n: number) => db.racers(n);

  describe('metrics', () => {
    it('adds counters into minute buckets, overwrites gauges and keeps the largest delay max', async () => {
      const t = await store.insertTask(newTask('t-metrics'));
      const m0 = 28_000_000 * MINUTE;
      await store.addMetrics([
        {
          taskId: t.id,
          flow: 'a->b',
          minuteMs: m0,
          consumed: 10,
          replicated: 8,
          filtered: 1,
          loopSkipped: 1,
          lag: 50,
          delayP50Ms: 12.5,
          delayP99Ms: 80,
          delayMaxMs: 95,
        },
        { taskId: t.id, flow: 'a->b', minuteMs: m0, consumed: 5, failed: 2 }, // same bucket in one call
        { taskId: t.id, flow: 'b->a', minuteMs: m0, consumed: 7, replicated: 7 },
      ]);
      await other.addMetrics([
        { taskId: t.id, flow: 'a->b', minuteMs: m0, consumed: 1, replicated: 1, throttled: 3, lag: 20, delayP99Ms: 40, delayMaxMs: 60 },
        { taskId: t.id, flow: 'a->b', minuteMs: m0 + MINUTE, replicated: 4 },
      ]);

      const rows = await store.queryMetrics(t.id, m0, m0 + 2 * MINUTE);
      assert.deepEqual(
        rows.map((r) => [r.minuteMs, r.flow]),
        [
          [m0, 'a->b'],
          [m0, 'b->a'],
          [m0 + MINUTE, 'a->b'],
        ],
      );
      assert.deepEqual(rows[0], {
        taskId: t.id,
        flow: 'a->b',
        minuteMs: m0,
        consumed: 16,
        replicated: 9,
        filtered: 1,
        loopSkipped: 1,
        failed: 2,
        throttled: 3,
        lag: 20,
        delayP50Ms: 12.5,
        delayP99Ms: 40,
        delayMaxMs: 95, // given gauges replace, absent ones stay; max is the largest
        delayCounts: null,
        delaySumMs: 0,
      });
      assert.deepEqual(rows[2], {
        taskId: t.id,
        flow: 'a->b',
        minuteMs: m0 + MINUTE,
        consumed: 0,
        replicated: 4,
        filtered: 0,
        loopSkipped: 0,
        failed: 0,
        throttled: 0,
        lag: null,
        delayP50Ms: null,
        delayP99Ms: null,
        delayMaxMs: null,
        delayCounts: null,
        delaySumMs: 0,
      });
      await other.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: m0, delayMaxMs: 130 }]);
      assert.equal((await store.queryMetrics(t.id, m0, m0 + MINUTE))[0]!.delayMaxMs, 130);
      assert.deepEqual(
        (await store.queryMetrics(t.id, m0 + MINUTE, m0 + 2 * MINUTE)).map((r) => r.minuteMs),
        [m0 + MINUTE],
      );
      assert.deepEqual(await store.queryMetrics(t.id, m0 - MINUTE, m0), [], 'toMs is exclusive');

      await rejectsWith(store.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: m0 + 1, consumed: 1 }]), 'VALIDATION_FAILED');
    });

    it('loses no increments when shards add to the same bucket concurrently', async () => {
      const t = await store.insertTask(newTask('t-metrics'));
      const pool = await racers(20);
      await Promise.all(pool.map((s) => s.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: 0, consumed: 1, replicated: 2 }])));
      const [row] = await store.queryMetrics(t.id, 0, MINUTE);
      assert.equal(row?.consumed, 20);
      assert.equal(row?.replicated, 40);
    });

    it('adds delay bucket counts element-wise and sums the delays, across writers and within one call', async () => {
      const t = await store.insertTask(newTask('t-metrics'));
      const m0 = 28_000_010 * MINUTE;
      await store.addMetrics([
        { taskId: t.id, flow: 'a->b', minuteMs: m0, replicated: 3, delayCounts: [1, 0, 2], delaySumMs: 12.5 },
        { taskId: t.id, flow: 'a->b', minuteMs: m0, replicated: 1, delayCounts: [0, 0, 0, 1], delaySumMs: 40 }, // same bucket in one call
        { taskId: t.id, flow: 'b->a', minuteMs: m0, consumed: 2 }, // no delays: no counts
      ]);
      let [ab, ba] = await store.queryMetrics(t.id, m0, m0 + MINUTE);
      assert.deepEqual([ab?.delayCounts, ab?.delaySumMs], [[1, 0, 2, 1], 52.5]);
      assert.deepEqual([ba?.delayCounts, ba?.delaySumMs], [null, 0]);
      // Another writer (another connection on PostgreSQL) adds into the stored arrays, longer or shorter.
      await other.addMetrics([
        { taskId: t.id, flow: 'a->b', minuteMs: m0, delayCounts: [5, 1, 0, 0, 0, 7], delaySumMs: 100 },
        { taskId: t.id, flow: 'b->a', minuteMs: m0, delayCounts: [0, 3], delaySumMs: 30 },
      ]);
      await other.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: m0, delayCounts: [1], delaySumMs: 1 }]);
      await other.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: m0, replicated: 1 }]); // no counts: kept as they are
      [ab, ba] = await store.queryMetrics(t.id, m0, m0 + MINUTE);
      assert.deepEqual([ab?.delayCounts, ab?.delaySumMs, ab?.replicated], [[7, 1, 2, 1, 0, 7], 153.5, 5]);
      assert.deepEqual([ba?.delayCounts, ba?.delaySumMs], [[0, 3], 30]);
      const pool = await racers(10);
      await Promise.all(pool.map((s) => s.addMetrics([{ taskId: t.id, flow: 'b->a', minuteMs: m0, delayCounts: [1, 1], delaySumMs: 2 }])));
      [, ba] = await store.queryMetrics(t.id, m0, m0 + MINUTE);
      assert.deepEqual([ba?.delayCounts, ba?.delaySumMs], [[10, 13], 50], 'no concurrent increment lost');
      await rejectsWith(store.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: m0, delayCounts: [1, -1] }]), 'VALIDATION_FAILED');
      await rejectsWith(store.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: m0, delaySumMs: -1 }]), 'VALIDATION_FAILED');
    });

    it('adds per-topic counters and sums them over every minute by flow and topic; they go with the task', async () => {
      const t = await store.insertTask(newTask('t-topics'));
      const m0 = 28_000_020 * MINUTE;
      assert.deepEqual(await store.topicTotals(t.id), []);
      await store.addMetrics([
        {
          taskId: t.id,
          flow: 'a->b',
          minuteMs: m0,
          consumed: 5,
          topics: [
            { topic: 'orders', consumed: 3, replicated: 2, failed: 1 },
            { topic: 'payments', consumed: 2, replicated: 2, failed: 0 },
          ],
        },
        { taskId: t.id, flow: 'a->b', minuteMs: m0, topics: [{ topic: 'orders', consumed: 1, replicated: 1, failed: 0 }] },
      ]);
      await other.addMetrics([
        { taskId: t.id, flow: 'a->b', minuteMs: m0 + MINUTE, topics: [{ topic: 'orders', consumed: 10, replicated: 10, failed: 0 }] },
        { taskId: t.id, flow: 'b->a', minuteMs: m0, topics: [{ topic: 'orders', consumed: 4, replicated: 0, failed: 4 }] },
      ]);
      const pool = await racers(10);
      await Promise.all(
        pool.map((s) =>
          s.addMetrics([
            { taskId: t.id, flow: 'a->b', minuteMs: m0, topics: [{ topic: 'payments', consumed: 1, replicated: 1, failed: 0 }] },
          ]),
        ),
      );
      assert.deepEqual(await store.topicTotals(t.id), [
        { flow: 'a->b', topic: 'orders', consumed: 14, replicated: 13, failed: 1 },
        { flow: 'a->b', topic: 'payments', consumed: 12, replicated: 12, failed: 0 },
        { flow: 'b->a', topic: 'orders', consumed: 4, replicated: 0, failed: 4 },
      ]);
      await rejectsWith(
        store.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: m0, topics: [{ topic: 'x', consumed: -1, replicated: 0, failed: 0 }] }]),
        'VALIDATION_FAILED',
      );
      await rejectsWith(
        store.addMetrics([
          { taskId: 'ghost', flow: 'a->b', minuteMs: m0, topics: [{ topic: 'x', consumed: 1, replicated: 0, failed: 0 }] },
        ]),
        'NOT_FOUND',
      );
      assert.ok(await store.deleteTask(t.tenant, t.id));
      assert.deepEqual(await store.topicTotals(t.id), []);
    });

    it('ignores an empty delta list and refuses negative counters', async () => {
      const t = await store.insertTask(newTask('t-metrics'));
      await store.addMetrics([]);
      await rejectsWith(store.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: 0, consumed: -1 }]), 'VALIDATION_FAILED');
      assert.deepEqual(await store.queryMetrics(t.id, 0, Number.MAX_SAFE_INTEGER), [], 'a refused call writes nothing');
    });
  });
});
