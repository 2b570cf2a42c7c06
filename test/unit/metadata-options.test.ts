// A task's metadata sync options, without I/O: scope.ts turns `metadataSync` {kinds,
// propagateDeletes, topicsFollowFilter} and `groups` into what plan.ts may touch, and projection.ts
// stores only that — so a kind or item that comes into scope later is seen as new.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  AclUserItem,
  ClusterSnapshot,
  GroupItem,
  KindSnapshot,
  MetadataEntry,
  SyncKind,
  TopicItem,
} from '../../shared/metadata/model.ts';
import { planSync, type PlanInput, type SyncAction } from '../../shared/metadata/plan.ts';
import { projectSnapshots } from '../../shared/metadata/projection.ts';
import { syncScope, type SyncScope } from '../../shared/metadata/scope.ts';
import type { TaskSpec } from '../../shared/tasks/model.ts';

const topic = (name: string, q = 4): TopicItem => ({ kind: 'topic', name, readQueueNums: q, writeQueueNums: q, perm: 6, order: false });
const group = (name: string, retryMaxTimes = 16): GroupItem => ({
  kind: 'group',
  name,
  consumeEnable: true,
  consumeFromMinEnable: true,
  consumeBroadcastEnable: true,
  retryQueueNums: 1,
  retryMaxTimes,
  brokerId: 0,
  whichBrokerWhenConsumeSlowly: 1,
  notifyConsumerIdsChangedEnable: true,
});
const user = (name: string): AclUserItem => ({ kind: 'acl_user', name, password: 'pw', userType: 'Normal', userStatus: 'enable' });

function snap(clusterId: string, items: MetadataEntry[]): ClusterSnapshot {
  const kinds: Partial<Record<SyncKind, KindSnapshot>> = {
    topic: { status: 'ok', items: new Map() },
    group: { status: 'ok', items: new Map() },
    acl_user: { status: 'ok', items: new Map() },
  };
  for (const i of items) {
    const k = kinds[i.kind];
    if (k?.status === 'ok') k.items.set(i.name, i);
  }
  return { clusterId, reservedNames: [`${clusterId}-cluster`], kinds };
}
const A = (...items: MetadataEntry[]) => snap('A', items);
const B = (...items: MetadataEntry[]) => snap('B', items);

type Options = Partial<Pick<TaskSpec, 'groups' | 'metadataSync'>> & { include?: string[]; exclude?: string[] };
const scopeOf = (o: Options = {}): SyncScope =>
  syncScope({
    filter: { topics: { include: o.include ?? ['.*'], exclude: o.exclude ?? [] }, expression: { type: 'TAG', value: '*' } },
    ...(o.groups ? { groups: o.groups } : {}),
    ...(o.metadataSync ? { metadataSync: o.metadataSync } : {}),
  });
const sync = (kinds: ('topic' | 'group' | 'acl')[], propagateDeletes = true, topicsFollowFilter = false) => ({
  kinds,
  propagateDeletes,
  topicsFollowFilter,
  copyRoleSecrets: false,
});

const ops = (actions: readonly SyncAction[]) => actions.map((a) => `${a.op} ${a.kind} ${a.name} -> ${a.to}`).sort();

function input(
  direction: PlanInput['direction'],
  prev: [ClusterSnapshot | null, ClusterSnapshot | null],
  cur: [ClusterSnapshot, ClusterSnapshot],
  scope: SyncScope,
): PlanInput {
  return { direction, previous: { source: prev[0], target: prev[1] }, current: { source: cur[0], target: cur[1] }, scope };
}

/** One cycle with every write succeeding: the plan, and what the next cycle diffs against. */
function cycle(i: PlanInput) {
  const plan = planSync(i);
  const stored = projectSnapshots(
    i,
    plan.actions.map((action) => ({ action, status: 'synced' as const, error: null })),
  );
  return { plan, stored };
}

describe('metadata sync scope from task options', () => {
  it('defaults (a task stored before the options): every kind, every item, deletes propagated', () => {
    const s = scopeOf();
    assert.deepEqual([...s.kinds].sort(), ['acl', 'acl_account', 'acl_user', 'group', 'role', 'topic']);
    assert.ok(s.takes('topic', 'anything') && s.takes('group', 'any-group'));
    assert.equal(s.propagateDeletes, true);
  });

  it('"acl" stands for every access-control kind; groups and topics are matched on whole names', () => {
    const s = scopeOf({
      metadataSync: sync(['group', 'acl'], false, true),
      groups: { include: ['orders-.*'], exclude: ['orders-tmp'] },
      include: ['t-.*'],
    });
    assert.deepEqual([...s.kinds].sort(), ['acl', 'acl_account', 'acl_user', 'group', 'role']);
    assert.ok(s.takes('group', 'orders-app'));
    assert.ok(!s.takes('group', 'orders-tmp'), 'excluded');
    assert.ok(!s.takes('group', 'my-orders-app'), 'anchored: the whole name must match');
    assert.ok(s.takes('topic', 't-1') && !s.takes('topic', 'x-t-1'));
    assert.equal(s.propagateDeletes, false);
  });
});

describe('metadata plan with task options', () => {
  it('syncs only the listed kinds, and stores only those (a kind listed later starts as a first sync)', () => {
    const scope = scopeOf({ metadataSync: sync(['group']) });
    const i = input('one-way', [null, null], [A(topic('t1'), group('g1'), user('u1')), B()], scope);
    const { plan, stored } = cycle(i);
    assert.deepEqual(ops(plan.actions), ['create group g1 -> target']);
    assert.deepEqual(Object.keys(stored.source.kinds), ['group'], 'topics and ACL users are not stored');

    // Topics listed again: the stored state has none, so they are copied and nothing is deleted.
    const later = scopeOf({ metadataSync: sync(['topic', 'group']) });
    const again = cycle(
      input('one-way', [stored.source, stored.target], [A(topic('t1'), group('g1')), B(topic('only-b'), group('g1'))], later),
    );
    assert.deepEqual(ops(again.plan.actions), ['create topic t1 -> target']);
  });

  it('no kinds: nothing is planned', () => {
    const plan = planSync(
      input('two-way', [null, null], [A(topic('t1'), group('g1')), B(topic('t2'))], scopeOf({ metadataSync: sync([]) })),
    );
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.settled, []);
  });

  it('leaves groups outside the groups filter alone: not created, updated or deleted', () => {
    const scope = scopeOf({ groups: { include: ['app-.*'], exclude: ['app-private'] } });
    const first = cycle(input('one-way', [null, null], [A(group('app-1'), group('app-private'), group('other')), B()], scope));
    assert.deepEqual(ops(first.plan.actions), ['create group app-1 -> target']);
    const stored = first.stored;
    assert.deepEqual([...(stored.source.kinds.group as { items: Map<string, unknown> }).items.keys()], ['app-1']);

    // Next cycle: the out-of-scope groups change and disappear; only app-1's deletion is passed on.
    const next = cycle(
      input('one-way', [stored.source, stored.target], [A(group('app-private', 3)), B(group('app-1'), group('other', 5))], scope),
    );
    assert.deepEqual(ops(next.plan.actions), ['delete group app-1 -> target']);
  });

  it('topicsFollowFilter: only topics the topic filter selects; without it, every topic', () => {
    const cur: [ClusterSnapshot, ClusterSnapshot] = [A(topic('orders-1'), topic('orders-dlq'), topic('audit')), B()];
    const following = scopeOf({ include: ['orders-.*'], exclude: ['orders-dlq'], metadataSync: sync(['topic'], true, true) });
    assert.deepEqual(ops(planSync(input('one-way', [null, null], cur, following)).actions), ['create topic orders-1 -> target']);
    const all = scopeOf({ include: ['orders-.*'], exclude: ['orders-dlq'], metadataSync: sync(['topic'], true, false) });
    assert.deepEqual(ops(planSync(input('one-way', [null, null], cur, all)).actions), [
      'create topic audit -> target',
      'create topic orders-1 -> target',
      'create topic orders-dlq -> target',
    ]);
  });

  it('a topic that comes into the filter later is copied as new', () => {
    const narrow = scopeOf({ include: ['a-.*'], metadataSync: sync(['topic'], true, true) });
    const first = cycle(input('two-way', [null, null], [A(topic('a-1'), topic('b-1')), B()], narrow));
    assert.deepEqual(ops(first.plan.actions), ['create topic a-1 -> target']);
    const wide = scopeOf({ include: ['a-.*', 'b-.*'], metadataSync: sync(['topic'], true, true) });
    const second = cycle(
      input('two-way', [first.stored.source, first.stored.target], [A(topic('a-1'), topic('b-1')), B(topic('a-1'))], wide),
    );
    // Two-way passes on changes only: b-1 is a change because it was never stored.
    assert.deepEqual(ops(second.plan.actions), ['create topic b-1 -> target']);
  });

  describe('propagateDeletes: false', () => {
    const keep = scopeOf({ metadataSync: sync(['topic', 'group'], false) });
    const del = scopeOf({ metadataSync: sync(['topic', 'group'], true) });

    it('one-way: a deletion on the source is not applied to the target (and is not retried later)', () => {
      const first = cycle(input('one-way', [null, null], [A(topic('t1'), group('g1')), B()], keep));
      const gone: [ClusterSnapshot, ClusterSnapshot] = [A(group('g1')), B(topic('t1'), group('g1'))];
      const next = cycle(input('one-way', [first.stored.source, first.stored.target], gone, keep));
      assert.deepEqual(ops(next.plan.actions), []);
      const after = cycle(input('one-way', [next.stored.source, next.stored.target], gone, keep));
      assert.deepEqual(ops(after.plan.actions), [], 'the target keeps t1 cycle after cycle');
      // The same change with deletes on: the target loses t1.
      assert.deepEqual(ops(planSync(input('one-way', [first.stored.source, first.stored.target], gone, del)).actions), [
        'delete topic t1 -> target',
      ]);
    });

    it('two-way: a deletion on either side stays there; creates and updates still flow both ways', () => {
      const both: [ClusterSnapshot, ClusterSnapshot] = [A(topic('t1'), topic('t2'), group('g1')), B(topic('t1'), topic('t2'), group('g1'))];
      const first = cycle(input('two-way', [null, null], both, keep));
      assert.deepEqual(ops(first.plan.actions), []);
      const changed: [ClusterSnapshot, ClusterSnapshot] = [A(topic('t2', 8), topic('t3')), B(topic('t1'), topic('t2'), group('g1'))];
      const next = cycle(input('two-way', [first.stored.source, first.stored.target], changed, keep));
      // t1 deleted on A: kept on B. g1 deleted on A: kept on B. t2 changed and t3 created on A: passed on.
      assert.deepEqual(ops(next.plan.actions), ['create topic t3 -> target', 'update topic t2 -> target']);

      const fromB: [ClusterSnapshot, ClusterSnapshot] = [A(topic('t1'), topic('t2'), group('g1')), B(topic('t2'))];
      assert.deepEqual(ops(planSync(input('two-way', [first.stored.source, first.stored.target], fromB, keep)).actions), []);
      assert.deepEqual(ops(planSync(input('two-way', [first.stored.source, first.stored.target], fromB, del)).actions), [
        'delete group g1 -> source',
        'delete topic t1 -> source',
      ]);
    });

    it('two-way: deleted on the source while changed on the target is no conflict; the target keeps its change', () => {
      const first = cycle(input('two-way', [null, null], [A(topic('t1')), B(topic('t1'))], keep));
      const plan = planSync(input('two-way', [first.stored.source, first.stored.target], [A(), B(topic('t1', 16))], keep));
      assert.deepEqual(ops(plan.actions), []);
      assert.deepEqual(plan.conflicts, []);
      const withDeletes = planSync(input('two-way', [first.stored.source, first.stored.target], [A(), B(topic('t1', 16))], del));
      assert.deepEqual(ops(withDeletes.actions), ['delete topic t1 -> target'], 'with deletes on, the source wins the conflict');
    });
  });
});

describe('metadataSync.copyRoleSecrets', () => {
  const role = (name: string): MetadataEntry => ({
    kind: 'role',
    name,
    remark: '',
    permType: 'Cluster',
    permRead: true,
    permWrite: false,
    accessKey: `ak-${name}`,
    secretKey: `sk-${name}`,
  });
  const withRoles = (id: string, items: MetadataEntry[]): ClusterSnapshot => {
    const s = snap(id, []);
    s.kinds.role = { status: 'ok', items: new Map(items.map((i) => [i.name, i])) };
    return s;
  };
  const created = (copyRoleSecrets: boolean) =>
    planSync(
      input(
        'one-way',
        [null, null],
        [withRoles('A', [role('app')]), withRoles('B', [])],
        scopeOf({ metadataSync: { ...sync(['acl']), copyRoleSecrets } }),
      ),
    ).actions.find((a) => a.kind === 'role');

  it('off (the default): the role is created without its keys, so the other cluster gives it keys of its own', () => {
    assert.equal(scopeOf().copySecrets, false);
    const a = created(false);
    assert.equal(a?.op, 'create');
    assert.ok(a?.item && !('secretKey' in a.item) && !('accessKey' in a.item), JSON.stringify(a?.item));
  });

  it('on: the keys go with it', () => {
    const a = created(true);
    assert.equal(a?.item?.kind === 'role' ? a.item.secretKey : undefined, 'sk-app');
  });
});
