// Task health: every transition of the pure evaluation (signals + the record before → the record
// after), how the record is shown per task status, and the reconciler's health pass against fakes
// of the task and lease ports (which shards count as held, and that an unchanged record is not
// written again).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHealth } from '../../shared/replication/health-check.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import type { Lease, LeaseStore, ShardPlan, TaskRow, TaskStore } from '../../shared/store/store.ts';
import {
  DEFAULT_HEALTH_WINDOWS,
  decodeHealthRecord,
  evaluateHealth,
  taskHealth,
  type FlowSignals,
  type HealthRecord,
  type HealthSignals,
  type HealthWindows,
} from '../../shared/tasks/health.ts';
import type { TaskSpec } from '../../shared/tasks/model.ts';

const W: HealthWindows = { unreachableAfterMs: 30_000, lagWithoutProgressMs: 120_000, stallAfterIntervals: 2 };
const T0 = 1_700_000_000_000;
const flow = (over: Partial<FlowSignals> = {}): FlowSignals => ({ flow: 'A->B', unheld: [], lag: 0, rate: 1, ...over });
const healthy = (now: number, over: Partial<HealthSignals> = {}): HealthSignals => ({
  now,
  clusters: [
    { clusterId: 'A', problem: null },
    { clusterId: 'B', problem: null },
  ],
  flows: [flow()],
  ...over,
});
const targetDown = (now: number, problem = 'broker b0 (127.0.0.1:1) of the target cluster B is unreachable: connect ECONNREFUSED') =>
  healthy(now, {
    clusters: [
      { clusterId: 'A', problem: null },
      { clusterId: 'B', problem },
    ],
  });

/** Runs the evaluation over a sequence of signals, each from the record before. */
function run(signals: HealthSignals[], w = W, start?: HealthRecord): HealthRecord[] {
  const out: HealthRecord[] = [];
  let prev = start;
  for (const s of signals) {
    prev = evaluateHealth(prev, s, w);
    out.push(prev);
  }
  return out;
}

describe('health evaluation', () => {
  it('is ok with no reason from the first run when every signal is fine, and an unchanged run gives an equal record', () => {
    const [first, second] = run([healthy(T0), healthy(T0 + 3000)]);
    assert.deepEqual(first, { state: 'ok', reason: null, since: T0 });
    assert.deepEqual(second, first, 'nothing changed: nothing to write');
    assert.deepEqual(DEFAULT_HEALTH_WINDOWS, W, 'the product defaults: 30 s, 2 min, two intervals');
  });

  it('ok → degraded once a cluster has failed its probe for the window, naming it; → ok when it answers again', () => {
    const [before, within, at, stillDown, back] = run([
      healthy(T0),
      targetDown(T0 + 1000),
      targetDown(T0 + 31_000),
      targetDown(T0 + 40_000, 'the target cluster B has no broker registered at 127.0.0.1:9876'),
      healthy(T0 + 45_000),
    ]);
    assert.equal(before!.state, 'ok');
    assert.equal(within!.state, 'ok', 'not yet: 0 s of 30 s');
    assert.deepEqual(within!.unreachable, {
      B: { since: T0 + 1000, problem: 'broker b0 (127.0.0.1:1) of the target cluster B is unreachable: connect ECONNREFUSED' },
    });
    assert.equal(at!.state, 'degraded');
    assert.match(at!.reason!, /target cluster B is unreachable: connect ECONNREFUSED \(for more than 30 s\)$/);
    assert.equal(at!.since, T0 + 31_000, 'since: when the state changed');
    assert.equal(stillDown!.state, 'degraded');
    assert.equal(stillDown!.since, T0 + 31_000, 'the same state keeps its since while the reason changes');
    assert.match(stillDown!.reason!, /has no broker registered/, 'the reason is the latest problem');
    assert.deepEqual(back, { state: 'ok', reason: null, since: T0 + 45_000 });
  });

  it('a cluster that answers in between starts its window again', () => {
    const [, , flap, down] = run([targetDown(T0), targetDown(T0 + 20_000), healthy(T0 + 25_000), targetDown(T0 + 50_000)]);
    assert.equal(flap!.unreachable, undefined);
    assert.equal(down!.state, 'ok', '0 s since it went away again, not 50');
    assert.equal(down!.unreachable!.B!.since, T0 + 50_000);
  });

  it('ok → stalled when a shard has no holder at the first run and two runs after; → ok once held', () => {
    const unheld = (now: number) => healthy(now, { flows: [flow({ unheld: [1], lag: null, rate: null })] });
    const [one, two, three, held] = run([unheld(T0), unheld(T0 + 3000), unheld(T0 + 6000), healthy(T0 + 9000)]);
    assert.equal(one!.state, 'ok');
    assert.deepEqual(one!.unheld, { 'A->B#1': { since: T0, seen: 1 } });
    assert.equal(two!.state, 'ok', 'one interval without a holder');
    assert.equal(three!.state, 'stalled', 'two intervals without a holder');
    assert.equal(three!.reason, 'no replicator has held shard 1 of A->B for 2 reconciler intervals');
    assert.equal(three!.since, T0 + 6000);
    assert.deepEqual(held, { state: 'ok', reason: null, since: T0 + 9000 });
  });

  it('counts runs, not time: on a one-minute schedule one run without a holder is no stall', () => {
    const unheld = (now: number) => healthy(now, { flows: [flow({ unheld: [0] })] });
    const [, second] = run([unheld(T0), unheld(T0 + 60_000)]);
    assert.equal(second!.state, 'ok');
    const [, , third] = run([unheld(T0), unheld(T0 + 60_000), unheld(T0 + 120_000)], { ...W, stallAfterIntervals: 2 });
    assert.equal(third!.state, 'stalled');
  });

  it('names every stalled shard of a flow', () => {
    const s = (now: number) => healthy(now, { flows: [flow({ unheld: [0, 2] })] });
    const [, , r] = run([s(T0), s(T0 + 1), s(T0 + 2)]);
    assert.equal(r!.reason, 'no replicator has held shards 0, 2 of A->B for 2 reconciler intervals');
  });

  it('lag growing with nothing replicated: ok until the window has passed since it began to grow, then degraded; → ok on progress', () => {
    const idle = (now: number, lag: number) => healthy(now, { flows: [flow({ lag, rate: 0 })] });
    const [busy, stopped, grows, later, past, moving] = run([
      healthy(T0, { flows: [flow({ lag: 5, rate: 40 })] }),
      idle(T0 + 3000, 10),
      idle(T0 + 6000, 25),
      idle(T0 + 100_000, 300),
      idle(T0 + 126_000, 900),
      healthy(T0 + 129_000, { flows: [flow({ lag: 800, rate: 50 })] }),
    ]);
    assert.equal(busy!.lag, undefined, 'replicating: no trend kept');
    assert.deepEqual(stopped!.lag, { 'A->B': { baseline: 10, growingSince: null } }, 'nothing replicated: the lag then is the baseline');
    assert.deepEqual(grows!.lag, { 'A->B': { baseline: 10, growingSince: T0 + 6000 } });
    assert.equal(later!.state, 'ok', '94 s of 120');
    assert.equal(past!.state, 'degraded');
    assert.equal(past!.reason, 'the lag of A->B has grown past 10 messages with nothing replicated for more than 2 min');
    assert.deepEqual(later!.lag, past!.lag, 'the record does not change with every new lag figure');
    assert.deepEqual(moving, { state: 'ok', reason: null, since: T0 + 129_000 });
  });

  it('an idle task whose lag stays put is ok however long nothing is replicated', () => {
    const idle = (now: number) => healthy(now, { flows: [flow({ lag: 0, rate: 0 })] });
    const [first, , last] = run([idle(T0), idle(T0 + 60_000), idle(T0 + 3_600_000)]);
    assert.equal(last!.state, 'ok');
    assert.deepEqual(last, first, 'and nothing to write');
  });

  it('a lag that shrinks without replication (filtered, trimmed) is the new baseline; an unknown lag keeps the trend', () => {
    const idle = (now: number, lag: number | null) => healthy(now, { flows: [flow({ lag, rate: lag === null ? null : 0 })] });
    const [, grew, shrank, unknown, again, past] = run([
      idle(T0, 100),
      idle(T0 + 1000, 150),
      idle(T0 + 2000, 40),
      idle(T0 + 3000, null),
      idle(T0 + 4000, 60),
      idle(T0 + 124_000, 70),
    ]);
    assert.equal(grew!.lag!['A->B']!.growingSince, T0 + 1000);
    assert.deepEqual(shrank!.lag, { 'A->B': { baseline: 40, growingSince: null } });
    assert.deepEqual(unknown!.lag, shrank!.lag);
    assert.deepEqual(again!.lag, { 'A->B': { baseline: 40, growingSince: T0 + 4000 } });
    assert.equal(past!.state, 'degraded');
  });

  it('keeps the lag trend per flow: one flow stuck degrades a two-way task while the other replicates', () => {
    const s = (now: number, lag: number) =>
      healthy(now, { flows: [flow({ flow: 'A->B', lag: 3, rate: 20 }), flow({ flow: 'B->A', lag, rate: 0 })] });
    const [, , r] = run([s(T0, 1), s(T0 + 1000, 2), s(T0 + 121_000, 9)]);
    assert.equal(r!.state, 'degraded');
    assert.match(r!.reason!, /^the lag of B->A has grown past 1 messages/);
    assert.deepEqual(Object.keys(r!.lag!), ['B->A']);
  });

  it('stalled outranks degraded; the reason lists both, the stall first; degraded → stalled → degraded each start a new since', () => {
    const both = (now: number) => ({ ...targetDown(now), flows: [flow({ unheld: [0], lag: null, rate: null })] });
    const down = (now: number) => targetDown(now);
    const [, , , d, s1, s2, s3, back] = run(
      [
        down(T0),
        down(T0 + 10_000),
        down(T0 + 20_000),
        down(T0 + 31_000),
        both(T0 + 34_000),
        both(T0 + 37_000),
        both(T0 + 40_000),
        down(T0 + 43_000),
      ],
      W,
    );
    assert.equal(d!.state, 'degraded');
    assert.equal(s1!.state, 'degraded');
    assert.equal(s2!.state, 'degraded');
    assert.equal(s3!.state, 'stalled');
    assert.match(s3!.reason!, /^no replicator has held shard 0 of A->B for 2 reconciler intervals; broker b0 .* cluster B is unreachable/);
    assert.equal(s3!.since, T0 + 40_000);
    assert.equal(back!.state, 'degraded');
    assert.equal(back!.since, T0 + 43_000);
    assert.equal(back!.unreachable!.B!.since, T0, 'the cluster has been away since the first run');
  });

  it('short windows work the same (what the end-to-end test uses)', () => {
    const w = { unreachableAfterMs: 2000, lagWithoutProgressMs: 3000, stallAfterIntervals: 1 };
    const [, r] = run([targetDown(T0), targetDown(T0 + 2000)], w);
    assert.equal(r!.state, 'degraded');
    assert.match(r!.reason!, /\(for more than 2 s\)$/);
    const unheld = (now: number) => healthy(now, { flows: [flow({ unheld: [0] })] });
    assert.equal(run([unheld(T0), unheld(T0 + 500)], w)[1]!.state, 'stalled');
  });
});

describe('stored record and view', () => {
  const row = (status: string, health?: unknown, statusReason: string | null = null) => ({
    status,
    statusReason,
    updatedAt: new Date(T0),
    spec: { health },
  });
  const record: HealthRecord = { state: 'degraded', reason: 'cluster B is unreachable', since: T0 - 5000 };

  it('a running task shows its record; without one (not evaluated yet) it is ok with since null', () => {
    assert.deepEqual(taskHealth(row('running', record)), {
      state: 'degraded',
      reason: 'cluster B is unreachable',
      since: new Date(T0 - 5000).toISOString(),
    });
    assert.deepEqual(taskHealth(row('running')), { state: 'ok', reason: null, since: null });
  });

  it('a record of a shape this version does not read counts as none, and never breaks the task', () => {
    assert.equal(decodeHealthRecord({ state: 'on fire' }), undefined);
    assert.equal(decodeHealthRecord('ok'), undefined);
    assert.deepEqual(taskHealth(row('running', { state: 'on fire', since: 'yesterday' })), { state: 'ok', reason: null, since: null });
  });

  it('start_failed is stalled with the status reason; stopped, initializing and deleting are ok (a record left over is ignored)', () => {
    assert.deepEqual(taskHealth(row('start_failed', record, 'name server 127.0.0.1:1 of the source cluster A is unreachable')), {
      state: 'stalled',
      reason: 'the task did not start: name server 127.0.0.1:1 of the source cluster A is unreachable',
      since: new Date(T0).toISOString(),
    });
    for (const status of ['stopped', 'initializing', 'deleting'])
      assert.deepEqual(taskHealth(row(status, record)), { state: 'ok', reason: null, since: null }, status);
  });
});

describe('the reconciler health pass (fakes of the task and lease ports)', () => {
  const cipher = aesGcmCipher(Buffer.alloc(32, 7));
  // Port 1 on loopback refuses at once: the probe reports the cluster unreachable without waiting.
  const endpoint = (clusterId: string) =>
    ({ clusterType: 'self-built', clusterId, protocol: 'remoting', nameServer: '127.0.0.1:1', networkType: 'public' }) as const;
  const spec = (over: Partial<TaskSpec> = {}): TaskSpec => ({
    direction: 'one-way',
    source: endpoint('A'),
    target: endpoint('B'),
    startOffset: { type: 'latest' },
    filter: { topics: { include: ['.*'], exclude: [] }, expression: { type: 'TAG', value: '*' } },
    tpsLimit: null,
    idempotentResume: true,
    ...over,
  });
  const task = (s: TaskSpec): TaskRow => ({
    id: `t-${Math.random().toString(36).slice(2)}`,
    tenant: 'default',
    name: 'health',
    spec: s,
    desiredState: 'running',
    status: 'running',
    statusReason: null,
    version: 3,
    createdAt: new Date(),
    updatedAt: new Date(),
    startOffsetsCaptured: true,
  });

  /** A fake of the two ports: leases and plans as given, health writes recorded. */
  function fakeStore(leases: Omit<Lease, 'taskId'>[], plans: Omit<ShardPlan, 'taskId'>[]) {
    const writes: HealthRecord[] = [];
    const store = {
      listLeases: async (taskId: string) => leases.map((l) => ({ ...l, taskId })),
      getShardPlans: async (taskId: string) => plans.map((p) => ({ ...p, taskId })),
      setTaskHealth: async (_id: string, h: HealthRecord) => {
        writes.push(h);
        return true;
      },
    } as unknown as TaskStore & LeaseStore;
    return { store, writes };
  }
  const lease = (shard: number, over: Partial<Lease> = {}): Omit<Lease, 'taskId'> => ({
    flow: 'forward',
    shard,
    owner: 'r',
    epoch: 1,
    generation: 4,
    expiresAtMs: Date.now() + 10_000,
    lag: 7,
    rate: 0,
    ...over,
  });

  it('records unheld shards of the current layout and the probe problems, naming the cluster; writes only a changed record', async () => {
    const plan = [{ flow: 'forward', shardCount: 4, generation: 4, changedAtMs: 0 }];
    const gaps = fakeStore(
      [lease(0), lease(1, { expiresAtMs: Date.now() - 60_000 }), lease(2, { expiresAtMs: Date.now() - 1000, lag: 5 })],
      plan,
    );
    const t = task(spec());
    const opts = { unreachableAfterMs: 60_000 };
    const first = await checkHealth(t, { store: gaps.store, cipher }, opts, 3000);
    assert.deepEqual(Object.keys(first.unheld ?? {}).sort(), ['A->B#1', 'A->B#3'], 'shard 2 ended 1 s ago: its successor is due');
    assert.match(first.unreachable!.A!.problem, /name server 127\.0\.0\.1:1 of the source cluster A is unreachable/);
    assert.match(first.unreachable!.B!.problem, /of the target cluster B is unreachable/);
    assert.deepEqual(first.lag, { 'A->B': { baseline: 12, growingSince: null } }, 'lag summed over the live holders');
    const second = await checkHealth({ ...t, spec: { ...t.spec, health: first } }, { store: gaps.store, cipher }, opts, 3000);
    assert.equal(second.unheld!['A->B#1']!.seen, 2, 'the stored record is the memory');
    assert.equal(gaps.writes.length, 2);

    const full = fakeStore([lease(0), lease(1), lease(2), lease(3)], plan);
    const held = await checkHealth({ ...t, spec: { ...t.spec, health: second } }, { store: full.store, cipher }, opts, 3000);
    assert.equal(held.unheld, undefined);
    const same = await checkHealth({ ...t, spec: { ...t.spec, health: held } }, { store: full.store, cipher }, opts, 3000);
    assert.deepEqual(same, held);
    assert.equal(full.writes.length, 1, 'the second pass found the same record: no write');
  });

  it('a flow changing its layout (old-generation holders still live) is not counted as unheld', async () => {
    const { store } = fakeStore([lease(0, { generation: 3 })], [{ flow: 'forward', shardCount: 2, generation: 4, changedAtMs: 0 }]);
    const r = await checkHealth(task(spec()), { store, cipher }, {}, 3000);
    assert.equal(r.unheld, undefined);
  });
});
