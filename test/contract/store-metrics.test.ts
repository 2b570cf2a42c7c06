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

    it('ignores an empty delta list and refuses negative counters', async () => {
      const t = await store.insertTask(newTask('t-metrics'));
      await store.addMetrics([]);
      await rejectsWith(store.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: 0, consumed: -1 }]), 'VALIDATION_FAILED');
      assert.deepEqual(await store.queryMetrics(t.id, 0, Number.MAX_SAFE_INTEGER), [], 'a refused call writes nothing');
    });
  });
});
