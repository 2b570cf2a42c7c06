// Store contract, ParkedStore: parked messages and their retry — on both adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../shared/store/store.ts';
import { newTask, rejectsWith, storeContract } from './store-contract.ts';

storeContract('ParkedStore', (db) => {
  let store: Store;
  before(() => {
    ({ store } = db);
  });
  const racers = (n: number) => db.racers(n);

  describe('parked messages', () => {
    it("keeps a parked message's flag and born time", async () => {
      const t = await store.insertTask(newTask('t-parked-flag'));
      const base = {
        taskId: t.id,
        flow: 'forward',
        topic: 'orders',
        broker: 'broker-a',
        queueId: 0,
        reason: 'too large',
        payload: new Uint8Array([1]),
        properties: {},
      };
      await store.parkMessage({ ...base, queueOffset: 1, flag: 7, bornTimestamp: 1_700_000_000_123 });
      await store.parkMessage({ ...base, queueOffset: 2 });
      const got = await store.listParked(t.id, { limit: 10 });
      assert.deepEqual(
        got.map((p) => [p.flag, p.bornTimestamp]),
        [
          [7, 1_700_000_000_123],
          [0, null],
        ],
      );
    });

    it('parks, lists, retries on request and resolves', async () => {
      const t = await store.insertTask(newTask('t-parked'));
      const base = { taskId: t.id, topic: 'orders', broker: 'broker-a', queueId: 2, reason: 'SEND_FAILED: timeout' };
      const id1 = await store.parkMessage({
        ...base,
        flow: 'a->b',
        queueOffset: 100,
        payload: new Uint8Array([1, 2, 3]),
        properties: { KEYS: 'k1', ferry_origin: 'c1' },
      });
      const id2 = await store.parkMessage({ ...base, flow: 'a->b', queueOffset: 101, payload: new Uint8Array([0, 255]), properties: {} });
      const id3 = await store.parkMessage({ ...base, flow: 'b->a', queueOffset: 7, payload: new Uint8Array([]), properties: {} });
      assert.ok(id1 < id2 && id2 < id3);

      const light = await store.listParked(t.id, { limit: 10 });
      assert.deepEqual(
        light.map((p) => [p.id, p.payloadSize, p.payload]),
        [
          [id1, 3, undefined],
          [id2, 2, undefined],
          [id3, 0, undefined],
        ],
      );
      assert.deepEqual(await store.countParked(t.id), { 'a->b': 2, 'b->a': 1 });
      assert.deepEqual(light[0]?.properties, { KEYS: 'k1', ferry_origin: 'c1' });
      assert.equal(light[0]?.queueOffset, 100);
      assert.equal(light[0]?.retryRequestedAt, null);

      const full = await store.listParked(t.id, { limit: 2, includePayload: true });
      assert.deepEqual(
        full.map((p) => p.payload),
        [new Uint8Array([1, 2, 3]), new Uint8Array([0, 255])],
      );

      assert.deepEqual(await store.takeRetryBatch(t.id, 'a->b', 10), [], 'nothing requested yet');
      assert.equal(await store.requestRetry(t.id), 3);
      assert.ok((await store.listParked(t.id, { limit: 10 })).every((p) => p.retryRequestedAt instanceof Date));

      assert.deepEqual(await store.retryRequestedFlows(t.id), ['a->b', 'b->a']);
      const batch = await store.takeRetryBatch(t.id, 'a->b', 10);
      assert.deepEqual(
        batch.map((p) => [p.id, p.flow]),
        [
          [id1, 'a->b'],
          [id2, 'a->b'],
        ],
      );
      assert.deepEqual(batch[0]?.payload, new Uint8Array([1, 2, 3]));
      assert.deepEqual(await store.takeRetryBatch(t.id, 'a->b', 10), [], 'a taken message is not handed out twice');

      assert.equal(await store.resolveParked([id1]), 1);
      assert.equal(await store.resolveParked([id1]), 0, 'already resolved');
      assert.deepEqual(
        (await store.listParked(t.id, { limit: 10 })).map((p) => p.id),
        [id2, id3],
        'resolved hidden by default',
      );
      assert.deepEqual(await store.countParked(t.id), { 'a->b': 1, 'b->a': 1 }, 'resolved not counted');
      const withResolved = await store.listParked(t.id, { limit: 10, includeResolved: true });
      assert.ok(withResolved.find((p) => p.id === id1)?.resolvedAt instanceof Date);

      // id2 failed again (left unresolved): a new request brings it back, with the still-pending id3.
      assert.equal(await store.requestRetry(t.id), 2);
      assert.deepEqual(
        (await store.takeRetryBatch(t.id, 'a->b', 10)).map((p) => p.id),
        [id2],
      );
      assert.deepEqual(
        (await store.takeRetryBatch(t.id, 'b->a', 10)).map((p) => p.id),
        [id3],
      );
      assert.equal(await store.resolveParked([id2, id3]), 2);
      assert.deepEqual(await store.listParked(t.id, { limit: 10 }), []);
      assert.equal(await store.requestRetry(t.id), 0);
      assert.deepEqual(await store.countParked(t.id), {});
    });

    it('hands each retry-requested message to only one of several concurrent takers', async () => {
      const t = await store.insertTask(newTask('t-parked'));
      const ids: number[] = [];
      for (let i = 0; i < 12; i++) {
        ids.push(
          await store.parkMessage({
            taskId: t.id,
            flow: 'a->b',
            topic: 'orders',
            broker: 'b',
            queueId: 0,
            queueOffset: i,
            reason: 'x',
            payload: new Uint8Array([i]),
            properties: {},
          }),
        );
      }
      assert.equal(await store.requestRetry(t.id), 12);
      const pool = await racers(4);
      const batches = await Promise.all(pool.map((s) => s.takeRetryBatch(t.id, 'a->b', 5)));
      const taken = batches
        .flat()
        .map((p) => p.id)
        .sort((x, y) => x - y);
      assert.deepEqual(taken, ids, 'every message taken exactly once');
    });

    it('refuses to park for a task that is gone, and checks its limits', async () => {
      await rejectsWith(
        store.parkMessage({
          taskId: 'no-such-task',
          flow: 'a->b',
          topic: 'orders',
          broker: 'b',
          queueId: 0,
          queueOffset: 1,
          reason: 'x',
          payload: new Uint8Array([1]),
          properties: {},
        }),
        'NOT_FOUND',
      );
      const t = await store.insertTask(newTask('t-parked'));
      await rejectsWith(store.listParked(t.id, { limit: 0 }), 'VALIDATION_FAILED');
      await rejectsWith(store.listParked(t.id, { limit: 1001 }), 'VALIDATION_FAILED');
      await rejectsWith(store.takeRetryBatch(t.id, 'a->b', 0), 'VALIDATION_FAILED');
      assert.equal(await store.resolveParked([]), 0);
      assert.deepEqual(await store.retryRequestedFlows(t.id), []);
      assert.deepEqual(await store.countParked(t.id), {});
    });
  });
});
