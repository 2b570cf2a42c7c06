// Failover, the pure parts: the state machine, the request's rules, "lag 0" against the snapshot,
// the possible-loss computation, the view; and the stopping step against a fake of the task, lease
// and audit ports (no cluster is needed for it without reverse).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailoverInput } from '../../shared/tasks/failover-schema.ts';
import { FerryError } from '../../shared/errors.ts';
import { stepFailover, type FailoverDeps } from '../../shared/replication/failover-run.ts';
import { createLogger } from '../../shared/log.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import type { Lease, TaskPatch, TaskRow } from '../../shared/store/store.ts';
import {
  activeFailover,
  advance,
  decodeFailover,
  failoverView,
  invertPairs,
  nextState,
  possibleLoss,
  remainingLag,
  requestFailover,
  snapshotEnds,
  type FailoverRecord,
} from '../../shared/tasks/failover.ts';
import type { TaskSpec } from '../../shared/tasks/model.ts';

const T0 = 1_700_000_000_000;
const spec = (over: Partial<TaskSpec> = {}): TaskSpec => ({
  direction: 'one-way',
  source: { clusterType: 'self-built', clusterId: 'A', protocol: 'remoting', nameServer: '127.0.0.1:1', networkType: 'public' },
  target: { clusterType: 'self-built', clusterId: 'B', protocol: 'remoting', nameServer: '127.0.0.1:2', networkType: 'public' },
  startOffset: { type: 'latest' },
  filter: { topics: { include: ['t'], exclude: [] }, expression: { type: 'TAG', value: '*' } },
  tpsLimit: null,
  idempotentResume: false,
  ...over,
});

const refused = (fn: () => unknown, code: string, field: string) =>
  assert.throws(fn, (e: unknown) => e instanceof FerryError && e.code === code && e.field === field);

describe('failover state machine', () => {
  it('planned: waiting-for-lag → translating → stopping → done', () => {
    assert.equal(nextState('planned', 'waiting-for-lag', 'drained'), 'translating');
    assert.equal(nextState('planned', 'translating', 'translated'), 'stopping');
    assert.equal(nextState('planned', 'stopping', 'stopped'), 'done');
  });
  it('unplanned: stopping → translating → done', () => {
    assert.equal(nextState('unplanned', 'stopping', 'stopped'), 'translating');
    assert.equal(nextState('unplanned', 'translating', 'translated'), 'done');
  });
  it('refuses events a state does not take, and nothing leaves done or failed', () => {
    assert.throws(() => nextState('planned', 'waiting-for-lag', 'stopped'));
    assert.throws(() => nextState('unplanned', 'stopping', 'drained'));
    assert.throws(() => nextState('planned', 'done', 'stopped'));
    assert.throws(() => nextState('unplanned', 'failed', 'translated'));
  });
  it('advance stamps the state change, finishes on done and failed, keeps the reason unless failing', () => {
    const r = requestFailover({ status: 'running', spec: spec() }, { mode: 'planned', reverse: false }, T0).spec.failover as FailoverRecord;
    const drained = advance(r, 'drained', T0 + 5, { lag: 0 });
    assert.deepEqual([drained.state, drained.stateSince, drained.finishedAt, drained.lag], ['translating', T0 + 5, null, 0]);
    const failed = advance(drained, { failed: 'boom' }, T0 + 9);
    assert.deepEqual([failed.state, failed.finishedAt, failed.reason], ['failed', T0 + 9, 'boom']);
    assert.equal(activeFailover({ failover: failed }), undefined);
    assert.ok(activeFailover({ failover: drained }));
  });
});

describe('failover request', () => {
  it('the body: mode required and one of two, reverse a boolean (default false), nothing else', () => {
    assert.deepEqual(FailoverInput.parse({ mode: 'planned' }), { mode: 'planned', reverse: false });
    const first = (b: unknown) => FailoverInput.safeParse(b).error?.issues[0];
    assert.deepEqual(first({})?.path, ['mode']);
    assert.deepEqual(first({ mode: 'soon' })?.path, ['mode']);
    assert.deepEqual(first({ mode: 'planned', reverse: 'yes' })?.path, ['reverse']);
    assert.equal(first({ mode: 'planned', extra: 1 })?.code, 'unrecognized_keys');
  });
  it('planned keeps the task running and waits for lag; unplanned stops it at once', () => {
    const planned = requestFailover({ status: 'running', spec: spec() }, { mode: 'planned', reverse: true }, T0);
    assert.equal(planned.desiredState, undefined);
    assert.equal(decodeFailover(planned.spec.failover)?.state, 'waiting-for-lag');
    const unplanned = requestFailover({ status: 'running', spec: spec() }, { mode: 'unplanned', reverse: false }, T0);
    assert.deepEqual([unplanned.desiredState, unplanned.status], ['stopped', 'stopped']);
    assert.equal(decodeFailover(unplanned.spec.failover)?.state, 'stopping');
    // A stopped task (its source is gone, say) can still fail over unplanned.
    assert.ok(requestFailover({ status: 'stopped', spec: spec() }, { mode: 'unplanned', reverse: true }, T0));
  });
  it('refuses: planned on a task not running, a second failover, reverse on two-way, a task being deleted', () => {
    refused(() => requestFailover({ status: 'stopped', spec: spec() }, { mode: 'planned', reverse: false }, T0), 'INVALID_STATE', 'status');
    const busy = requestFailover({ status: 'running', spec: spec() }, { mode: 'planned', reverse: false }, T0).spec;
    refused(
      () => requestFailover({ status: 'running', spec: busy }, { mode: 'unplanned', reverse: false }, T0),
      'INVALID_STATE',
      'failover',
    );
    const twoWay = spec({ direction: 'two-way' });
    refused(
      () => requestFailover({ status: 'running', spec: twoWay }, { mode: 'planned', reverse: true }, T0),
      'VALIDATION_FAILED',
      'reverse',
    );
    assert.ok(requestFailover({ status: 'running', spec: twoWay }, { mode: 'planned', reverse: false }, T0));
    refused(
      () => requestFailover({ status: 'deleting', spec: spec() }, { mode: 'unplanned', reverse: false }, T0),
      'INVALID_STATE',
      'status',
    );
    // A finished failover does not block the next one.
    const done = { ...spec(), failover: advance(decodeFailover(busy.failover)!, { failed: 'x' }, T0) };
    assert.ok(requestFailover({ status: 'running', spec: done }, { mode: 'planned', reverse: false }, T0));
  });
});

describe('lag against the snapshot and possible loss', () => {
  const ends = [
    { flow: 'forward', topic: 't', broker: 'b0', queueId: 0, end: 100 },
    { flow: 'forward', topic: 't', broker: 'b0', queueId: 1, end: 50 },
    { flow: 'reverse', topic: 't', broker: 'b9', queueId: 0, end: 7 },
  ];
  const cp = (flow: string, queueId: number, nextOffset: number, broker = 'b0') => ({ flow, topic: 't', broker, queueId, nextOffset });

  it('lag is what the checkpoints still lack of the ends snapshotted, per flow and queue; later messages do not count', () => {
    const snap = snapshotEnds(ends);
    assert.deepEqual(snap, { forward: { 't/b0/0': 100, 't/b0/1': 50 }, reverse: { 't/b9/0': 7 } });
    assert.equal(remainingLag(snap, [cp('forward', 0, 90), cp('forward', 1, 50), cp('reverse', 0, 3, 'b9')]), 14);
    // Checkpoints past the snapshot (messages that arrived since) are 0, not negative.
    assert.equal(remainingLag(snap, [cp('forward', 0, 130), cp('forward', 1, 50), cp('reverse', 0, 7, 'b9')]), 0);
    // The same queue in another flow is another queue; a queue without a checkpoint counts from 0.
    assert.equal(remainingLag(snap, [cp('reverse', 0, 100), cp('forward', 1, 50), cp('reverse', 0, 7, 'b9')]), 100);
  });

  it('possible loss: per queue end − checkpoint, only queues missing some, with the total', () => {
    const loss = possibleLoss(ends, [cp('forward', 0, 60), cp('forward', 1, 50), cp('reverse', 0, 9, 'b9')]);
    assert.equal(loss.total, 40);
    assert.deepEqual(loss.queues, [{ flow: 'forward', topic: 't', broker: 'b0', queueId: 0, sourceEnd: 100, replicated: 60, missing: 40 }]);
  });

  it('possible loss of a queue never started on counts from its first kept message', () => {
    const loss = possibleLoss([{ flow: 'forward', topic: 't', broker: 'b0', queueId: 3, end: 80, minOffset: 30 }], []);
    assert.deepEqual([loss.total, loss.queues[0]?.replicated], [50, 30]);
  });
});

describe('failover view', () => {
  it('shows times as ISO, hides the snapshot, null for none or an unreadable record', () => {
    const r = requestFailover({ status: 'running', spec: spec() }, { mode: 'planned', reverse: true }, T0).spec.failover as FailoverRecord;
    const v = failoverView({ ...r, ends: { forward: { 't/b/0': 1 } }, lagAtStart: 1 });
    assert.equal(v?.startedAt, new Date(T0).toISOString());
    assert.equal(v?.finishedAt, null);
    assert.equal(v?.lagAtStart, 1);
    assert.equal('ends' in (v ?? {}), false);
    assert.equal(failoverView(undefined), null);
    assert.equal(failoverView({ mode: 'sideways' }), null);
  });
});

/** A fake of the task, lease, checkpoint and audit ports: one task, leases as given. */
function fakeStore(task: TaskRow, leases: Lease[]) {
  let row = task;
  const audit: { action: string; after?: unknown }[] = [];
  const store = {
    async updateTask(_t: string, _id: string, version: number, patch: TaskPatch) {
      if (version !== row.version) throw new FerryError('CONFLICT', 'stale');
      row = { ...row, ...patch, version: row.version + 1 } as TaskRow;
      return row;
    },
    async appendAudit(e: { action: string; after?: unknown }) {
      audit.push(e);
      return e;
    },
    async listLeases() {
      return leases;
    },
    async withTransaction<R>(fn: (tx: unknown) => Promise<R>) {
      return fn(store);
    },
  };
  return { store: store as unknown as FailoverDeps['store'], audit, row: () => row };
}

describe('failover stopping step (fake ports)', () => {
  const task = (failover: FailoverRecord, status: TaskRow['status'] = 'stopped'): TaskRow => ({
    id: 'task-1',
    tenant: 't',
    name: 'n',
    spec: { ...spec(), failover },
    desiredState: 'stopped',
    status,
    statusReason: null,
    version: 3,
    createdAt: new Date(T0),
    updatedAt: new Date(T0),
    startOffsetsCaptured: true,
  });
  const lease = (expiresAtMs: number, flow = 'forward'): Lease => ({
    taskId: 'task-1',
    flow,
    shard: 0,
    owner: 'o',
    epoch: 1,
    generation: 0,
    expiresAtMs,
    lag: null,
    rate: null,
  });
  const deps = (store: FailoverDeps['store']): FailoverDeps => ({
    store,
    cipher: aesGcmCipher(Buffer.alloc(32)),
    log: createLogger('error'),
  });
  const planned = () => {
    const r = requestFailover({ status: 'running', spec: spec() }, { mode: 'planned', reverse: false }, T0).spec.failover as FailoverRecord;
    return advance(advance(r, 'drained', T0), 'translated', T0);
  };

  it('waits while a replicator of the task still holds a shard; the offsets lease does not count', async () => {
    const f = fakeStore(task(planned()), [lease(Date.now() + 60_000), lease(Date.now() + 60_000, 'offsets')]);
    await stepFailover(f.row(), deps(f.store));
    assert.equal(decodeFailover(f.row().spec.failover)?.state, 'stopping');
    assert.equal(f.audit.length, 0);
  });

  it('done once every replicator lease has ended, with an audit event', async () => {
    const f = fakeStore(task(planned()), [lease(Date.now() - 1000), lease(Date.now() + 60_000, 'offsets')]);
    await stepFailover(f.row(), deps(f.store));
    const r = decodeFailover(f.row().spec.failover);
    assert.equal(r?.state, 'done');
    assert.ok(r?.finishedAt);
    // The carry of pending delayed messages comes first; this source cannot be read, and the note says so.
    assert.deepEqual(
      f.audit.map((a) => a.action),
      ['failover-delayed-carried', 'failover-done'],
    );
    assert.equal(r?.delayed && 'carried' in r.delayed ? r.delayed.carried : undefined, 0);
    assert.match(failoverView(f.row().spec.failover)?.delayed?.note ?? '', /pending delayed messages could not be read/);
  });

  it("another runtime's fresh claim on the carry is waited for; a stale one (its runtime died) is carried again", async () => {
    const claimed = (at: number) => fakeStore(task({ ...planned(), delayed: { carrying: at } }), []);
    const fresh = claimed(Date.now() - 1000);
    await stepFailover(fresh.row(), deps(fresh.store));
    assert.equal(decodeFailover(fresh.row().spec.failover)?.state, 'stopping');
    assert.equal(fresh.audit.length, 0);
    const stale = claimed(Date.now() - 11 * 60_000);
    await stepFailover(stale.row(), deps(stale.store));
    assert.equal(decodeFailover(stale.row().spec.failover)?.state, 'done');
    assert.deepEqual(
      stale.audit.map((a) => a.action),
      ['failover-delayed-carried', 'failover-done'],
    );
  });

  it('waiting for lag: fails after the wait limit (the task keeps running), or when the task stops meanwhile', async () => {
    const waiting = requestFailover({ status: 'running', spec: spec() }, { mode: 'planned', reverse: false }, T0).spec
      .failover as FailoverRecord;
    const running = { ...task({ ...waiting, lag: 12 }, 'running'), desiredState: 'running' as const };
    const late = fakeStore(running, []);
    await stepFailover(late.row(), deps(late.store), { waitForLagMs: 60_000 });
    const r = decodeFailover(late.row().spec.failover);
    assert.equal(r?.state, 'failed');
    assert.match(r?.reason ?? '', /did not reach 0 within 60 s \(12 messages left\); the task keeps running/);
    assert.equal(late.row().status, 'running');
    const stopped = fakeStore({ ...running, status: 'stopped', desiredState: 'stopped' }, []);
    await stepFailover(stopped.row(), deps(stopped.store));
    assert.match(decodeFailover(stopped.row().spec.failover)?.reason ?? '', /the task was stopped before its lag reached 0/);
  });

  it('fails when the task is started again while stopping', async () => {
    const f = fakeStore({ ...task(planned()), desiredState: 'running', status: 'initializing' }, []);
    await stepFailover(f.row(), deps(f.store));
    const r = decodeFailover(f.row().spec.failover);
    assert.equal(r?.state, 'failed');
    assert.match(r?.reason ?? '', /started again/);
  });
});

describe('failback offset pairs', () => {
  const pair = (queueId: number, sourceOffset: number, targetQueueId: number, targetOffset: number) => ({
    topic: 't',
    broker: 'a0',
    queueId,
    sourceOffset,
    targetBroker: 'b0',
    targetQueueId,
    targetOffset,
  });
  it('reads the forward pairs the other way, for target queues fed by one source queue only', () => {
    const inverted = invertPairs([pair(0, 15, 0, 115), pair(0, 31, 0, 131), pair(1, 7, 1, 7), pair(2, 9, 1, 20)], true);
    assert.deepEqual(inverted, [
      { topic: 't', broker: 'b0', queueId: 0, sourceOffset: 115, targetBroker: 'a0', targetQueueId: 0, targetOffset: 15 },
      { topic: 't', broker: 'b0', queueId: 0, sourceOffset: 131, targetBroker: 'a0', targetQueueId: 0, targetOffset: 31 },
    ]);
  });
  it('none when the task does not copy every message', () => {
    assert.deepEqual(invertPairs([pair(0, 15, 0, 115)], false), []);
  });
});
