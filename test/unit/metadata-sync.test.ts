// The metadata sync shell (sync.ts, run.ts) over an embedded store with in-memory clusters: what it
// records, what it leaves alone when a cluster is unreachable or a write fails, the task lease,
// and which tasks a timer run picks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { MetadataUnsupportedError, type ClusterAdmin } from '../../shared/metadata/cluster-admin.ts';
import type { ClusterSnapshot, MetadataEntry, TopicItem } from '../../shared/metadata/model.ts';
import type { SyncAction } from '../../shared/metadata/plan.ts';
import { runMetadataSync, type MetadataSyncRunDeps } from '../../shared/metadata/run.ts';
import { syncTaskMetadata } from '../../shared/metadata/sync.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { MetadataItem, Store, TaskRow } from '../../shared/store/store.ts';
import type { StoredEndpoint } from '../../shared/tasks/model.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';
import { insertTestTask, selfBuilt, taskSpec } from '../support/task-spec.ts';

const topic = (name: string, q = 4): TopicItem => ({ kind: 'topic', name, readQueueNums: q, writeQueueNums: q, perm: 6, order: false });

/** A cluster in memory behind the ClusterAdmin port. */
class FakeCluster {
  topics = new Map<string, MetadataEntry>();
  unreachable = false;
  /** A black hole: reads wait until the admin is closed. */
  silent = false;
  closed = 0;
  failWrites = new Set<string>();
  writes: string[] = [];
  constructor(
    readonly id: string,
    ...items: TopicItem[]
  ) {
    for (const t of items) this.topics.set(t.name, t);
  }
  admin(): ClusterAdmin {
    let onClose: () => void = () => undefined;
    return {
      clusterId: this.id,
      readSnapshot: async (): Promise<ClusterSnapshot> => {
        if (this.silent) await new Promise((_, reject) => (onClose = () => reject(new Error('remoting client is closed'))));
        if (this.unreachable) throw new Error(`connect ECONNREFUSED (${this.id})`);
        return {
          clusterId: this.id,
          reservedNames: [this.id],
          kinds: {
            topic: { status: 'ok', items: new Map([...this.topics].map(([k, v]) => [k, { ...v }])) },
            group: { status: 'ok', items: new Map() },
          },
        };
      },
      apply: async (a: SyncAction) => {
        if (this.failWrites.has(a.name)) throw new Error(`broker said no to ${a.name}`);
        this.writes.push(`${a.op} ${a.name}`);
        if (a.op === 'delete') this.topics.delete(a.name);
        else this.topics.set(a.name, a.item!);
      },
      close: () => {
        this.closed++;
        onClose();
      },
    };
  }
}

describe('metadata sync shell', () => {
  let db: Throwaway<string>;
  let store: Store;
  const cipher = aesGcmCipher(randomBytes(32));
  const log = pino({ level: 'silent' });
  const clusters = new Map<string, FakeCluster>();
  const deps = (): MetadataSyncRunDeps => ({
    store,
    cipher,
    log,
    openAdmin: (e: StoredEndpoint) => {
      const c = clusters.get(e.clusterId);
      if (!c) throw new MetadataUnsupportedError(`no fake cluster ${e.clusterId}`);
      return c.admin();
    },
  });
  const newTask = (
    a: string,
    b: string,
    direction: 'one-way' | 'two-way' = 'one-way',
    state: Partial<Pick<TaskRow, 'desiredState' | 'status'>> = {},
  ) =>
    insertTestTask(
      store,
      taskSpec(
        {
          direction,
          source: selfBuilt({ clusterId: a, nameServer: '127.0.0.1:1' }),
          target: selfBuilt({ clusterId: b, nameServer: '127.0.0.1:2' }),
        },
        cipher,
      ),
      state,
    );
  const rows = async (taskId: string) =>
    new Map((await store.listMetadataItems(taskId)).map((r): [string, MetadataItem] => [`${r.kind}/${r.name}/${r.direction}`, r]));

  before(async () => {
    db = await throwawayDataDir();
    store = await openStore({ dataDir: db.value });
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  it('first cycle copies and records; an unchanged second cycle writes nothing anywhere', async () => {
    const a = new FakeCluster('s1a', topic('t1'), topic('t2', 8), topic('s1a'));
    const b = new FakeCluster('s1b', topic('t2', 4), topic('only_b'));
    clusters.set('s1a', a).set('s1b', b);
    const task = await newTask('s1a', 's1b');
    const r1 = await syncTaskMetadata(task, deps());
    assert.equal(r1.outcome, 'ok');
    assert.equal(r1.first, true);
    assert.deepEqual([r1.created, r1.updated, r1.deleted], [1, 1, 0]);
    assert.deepEqual(b.writes, ['create t1', 'update t2']);
    assert.ok(b.topics.has('only_b') && !b.topics.has('s1a'), 'target-only kept; the cluster-name topic not copied');
    const recorded = await rows(task.id);
    assert.equal(recorded.get('topic/t1/source_to_target')?.action, 'create');
    assert.equal(recorded.get('topic/t1/source_to_target')?.status, 'synced');
    assert.equal(recorded.get('topic/t2/source_to_target')?.action, 'update');
    assert.ok((await store.getSnapshot(task.id, 'source')) && (await store.getSnapshot(task.id, 'target')));

    const before2 = await store.getSnapshot(task.id, 'target');
    const r2 = await syncTaskMetadata(task, deps());
    assert.deepEqual([r2.outcome, r2.first, r2.stored, r2.created + r2.updated + r2.deleted], ['ok', false, false, 0]);
    assert.equal((await store.getSnapshot(task.id, 'target'))?.takenAt.getTime(), before2?.takenAt.getTime(), 'snapshot not rewritten');
    assert.deepEqual(b.writes, ['create t1', 'update t2'], 'nothing written to the target');

    a.topics.delete('t1');
    const r3 = await syncTaskMetadata(task, deps());
    assert.equal(r3.deleted, 1);
    assert.equal((await rows(task.id)).get('topic/t1/source_to_target')?.action, 'delete');
  });

  it('a failed write does not stop the others; it is recorded with its error and retried next cycle', async () => {
    const a = new FakeCluster('s2a', topic('ok1'), topic('bad'), topic('ok2'));
    const b = new FakeCluster('s2b');
    b.failWrites.add('bad');
    clusters.set('s2a', a).set('s2b', b);
    const task = await newTask('s2a', 's2b', 'two-way');
    const r1 = await syncTaskMetadata(task, deps());
    assert.equal(r1.outcome, 'partial');
    assert.deepEqual([r1.created, r1.failed], [2, 1]);
    const bad = (await rows(task.id)).get('topic/bad/source_to_target');
    assert.equal(bad?.status, 'failed');
    assert.match(bad?.error ?? '', /broker said no to bad/);

    b.failWrites.clear();
    const r2 = await syncTaskMetadata(task, deps());
    assert.deepEqual([r2.outcome, r2.created], ['ok', 1]);
    const fixed = (await rows(task.id)).get('topic/bad/source_to_target');
    assert.deepEqual([fixed?.status, fixed?.error], ['synced', null]);
    assert.deepEqual(b.writes, ['create ok1', 'create ok2', 'create bad']);
    assert.deepEqual(a.writes, [], 'nothing echoed back to the source in the two-way task');
  });

  it('an unreachable side records a failure and leaves the stored snapshots untouched', async () => {
    const a = new FakeCluster('s3a', topic('t'));
    const b = new FakeCluster('s3b', topic('t'));
    clusters.set('s3a', a).set('s3b', b);
    const task = await newTask('s3a', 's3b', 'two-way');
    await syncTaskMetadata(task, deps());
    const stored = { source: await store.getSnapshot(task.id, 'source'), target: await store.getSnapshot(task.id, 'target') };

    b.unreachable = true;
    a.topics.delete('t'); // while B is away
    const r = await syncTaskMetadata(task, deps());
    assert.equal(r.outcome, 'unreachable');
    assert.match(r.error ?? '', /target: connect ECONNREFUSED/);
    const failed = (await rows(task.id)).get('topic/*/target_to_source');
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error ?? '', /target cluster s3b could not be read/);
    assert.deepEqual(await store.getSnapshot(task.id, 'source'), stored.source);
    assert.deepEqual(await store.getSnapshot(task.id, 'target'), stored.target);

    // Back: the deletion made meanwhile still counts as a deletion, and the failure rows clear.
    b.unreachable = false;
    const back = await syncTaskMetadata(task, deps());
    assert.equal(back.deleted, 1);
    assert.ok(!b.topics.has('t'));
    assert.deepEqual(
      [...(await rows(task.id)).values()].filter((x) => x.name === '*').map((x) => x.status),
      ['synced', 'synced', 'synced', 'synced'],
    );
  });

  it('one cycle per task at a time: a held lease answers busy; a deleted task answers gone', async () => {
    clusters.set('s4a', new FakeCluster('s4a')).set('s4b', new FakeCluster('s4b'));
    const task = await newTask('s4a', 's4b');
    assert.ok(await store.acquireLease({ taskId: task.id, flow: 'metadata', shard: 0, owner: 'someone-else', ttlMs: 60_000 }));
    assert.equal((await syncTaskMetadata(task, deps())).outcome, 'busy');
    await store.deleteTask('default', task.id);
    assert.equal((await syncTaskMetadata(task, deps())).outcome, 'gone');
  });

  it('a Tencent cluster id that names no TDMQ API is unsupported; a Tencent cluster without Cloud API keys fails naming them', async () => {
    const unknown = await insertTestTask(
      store,
      taskSpec(
        {
          direction: 'one-way',
          source: { clusterType: 'tencent', region: 'ap-guangzhou', clusterId: 'cluster-xyz' },
          target: { clusterType: 'tencent', region: 'ap-guangzhou', clusterId: 'cluster-abc' },
        },
        cipher,
      ),
    );
    assert.equal((await syncTaskMetadata(unknown, { store, cipher, log })).outcome, 'unreachable');
    const row = (await rows(unknown.id)).get('topic/*/source_to_target');
    assert.equal(row?.status, 'unsupported');
    assert.match(row?.error ?? '', /cluster-xyz: not a TDMQ RocketMQ cluster id/);

    assert.equal(process.env.TENCENTCLOUD_SECRETID, undefined, 'the test environment has no deployment-wide Tencent keys');
    const keyless = await insertTestTask(
      store,
      taskSpec(
        {
          direction: 'one-way',
          source: { clusterType: 'tencent', region: 'ap-guangzhou', clusterId: 'rocketmq-xyz' },
          target: { clusterType: 'tencent', region: 'ap-guangzhou', clusterId: 'rmq-abc' },
        },
        cipher,
      ),
    );
    assert.equal((await syncTaskMetadata(keyless, { store, cipher, log })).outcome, 'unreachable');
    const failed = (await rows(keyless.id)).get('topic/*/source_to_target');
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error ?? '', /rocketmq-xyz \(ap-guangzhou\): no Tencent Cloud API keys/);
  });

  it('a timer run syncs running tasks only: stopped, start_failed and deleting tasks are skipped', async () => {
    const a = new FakeCluster('s5a', topic('from_running'));
    clusters
      .set('s5a', a)
      .set('s5b', new FakeCluster('s5b'))
      .set('s5c', new FakeCluster('s5c'))
      .set('s5d', new FakeCluster('s5d'))
      .set('s5e', new FakeCluster('s5e'));
    const running = await newTask('s5a', 's5b');
    const stopped = await newTask('s5a', 's5c', 'one-way', { desiredState: 'stopped', status: 'stopped' });
    const failed = await newTask('s5a', 's5d', 'one-way', { desiredState: 'running', status: 'start_failed' });
    const deleting = await newTask('s5a', 's5e', 'one-way', { desiredState: 'running', status: 'deleting' });
    const summary = await runMetadataSync(deps());
    const ran = new Set(summary.results.map((r) => r.taskId));
    assert.ok(ran.has(running.id));
    for (const t of [stopped, failed, deleting]) assert.ok(!ran.has(t.id), `${t.status} task not synced`);
    assert.ok(clusters.get('s5b')!.topics.has('from_running'));
    assert.equal(clusters.get('s5c')!.topics.size, 0);
  });

  it('a task whose clusters never answer holds a worker until its deadline only; clients closed, lease released', async () => {
    const hole = new FakeCluster('s6a', topic('never_read'));
    hole.silent = true;
    clusters
      .set('s6a', hole)
      .set('s6b', new FakeCluster('s6b'))
      .set('s6c', new FakeCluster('s6c', topic('after_the_hole')))
      .set('s6d', new FakeCluster('s6d'));
    const stuck = await newTask('s6a', 's6b');
    const next = await newTask('s6c', 's6d');
    const summary = await runMetadataSync(deps(), { concurrency: 1, taskDeadlineMs: 300 });
    assert.deepEqual(
      summary.errors.filter((e) => e.taskId === stuck.id).map((e) => e.error),
      ['the metadata sync cycle did not finish within 0.3 s'],
    );
    assert.equal(summary.results.find((r) => r.taskId === next.id)?.outcome, 'ok', 'the next task got its cycle');
    assert.ok(clusters.get('s6d')!.topics.has('after_the_hole'));
    assert.ok(hole.closed >= 1, 'the silent side was closed at the deadline');
    // The abandoned cycle ended and let its lease go: the next cycle is not answered busy.
    hole.silent = false;
    for (let i = 0; i < 50 && (await syncTaskMetadata(stuck, deps())).outcome === 'busy'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(clusters.get('s6b')!.topics.has('never_read'), 'synced once the cluster answers');
  });
});
