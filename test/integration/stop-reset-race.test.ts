// Reset during a replicator hand-over is never undone. Real PostgreSQL (a throwaway database), the
// real TaskService (stop, reset-offset, start) and the real reconciler (stopping → stopped, start
// with start-offset capture, against the shared test bed's clusters); the replicators are played
// with the store's own lease and checkpoint calls, so their timing can be shuffled: a holder and
// its successor mid hand-over, one releasing, one letting its lease expire, both trying to write a
// final checkpoint at random moments before and after the reset is applied. Repeated 50 times.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isFerryError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/log.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { LeaseHolder, Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { side, type Side } from '../support/sides.ts';
import { selfBuilt, taskSpec } from '../support/task-spec.ts';
import { testCluster } from '../support/testbed.ts';

const ROUNDS = Number(process.env.FERRY_RACE_ROUNDS ?? 50);
/** Reset to (nearly) the beginning of time: the queue's first offset. */
const RESET_AT = 1;
/** Set when the suite ends (a failed round included): every simulated replicator gives up. */
let ended = false;
const TENANT = 'race';
const admin = { tenant: TENANT, role: 'admin' as const, subject: 'token:test' };
const log = createLogger(process.env.FERRY_TEST_LOG ?? 'silent');
const cipher = aesGcmCipher(randomBytes(32));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const jitter = (max: number) => sleep(Math.floor(Math.random() * max));

describe('reset during a replicator hand-over (real PostgreSQL, real reconciler)', () => {
  let db: Throwaway<string>;
  let store: Store;
  let src: Side;
  let srcInfo: ClusterInfo;
  let dstInfo: ClusterInfo;
  const topic = `race_${Date.now().toString(36)}`;
  let resetOffset = -1;

  before(async () => {
    db = await throwawayPostgres();
    store = await openStore({ databaseUrl: db.value, dataDir: '/nonexistent-unused' });
    [srcInfo, dstInfo] = await Promise.all([testCluster('v4'), testCluster('v5')]);
    src = side(srcInfo);
    await src.admin.createOrUpdateTopicInCluster(srcInfo.name, { topicName: topic, readQueueNums: 1, writeQueueNums: 1, perm: 6 });
    for (let i = 0; i < 20; i++) await src.broker.send(src.addr, topic, 0, { body: Buffer.from(`m${i}`) });
    // A reset to the beginning of time lands on the queue's first offset.
    resetOffset = await src.broker.offsetAtOrAfter(src.addr, topic, 0, RESET_AT);
  });

  after(async () => {
    ended = true;
    await sleep(100);
    src?.remoting.close();
    await store?.close();
    await db?.drop();
  });

  /**
   * The store as Ferry had it before the fix, for the control run: stop finds no live lease (so it is
   * immediate) and nothing is fenced.
   */
  const unfenced = (inner: Store): Store =>
    new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'fenceLeases') return async () => 0;
        if (prop === 'liveLeaseCount') return async () => 0;
        if (prop === 'withTransaction') return <R>(fn: (tx: Store) => Promise<R>) => target.withTransaction((tx) => fn(unfenced(tx)));
        return Reflect.get(target, prop, receiver);
      },
    });

  const checkpointOf = async (taskId: string) => (await store.getCheckpoints(taskId, 'forward')).find((c) => c.topic === topic);

  /**
   * A replicator that still believes it holds the shard: it keeps trying to write `offset` until
   * told to quit. Returns how many of its writes started after the reset was applied and landed.
   */
  const staleWriter = (holder: LeaseHolder, offset: number, quit: () => boolean) =>
    (async () => {
      let landedAfterReset = 0;
      while (!quit() && !ended) {
        const applied = resetApplied.has(holder.taskId);
        try {
          await store.saveCheckpoints(holder, [{ topic, broker: srcInfo.brokers[0]!.name, queueId: 0, nextOffset: offset }]);
          if (applied) landedAfterReset++;
        } catch (err) {
          if (!isFerryError(err, 'STALE_EPOCH') && !isFerryError(err, 'NOT_FOUND')) throw err;
        }
        await jitter(15);
      }
      return landedAfterReset;
    })();
  const resetApplied = new Set<string>();

  /** One hand-over with a stop, a reset and a start in the middle of it; whether the reset survived. */
  async function round(n: number, s: Store, outcomes: Record<string, number>): Promise<{ kept: boolean; why: string }> {
    const svc = new TaskService(s, cipher, { requireManagedSide: false });
    const deps = { store: s, cipher, log, invoker: { invokeReplicator: async () => undefined } };
    const spec = taskSpec(
      {
        direction: 'one-way',
        source: selfBuilt({ clusterId: srcInfo.name, nameServer: srcInfo.nameServer }),
        target: selfBuilt({ clusterId: dstInfo.name, nameServer: dstInfo.nameServer }),
      },
      cipher,
    );
    spec.filter = { ...spec.filter, topics: { include: [topic], exclude: [] } };
    const task = await store.insertTask({
      id: `task-${randomUUID()}`,
      tenant: TENANT,
      name: `race-${randomUUID().slice(0, 8)}`,
      spec,
      desiredState: 'running',
      status: 'running',
      startOffsetsCaptured: true,
    });
    await store.setCheckpoints(task.id, 'forward', [{ topic, broker: srcInfo.brokers[0]!.name, queueId: 0, nextOffset: 20 }]);
    const key = { taskId: task.id, flow: 'forward', shard: 0 };

    // The holder, and its successor already waiting for the lease (a hand-over in progress).
    const first = await store.acquireLease({ ...key, owner: 'r1', ttlMs: 15_000 });
    assert.ok(first);
    const r1: LeaseHolder = { ...key, owner: 'r1', epoch: first.epoch };
    let quit = false;
    const w1 = staleWriter(r1, 17, () => quit);
    const expire = n % 2 === 1;
    const successor = (async () => {
      for (;;) {
        if (ended) throw new Error('suite ended');
        const got = await store.acquireLease({ ...key, owner: 'r2', ttlMs: expire ? 300 : 15_000 });
        if (got) return { ...key, owner: 'r2', epoch: got.epoch } as LeaseHolder;
        await sleep(5);
      }
    })();
    try {
      await jitter(20);
      const stopped = await svc.stop(admin, task.id);
      assert.ok(['stopping', 'stopped'].includes(stopped.status), stopped.status);

      // r1 lets go at a random moment; r2 takes over and writes too, then releases or just goes silent.
      await jitter(30);
      await store.releaseLease(key, 'r1', r1.epoch);
      const r2 = await successor;
      const w2 = staleWriter(r2, 19, () => quit);
      const r2Exit = (async () => {
        await jitter(60);
        if (expire) outcomes.expired!++;
        else {
          outcomes.released!++;
          await store.releaseLease(key, 'r2', r2.epoch);
        }
      })();

      // The operator: reset as soon as the API allows it, then start; the reconciler runs meanwhile.
      for (;;) {
        await reconcile(deps, {});
        try {
          await svc.resetOffset(admin, task.id, { timestamp: RESET_AT });
          break;
        } catch (err) {
          if (!isFerryError(err, 'INVALID_STATE')) throw err;
          outcomes.refusedWhileStopping!++;
          await sleep(20);
        }
      }
      await svc.start(admin, task.id);
      await reconcile(deps, {});
      const started = await store.getTask(TENANT, task.id);
      assert.equal(started?.status, 'running', `round ${n}: ${started?.statusReason ?? ''}`);
      resetApplied.add(task.id);
      const applied = (await checkpointOf(task.id))?.nextOffset;

      // The stale replicators keep trying for a while after the reset was applied.
      await jitter(40);
      await sleep(30);
      quit = true;
      const late = (await Promise.all([w1, w2])).reduce((a, b) => a + b, 0);
      await r2Exit;
      const final = (await checkpointOf(task.id))?.nextOffset;
      const why = `applied ${applied}, ${late} late writes landed, final ${final} (reset offset ${resetOffset})`;
      return { kept: applied === resetOffset && late === 0 && final === resetOffset, why };
    } finally {
      quit = true;
      await store.deleteTask(TENANT, task.id).catch(() => false);
    }
  }

  it(`is never undone (${ROUNDS} rounds)`, async () => {
    const outcomes = { released: 0, expired: 0, refusedWhileStopping: 0 };
    for (let n = 0; n < ROUNDS; n++) {
      const r = await round(n, store, outcomes);
      assert.ok(r.kept, `round ${n}: reset undone: ${r.why}`);
    }
    console.log(`# ${ROUNDS} rounds: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.refusedWhileStopping > 0, 'reset was asked while stopping at least once');
  });

  it('control: without stopping and fencing (the old behaviour) the same schedule does undo it', async () => {
    const outcomes = { released: 0, expired: 0, refusedWhileStopping: 0 };
    let undone = 0;
    for (let n = 0; n < 10; n++) if (!(await round(n, unfenced(store), outcomes)).kept) undone++;
    console.log(`# control: ${undone} of 10 rounds undone`);
    assert.ok(undone > 0, 'the race is real: some round is undone without the fix');
  });
});
