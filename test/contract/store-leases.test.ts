// Store contract, LeaseStore and CheckpointStore: leases and their epochs, shard plans and their
// generations, and checkpoint writes fenced by both — on both adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../shared/store/store.ts';
import { newTask, rejectsWith, sleep, storeContract } from './store-contract.ts';

storeContract('LeaseStore and CheckpointStore', (db) => {
  let store: Store;
  let other: Store;
  before(() => {
    ({ store, other } = db);
  });
  const racers = (n: number) => db.racers(n);

  describe('leases', () => {
    it('gives a contested lease to exactly one of two racers', async () => {
      const t = await store.insertTask(newTask('t-lease'));
      const [r1, r2] = await racers(2);
      for (let shard = 0; shard < 10; shard++) {
        const results = await Promise.all([
          r1!.acquireLease({ taskId: t.id, flow: 'a->b', shard, owner: 'racer-1', ttlMs: 60_000 }),
          r2!.acquireLease({ taskId: t.id, flow: 'a->b', shard, owner: 'racer-2', ttlMs: 60_000 }),
        ]);
        const winners = results.filter((r) => r !== null);
        assert.equal(winners.length, 1, `shard ${shard}: exactly one winner`);
        assert.deepEqual(winners[0], { epoch: 1 });
      }
      const leases = await store.listLeases(t.id);
      assert.equal(leases.length, 10);
      assert.ok(leases.every((l) => l.epoch === 1 && (l.owner === 'racer-1' || l.owner === 'racer-2')));
    });

    it('gives a contested lease to exactly one of twenty racers, also when it is expired', async () => {
      const t = await store.insertTask(newTask('t-lease'));
      const pool = await racers(20);
      const race = (ttlMs: number) =>
        Promise.all(pool.map((s, i) => s.acquireLease({ taskId: t.id, flow: 'b->a', shard: 3, owner: `racer-${i}`, ttlMs })));

      // Long enough that the lease cannot expire while twenty statements queue on a busy machine.
      const first = (await race(2_000)).filter((r) => r !== null);
      assert.deepEqual(first, [{ epoch: 1 }]);

      await sleep(2_100); // let it expire: the twenty race for the takeover
      const second = (await race(60_000)).filter((r) => r !== null);
      assert.deepEqual(second, [{ epoch: 2 }]);

      const [lease] = await store.listLeases(t.id);
      assert.equal(lease?.epoch, 2);
    });

    it('fences tenures with growing epochs: re-acquire, renew, release, expiry takeover', async () => {
      const t = await store.insertTask(newTask('t-lease'));
      const key = { taskId: t.id, flow: 'a->b', shard: 0 };

      const a1 = await store.acquireLease({ ...key, owner: 'A', ttlMs: 60_000 });
      assert.deepEqual(a1, { epoch: 1 });
      const [held] = await store.listLeases(t.id);
      assert.equal(held?.owner, 'A');
      // expiresAtMs is on the database clock; database and test share this machine's clock.
      assert.ok(Math.abs(held!.expiresAtMs - (Date.now() + 60_000)) < 5_000);

      assert.equal(await other.acquireLease({ ...key, owner: 'B', ttlMs: 60_000 }), null, 'held by A');

      // Re-acquiring by the same owner starts a new tenure (documented choice).
      const a2 = await store.acquireLease({ ...key, owner: 'A', ttlMs: 60_000 });
      assert.deepEqual(a2, { epoch: 2 });
      assert.equal(await store.renewLease(key, 'A', 1, 60_000), false, 'the old tenure is fenced out');
      assert.equal(await store.renewLease(key, 'A', 2, 60_000), true);
      assert.equal(await store.renewLease(key, 'B', 2, 60_000), false);
      assert.equal(await store.releaseLease(key, 'B', 2), false, 'only the holder releases');

      assert.equal(await store.releaseLease(key, 'A', 2), true);
      const released = (await store.listLeases(t.id))[0]!.expiresAtMs;
      assert.ok(Math.abs(released - Date.now()) < 5_000, 'a released lease expires at its release time');
      assert.deepEqual(await other.acquireLease({ ...key, owner: 'B', ttlMs: 100 }), { epoch: 3 }, 'released lease is free');

      await sleep(200);
      assert.deepEqual(await store.acquireLease({ ...key, owner: 'A', ttlMs: 60_000 }), { epoch: 4 }, 'expired lease is taken over');
      assert.equal(await other.renewLease(key, 'B', 3, 60_000), false, 'the expired holder cannot renew after a takeover');

      await rejectsWith(store.acquireLease({ ...key, owner: 'A', ttlMs: 0 }), 'VALIDATION_FAILED');
    });

    it("keeps the holder's stats until it reports new ones, and a new tenure starts without any", async () => {
      const t = await store.insertTask(newTask('t-lease'));
      assert.deepEqual(await store.listLeases(t.id), []);
      const key = { taskId: t.id, flow: 'a->b', shard: 0 };
      const a = await store.acquireLease({ ...key, owner: 'A', ttlMs: 60_000 });
      assert.ok(a);
      const stats = async () => (await store.listLeases(t.id)).map((l) => [l.lag, l.rate, l.generation]);
      assert.deepEqual(await stats(), [[null, null, 0]]);
      assert.equal(await store.renewLease(key, 'A', a.epoch, 60_000, { lag: 40, rate: 2.5 }), true);
      assert.equal(await store.renewLease(key, 'A', a.epoch, 60_000), true);
      assert.deepEqual(await stats(), [[40, 2.5, 0]], 'a renewal without stats keeps the last ones');
      assert.ok(await store.acquireLease({ ...key, owner: 'A', ttlMs: 60_000 }));
      assert.deepEqual(await stats(), [[null, null, 0]]);
    });
  });

  describe('runtimes', () => {
    it('lists the runtimes seen within the TTL, each with the live leases its owners hold', async () => {
      const t = await store.insertTask(newTask('t-runtimes'));
      const a = `rt-a-${Date.now()}`;
      const b = `rt-b-${Date.now()}`;
      await store.heartbeatRuntime(b, 60_000);
      for (const [shard, owner] of [
        [0, `${a}-1111`],
        [1, `${a}-2222`],
        [2, `${b}-3333`],
        [3, `${a}x-4444`], // another runtime whose id merely starts with a's
      ] as const)
        assert.ok(await store.acquireLease({ taskId: t.id, flow: 'a->b', shard, owner, ttlMs: 60_000 }));
      const released = await store.acquireLease({ taskId: t.id, flow: 'a->b', shard: 4, owner: `${a}-5555`, ttlMs: 60_000 });
      assert.ok(await store.releaseLease({ taskId: t.id, flow: 'a->b', shard: 4 }, `${a}-5555`, released!.epoch));
      const seen = (await store.heartbeatRuntime(a, 60_000)).filter((r) => r.id === a || r.id === b);
      assert.deepEqual(seen, [
        { id: a, leases: 2 },
        { id: b, leases: 1 },
      ]);
      await sleep(300);
      const fresh = (await store.heartbeatRuntime(a, 200)).filter((r) => r.id === a || r.id === b);
      assert.deepEqual(fresh, [{ id: a, leases: 2 }], 'b was not seen within 200 ms');
    });
  });

  describe('shard plans', () => {
    it(
      'starts a new generation on a new count; older leases can no longer renew or checkpoint, and the new layout waits for ' + 'them',
      async () => {
        const t = await store.insertTask(newTask('t-plan'));
        const flow = 'forward';
        assert.deepEqual(await store.getShardPlans(t.id), []);
        const p1 = await store.setShardCount(t.id, flow, 2);
        assert.deepEqual([p1.shardCount, p1.generation], [2, 1]);
        assert.equal((await store.setShardCount(t.id, flow, 2)).generation, 1, 'same count, same generation');

        assert.equal(
          await store.acquireLease({ taskId: t.id, flow, shard: 0, owner: 'A', ttlMs: 60_000 }),
          null,
          'generation 0 is not the plan',
        );
        assert.equal(
          await store.acquireLease({ taskId: t.id, flow, shard: 2, owner: 'A', ttlMs: 60_000, generation: 1 }),
          null,
          'shard outside the plan',
        );
        const a = await store.acquireLease({ taskId: t.id, flow, shard: 1, owner: 'A', ttlMs: 60_000, generation: 1 });
        assert.ok(a);
        const holder = { taskId: t.id, flow, shard: 1, owner: 'A', epoch: a.epoch };
        await store.saveCheckpoints(holder, [{ topic: 'orders', broker: 'b', queueId: 0, nextOffset: 5 }]);
        assert.equal(await store.renewLease(holder, 'A', a.epoch, 60_000, { lag: 7, rate: 12.5 }), true);
        const [held] = await store.listLeases(t.id);
        assert.deepEqual([held?.generation, held?.lag, held?.rate], [1, 7, 12.5]);

        const p2 = await store.setShardCount(t.id, flow, 3);
        assert.deepEqual([p2.shardCount, p2.generation], [3, 2]);
        assert.equal(await store.renewLease(holder, 'A', a.epoch, 60_000), false, 'the old layout cannot renew');
        await rejectsWith(store.saveCheckpoints(holder, [{ topic: 'orders', broker: 'b', queueId: 0, nextOffset: 9 }]), 'STALE_EPOCH');
        assert.equal((await store.getCheckpoints(t.id, flow))[0]?.nextOffset, 5);
        assert.equal(
          await other.acquireLease({ taskId: t.id, flow, shard: 0, owner: 'B', ttlMs: 60_000, generation: 2 }),
          null,
          'waits while a lease of generation 1 is live',
        );
        assert.equal(await store.releaseLease(holder, 'A', a.epoch), true);
        const b = await other.acquireLease({ taskId: t.id, flow, shard: 1, owner: 'B', ttlMs: 60_000, generation: 2 });
        assert.ok(b, 'the new layout starts once the old one released');
        await other.saveCheckpoints({ taskId: t.id, flow, shard: 1, owner: 'B', epoch: b.epoch }, [
          { topic: 'orders', broker: 'b', queueId: 0, nextOffset: 9, exact: true },
        ]);
        const [c] = await store.getCheckpoints(t.id, flow);
        assert.deepEqual([c?.nextOffset, c?.exact], [9, true]);
        assert.deepEqual(await store.countCheckpoints(t.id), { [flow]: 1 });
        await rejectsWith(store.setShardCount(t.id, flow, 0), 'VALIDATION_FAILED');
        await rejectsWith(store.setShardCount('no-such-task', flow, 1), 'NOT_FOUND');
      },
    );
  });

  describe('checkpoints', () => {
    it('rejects a checkpoint write with a stale epoch and keeps the stored offsets', async () => {
      const t = await store.insertTask(newTask('t-ckpt'));
      const key = { taskId: t.id, flow: 'a->b', shard: 1 };
      const big = 2 ** 52 + 3; // int8 round-trips as an exact JS number

      const a = await store.acquireLease({ ...key, owner: 'A', ttlMs: 100 });
      assert.ok(a);
      await store.saveCheckpoints({ ...key, owner: 'A', epoch: a.epoch }, [
        { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 10 },
        { topic: 'orders', broker: 'broker-a', queueId: 1, nextOffset: big },
      ]);

      await sleep(200);
      const b = await other.acquireLease({ ...key, owner: 'B', ttlMs: 60_000 });
      assert.deepEqual(b, { epoch: a.epoch + 1 });

      await rejectsWith(
        store.saveCheckpoints({ ...key, owner: 'A', epoch: a.epoch }, [
          { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 99 },
          { topic: 'orders', broker: 'broker-a', queueId: 2, nextOffset: 7 },
        ]),
        'STALE_EPOCH',
      );
      await rejectsWith(
        store.saveCheckpoints({ ...key, owner: 'A', epoch: b!.epoch }, [
          { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 98 },
        ]),
        'STALE_EPOCH',
        // right epoch, wrong owner
      );
      await rejectsWith(
        store.saveCheckpoints({ ...key, shard: 9, owner: 'A', epoch: 1 }, [
          { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 97 },
        ]),
        'STALE_EPOCH',
        // no lease at all
      );

      const afterReject = await store.getCheckpoints(t.id, 'a->b');
      assert.deepEqual(
        afterReject.map((c) => [c.queueId, c.nextOffset, c.epoch]),
        [
          [0, 10, a.epoch],
          [1, big, a.epoch],
        ],
      );
      assert.equal(typeof afterReject[1]?.nextOffset, 'number');

      await other.saveCheckpoints({ ...key, owner: 'B', epoch: b!.epoch }, [
        { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 20 },
        { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 21 }, // duplicate key: last wins
      ]);
      const current = await store.getCheckpoints(t.id, 'a->b');
      assert.deepEqual(
        current.map((c) => [c.queueId, c.nextOffset, c.epoch]),
        [
          [0, 21, b!.epoch],
          [1, big, a.epoch],
        ],
      );
      assert.ok(current.every((c) => c.taskId === t.id && c.flow === 'a->b' && c.topic === 'orders' && c.updatedAt instanceof Date));
    });

    it('holds off a takeover until an in-flight fenced write has committed', async () => {
      const t = await store.insertTask(newTask('t-ckpt'));
      const key = { taskId: t.id, flow: 'a->b', shard: 0 };
      const a = await store.acquireLease({ ...key, owner: 'A', ttlMs: 1 });
      assert.ok(a);
      await sleep(20); // A's lease has expired: B may take it over at any moment

      let takeover: Promise<{ epoch: number } | null> | undefined;
      let tookOverEarly = false;
      await store.withTransaction(async (tx) => {
        await tx.saveCheckpoints({ ...key, owner: 'A', epoch: a.epoch }, [{ topic: 't', broker: 'b', queueId: 0, nextOffset: 100 }]);
        // The fenced write still holds the lease row: B's takeover must wait for it to commit,
        // otherwise A's offsets could land after B started from the old ones.
        takeover = other.acquireLease({ ...key, owner: 'B', ttlMs: 60_000 });
        takeover.then(
          () => {
            tookOverEarly = true;
          },
          () => {},
        );
        await sleep(150);
      });
      assert.equal(tookOverEarly, false, 'takeover waited for the fenced write');
      assert.deepEqual(await takeover, { epoch: a.epoch + 1 });

      const [ckpt] = await store.getCheckpoints(t.id, 'a->b');
      assert.deepEqual([ckpt?.nextOffset, ckpt?.epoch], [100, a.epoch]);
      await rejectsWith(
        store.saveCheckpoints({ ...key, owner: 'A', epoch: a.epoch }, [{ topic: 't', broker: 'b', queueId: 0, nextOffset: 101 }]),
        'STALE_EPOCH',
      );
    });

    it('fences out an earlier tenure of the same owner', async () => {
      const t = await store.insertTask(newTask('t-ckpt'));
      const key = { taskId: t.id, flow: 'a->b', shard: 0 };
      const first = await store.acquireLease({ ...key, owner: 'fn-instance-1', ttlMs: 60_000 });
      const second = await store.acquireLease({ ...key, owner: 'fn-instance-1', ttlMs: 60_000 });
      assert.ok(first && second && second.epoch > first.epoch);
      await store.saveCheckpoints({ ...key, owner: 'fn-instance-1', epoch: second.epoch }, [
        { topic: 't', broker: 'b', queueId: 0, nextOffset: 5 },
      ]);
      await rejectsWith(
        store.saveCheckpoints({ ...key, owner: 'fn-instance-1', epoch: first.epoch }, [
          { topic: 't', broker: 'b', queueId: 0, nextOffset: 1 },
        ]),
        'STALE_EPOCH',
      );
      assert.deepEqual(
        (await store.getCheckpoints(t.id, 'a->b')).map((c) => c.nextOffset),
        [5],
      );
    });

    it('keeps a catch-up baseline from the start-offset capture that only checkpoints move', async () => {
      const t = await store.insertTask(newTask('t-catch-up'));
      const q = (queueId: number, nextOffset: number, baselineEnd?: number) => ({
        topic: 'orders',
        broker: 'broker-a',
        queueId,
        nextOffset,
        ...(baselineEnd === undefined ? {} : { baselineEnd }),
      });
      assert.deepEqual(await store.catchUpBaselines(t.id), []);
      const before = Date.now();
      await store.setCheckpoints(t.id, 'a->b', [q(0, 100, 600), q(1, 0, 400), q(2, 50, 50)]);
      const [base] = await store.catchUpBaselines(t.id);
      assert.deepEqual({ ...base, sinceMs: 0 }, { flow: 'a->b', sinceMs: 0, queues: 3, backlog: 900, done: 0 });
      assert.ok(base!.sinceMs >= before - 5_000 && base!.sinceMs <= Date.now() + 5_000, 'since: the capture, by the database clock');

      const holder = { taskId: t.id, flow: 'a->b', shard: 0, owner: 'r', ttlMs: 60_000 };
      const lease = await store.acquireLease(holder);
      // Queue 0 passes its end at start (new messages arrived since): only the backlog counts.
      await store.saveCheckpoints({ ...holder, epoch: lease!.epoch }, [q(0, 900), q(1, 150), q(3, 10)]);
      assert.deepEqual(
        (await store.catchUpBaselines(t.id)).map((b) => [b.backlog, b.done]),
        [[900, 650]],
      );
      // A capture without ends (no baseline) clears it; one with ends starts a new one.
      await store.setCheckpoints(t.id, 'a->b', [q(0, 900), q(1, 150), q(2, 50)]);
      assert.deepEqual(await store.catchUpBaselines(t.id), []);
      await store.setCheckpoints(t.id, 'a->b', [q(0, 0, 900)]);
      assert.deepEqual(
        (await store.catchUpBaselines(t.id)).map((b) => [b.queues, b.backlog, b.done]),
        [[1, 900, 0]],
      );
    });

    it('sets checkpoints unfenced for start-offset capture and reset', async () => {
      const t = await store.insertTask(newTask('t-ckpt'));
      await store.setCheckpoints(t.id, 'a->b', [
        { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 1000 },
        { topic: 'orders', broker: 'broker-b', queueId: 0, nextOffset: 2000 },
      ]);
      await store.setCheckpoints(t.id, 'b->a', [{ topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 3 }]);
      await store.setCheckpoints(t.id, 'a->b', [{ topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 0 }]);
      await store.setCheckpoints(t.id, 'a->b', []);

      const ab = await store.getCheckpoints(t.id, 'a->b');
      assert.deepEqual(
        ab.map((c) => [c.broker, c.nextOffset, c.epoch]),
        [
          ['broker-a', 0, 0],
          ['broker-b', 2000, 0],
        ],
      );
      assert.deepEqual(
        (await store.getCheckpoints(t.id, 'b->a')).map((c) => c.nextOffset),
        [3],
      );
      await rejectsWith(
        store.setCheckpoints(t.id, 'a->b', [{ topic: 'orders', broker: 'x', queueId: 0, nextOffset: -1 }]),
        'VALIDATION_FAILED',
      );
    });

    it('reads nothing for a flow without checkpoints, and accepts an empty fenced write from the holder', async () => {
      const t = await store.insertTask(newTask('t-ckpt'));
      assert.deepEqual(await store.getCheckpoints(t.id, 'a->b'), []);
      assert.deepEqual(await store.countCheckpoints(t.id), {});
      const key = { taskId: t.id, flow: 'a->b', shard: 0 };
      const a = await store.acquireLease({ ...key, owner: 'A', ttlMs: 60_000 });
      assert.ok(a);
      await store.saveCheckpoints({ ...key, owner: 'A', epoch: a.epoch }, []);
      assert.deepEqual(await store.countCheckpoints(t.id), {});
    });
  });
});
