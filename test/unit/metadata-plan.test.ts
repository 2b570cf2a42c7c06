// Metadata sync decisions without I/O: diff, plan (first sync, one-way, two-way, conflicts, system
// items, unsupported kinds), projection of the stored snapshots, the stored form, which tasks sync.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { diffItems, sameSettings } from '../../shared/metadata/diff.ts';
import type {
  AclItem,
  AclUserItem,
  ClusterSnapshot,
  GroupItem,
  KindSnapshot,
  MetadataEntry,
  SyncKind,
  TopicItem,
} from '../../shared/metadata/model.ts';
import { planSync, type PlanInput, type SyncAction } from '../../shared/metadata/plan.ts';
import { projectSnapshots, type ActionResult } from '../../shared/metadata/projection.ts';
import { isMetadataSyncDue } from '../../shared/metadata/run.ts';
import { decodeSnapshot, encodeSnapshot, sameSnapshot } from '../../shared/metadata/snapshot-codec.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';

const topic = (name: string, q = 4, perm = 6, attributes?: Record<string, string>): TopicItem => {
  const t: TopicItem = { kind: 'topic', name, readQueueNums: q, writeQueueNums: q, perm, order: false };
  if (attributes) t.attributes = attributes;
  return t;
};
const group = (name: string, over: Partial<GroupItem> = {}): GroupItem => ({
  kind: 'group',
  name,
  consumeEnable: true,
  consumeFromMinEnable: true,
  consumeBroadcastEnable: true,
  retryQueueNums: 1,
  retryMaxTimes: 16,
  brokerId: 0,
  whichBrokerWhenConsumeSlowly: 1,
  notifyConsumerIdsChangedEnable: true,
  ...over,
});
const user = (name: string, password = 'pw', userType: AclUserItem['userType'] = 'Normal'): AclUserItem => ({
  kind: 'acl_user',
  name,
  password,
  userType,
  userStatus: 'enable',
});
const acl = (user: string, ...resources: string[]): AclItem => ({
  kind: 'acl',
  name: `User:${user}`,
  policies: [{ policyType: 'Custom', entries: resources.map((r) => ({ resource: r, actions: ['Pub', 'Sub'], decision: 'Allow' })) }],
});

function snap(
  clusterId: string,
  items: MetadataEntry[],
  extra: Partial<Record<SyncKind, KindSnapshot>> = {},
  reservedNames: string[] = [],
): ClusterSnapshot {
  const kinds: Partial<Record<SyncKind, KindSnapshot>> = {
    topic: { status: 'ok', items: new Map() },
    group: { status: 'ok', items: new Map() },
  };
  for (const i of items) {
    const k = (kinds[i.kind] ??= { status: 'ok', items: new Map() });
    if (k.status === 'ok') k.items.set(i.name, i);
  }
  return { clusterId, reservedNames, kinds: { ...kinds, ...extra } };
}

const A = (...items: MetadataEntry[]) => snap('A', items, {}, ['cluster-a', 'broker-a0']);
const B = (...items: MetadataEntry[]) => snap('B', items, {}, ['cluster-b', 'broker-b0']);

/** Actions as short strings: `create topic t1 -> target`. */
const ops = (actions: readonly SyncAction[]) => actions.map((a) => `${a.op} ${a.kind} ${a.name} -> ${a.to}`);

function input(
  direction: PlanInput['direction'],
  prev: [ClusterSnapshot | null, ClusterSnapshot | null],
  cur: [ClusterSnapshot, ClusterSnapshot],
  ownPrincipals: string[] = [],
): PlanInput {
  return { direction, previous: { source: prev[0], target: prev[1] }, current: { source: cur[0], target: cur[1] }, ownPrincipals };
}

/** Runs the plan, marks every action synced (or as `fail` says), and returns the stored snapshots for the next cycle. */
function cycle(i: PlanInput, fail: (a: SyncAction) => boolean = () => false) {
  const plan = planSync(i);
  const results: ActionResult[] = plan.actions.map((action) => ({
    action,
    status: fail(action) ? 'failed' : 'synced',
    error: fail(action) ? 'boom' : null,
  }));
  return { plan, stored: projectSnapshots(i, results) };
}

describe('metadata diff', () => {
  it('sees created, modified and deleted items, and nothing for equal ones', () => {
    const prev = new Map<string, MetadataEntry>([
      ['a', topic('a')],
      ['b', topic('b')],
      ['c', topic('c')],
    ]);
    const cur = new Map<string, MetadataEntry>([
      ['a', topic('a')],
      ['b', topic('b', 8)],
      ['d', topic('d')],
    ]);
    const d = diffItems(prev, cur);
    assert.deepEqual([...d].map(([n, c]) => `${n}:${c.type}`).sort(), ['b:modified', 'c:deleted', 'd:created']);
  });

  it('compares only what both clusters have: 4.x topics without attributes, 4.x groups without 5.x fields', () => {
    assert.ok(sameSettings(topic('t', 4, 6), topic('t', 4, 6, { 'message.type': 'FIFO' })));
    assert.ok(!sameSettings(topic('t', 4, 6, {}), topic('t', 4, 6, { 'message.type': 'FIFO' })), 'both 5.x: attributes count');
    assert.ok(!sameSettings(topic('t', 4, 6), topic('t', 4, 4)), 'perm counts');
    assert.ok(!sameSettings(topic('t', 4), topic('t', 8)), 'queue counts count');
    const v5 = group('g', {
      groupRetryPolicy: { type: 'CUSTOMIZED', customizedRetryPolicy: { next: [1000] } },
      consumeTimeoutMinute: 15,
      consumeMessageOrderly: false,
    });
    assert.ok(sameSettings(group('g'), v5));
    assert.ok(!sameSettings(group('g', { retryMaxTimes: 3 }), v5));
    assert.ok(!sameSettings(v5, { ...v5, groupRetryPolicy: { type: 'EXPONENTIAL' } }));
  });

  it('ACLs compare regardless of entry, action and IP order', () => {
    const x: AclItem = {
      kind: 'acl',
      name: 'User:u',
      policies: [
        {
          entries: [
            { resource: 'Topic:b', actions: ['Sub', 'Pub'], sourceIps: ['10.0.0.2', '10.0.0.1'], decision: 'Allow' },
            { resource: 'Topic:a', actions: ['Pub'], decision: 'Deny' },
          ],
        },
      ],
    };
    const y: AclItem = {
      kind: 'acl',
      name: 'User:u',
      policies: [
        {
          policyType: 'Custom',
          entries: [
            { resource: 'Topic:a', actions: ['Pub'], sourceIps: [], decision: 'Deny' },
            { resource: 'Topic:b', actions: ['Pub', 'Sub'], sourceIps: ['10.0.0.1', '10.0.0.2'], decision: 'Allow' },
          ],
        },
      ],
    };
    assert.ok(sameSettings(x, y));
    assert.ok(!sameSettings(x, acl('u', 'Topic:a')));
  });
});

describe('metadata plan: first sync', () => {
  it('copies what the target lacks, updates what differs, never deletes target-only items', () => {
    const plan = planSync(
      input('one-way', [null, null], [A(topic('t1'), topic('t2', 8), group('g1')), B(topic('t2', 4), topic('only_b'), group('only_b_g'))]),
    );
    assert.equal(plan.first, true);
    assert.deepEqual(ops(plan.actions), ['create topic t1 -> target', 'update topic t2 -> target', 'create group g1 -> target']);
    assert.equal(plan.actions[1]!.current?.kind, 'topic', 'the target item is handed to the adapter');
  });

  it('is a first sync while one side has no stored snapshot, even if the other has one', () => {
    const plan = planSync(input('one-way', [A(topic('gone')), null], [A(), B(topic('gone'))]));
    assert.equal(plan.first, true);
    assert.deepEqual(plan.actions, [], 'the deletion on the source is not applied');
  });

  it("two-way: copies each side's own items to the other; where both differ the source wins", () => {
    const plan = planSync(input('two-way', [null, null], [A(topic('a'), topic('both', 8)), B(topic('b'), topic('both', 4), group('gb'))]));
    assert.deepEqual(ops(plan.actions), [
      'create topic a -> target',
      'update topic both -> target',
      'create topic b -> source',
      'create group gb -> source',
    ]);
    assert.deepEqual([...new Set(plan.actions.map((a) => a.direction))].sort(), ['source_to_target', 'target_to_source']);
  });

  it('records items already in sync as synced with action none', () => {
    const plan = planSync(input('one-way', [null, null], [A(topic('same')), B(topic('same'))]));
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.settled, [
      { kind: 'topic', name: 'same', direction: 'source_to_target', action: 'none', status: 'synced', error: null },
    ]);
  });
});

describe('metadata plan: one-way after the first sync', () => {
  const prevA = A(topic('keep'), topic('grow'), topic('gone'), group('g', { retryMaxTimes: 16 }));
  const prevB = B(topic('keep'), topic('grow'), topic('gone'), group('g', { retryMaxTimes: 16 }), topic('only_b'));

  it('creates, modifies and deletes follow the source; target-only items stay', () => {
    const plan = planSync(
      input(
        'one-way',
        [prevA, prevB],
        [
          A(topic('keep'), topic('grow', 8, 4), topic('new'), group('g', { retryMaxTimes: 3, consumeBroadcastEnable: false })),
          B(topic('keep'), topic('grow'), topic('gone'), group('g', { retryMaxTimes: 16 }), topic('only_b')),
        ],
      ),
    );
    assert.equal(plan.first, false);
    assert.deepEqual(ops(plan.actions), [
      'update topic grow -> target',
      'create topic new -> target',
      'update group g -> target',
      'delete topic gone -> target',
    ]);
    assert.deepEqual((plan.actions[0]!.item as TopicItem).perm, 4);
  });

  it('the target follows the source: a target-side change or deletion of a synced item is undone', () => {
    const plan = planSync(
      input(
        'one-way',
        [prevA, prevB],
        [
          A(topic('keep'), topic('grow'), topic('gone'), group('g', { retryMaxTimes: 16 })),
          B(topic('keep', 2), topic('gone'), group('g', { retryMaxTimes: 16 }), topic('only_b'), topic('new_on_b')),
        ],
      ),
    );
    assert.deepEqual(ops(plan.actions), ['update topic keep -> target', 'create topic grow -> target']);
    assert.deepEqual(plan.conflicts, []);
  });

  it('target changes never flow back in a one-way task', () => {
    const plan = planSync(
      input('one-way', [prevA, prevB], [prevA, B(topic('keep'), topic('grow'), topic('gone'), group('g', { retryMaxTimes: 16 }))]),
    );
    assert.deepEqual(plan.actions, [], 'only_b deleted on the target: nothing to do');
  });

  it('deleting something the target no longer has is a no-op', () => {
    const plan = planSync(
      input('one-way', [prevA, prevB], [A(topic('keep'), topic('grow'), group('g')), B(topic('keep'), topic('grow'), group('g'))]),
    );
    assert.deepEqual(plan.actions, []);
  });
});

describe('metadata plan: two-way after the first sync', () => {
  const base = [topic('t1'), topic('t2'), topic('t3'), group('g1')];
  const prev: [ClusterSnapshot, ClusterSnapshot] = [A(...base), B(...base)];

  it("each side's creates, changes and deletes go to the other side", () => {
    const plan = planSync(
      input('two-way', prev, [
        A(topic('t1', 8), topic('t3'), group('g1'), topic('newA')),
        B(topic('t1'), topic('t2'), group('g1', { consumeEnable: false }), topic('newB')),
      ]),
    );
    assert.deepEqual(ops(plan.actions).sort(), [
      'create topic newA -> target',
      'create topic newB -> source',
      'delete topic t2 -> target', // deleted on A
      'delete topic t3 -> source', // deleted on B
      'update group g1 -> source',
      'update topic t1 -> target',
    ]);
    assert.deepEqual(plan.conflicts, []);
  });

  it('the same item changed on both sides differently: the source wins and the conflict is reported', () => {
    const plan = planSync(
      input('two-way', prev, [
        A(topic('t1', 8), topic('t2'), group('g1')),
        B(topic('t1', 2), topic('t2', 16), topic('t3', 5), group('g1')),
      ]),
    );
    // t1 modified on both → A's version to B. t3 deleted on A and modified on B → deleted on B. t2 modified on B only → to A.
    assert.deepEqual(ops(plan.actions).sort(), ['delete topic t3 -> target', 'update topic t1 -> target', 'update topic t2 -> source']);
    assert.deepEqual(plan.conflicts.map((c) => `${c.name}:${c.source}/${c.target}`).sort(), [
      't1:modified/modified',
      't3:deleted/modified',
    ]);
    assert.equal((plan.actions.find((a) => a.name === 't1')!.item as TopicItem).readQueueNums, 8);
  });

  it('both sides making the same change is no conflict and needs no write', () => {
    const plan = planSync(
      input('two-way', prev, [
        A(topic('t1', 8), topic('t2'), group('g1'), topic('x')),
        B(topic('t1', 8), topic('t2'), group('g1'), topic('x')),
      ]),
    );
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.conflicts, []);
  });
});

describe('metadata plan: never synced', () => {
  const systemTopics = [
    'TBW102',
    'SCHEDULE_TOPIC_XXXX',
    'RMQ_SYS_TRACE_TOPIC',
    'rmq_sys_wheel_timer',
    '%RETRY%g1',
    '%DLQ%g1',
    'OFFSET_MOVED_EVENT',
    'BenchmarkTest',
    'SELF_TEST_TOPIC',
    'TRANS_CHECK_MAX_TIME_TOPIC',
    'cluster-a',
    'broker-a0',
    'cluster-a_REPLY_TOPIC',
    'cluster-b',
  ];
  const systemGroups = [
    'TOOLS_CONSUMER',
    'DEFAULT_CONSUMER',
    'CID_RMQ_SYS_TRANS',
    'FERRY_REPLICATOR',
    'FERRY_PRODUCER',
    'SELF_TEST_C_GROUP',
  ];

  it("system topics/groups and Ferry's groups are neither copied, changed nor deleted, both ways", () => {
    const a = A(...systemTopics.map((t) => topic(t, 8)), ...systemGroups.map((g) => group(g, { retryMaxTimes: 1 })));
    const b = B(...systemTopics.map((t) => topic(t, 1)));
    assert.deepEqual(planSync(input('two-way', [null, null], [a, b])).actions, []);
    // Later: system items deleted on A and different on B — still nothing.
    assert.deepEqual(
      planSync(input('two-way', [a, b], [A(), B(...systemTopics.map((t) => topic(t, 2)), ...systemGroups.map((g) => group(g)))])).actions,
      [],
    );
    assert.deepEqual(planSync(input('one-way', [a, b], [A(), b])).actions, []);
  });

  it('the principals Ferry signs with are never synced (their ACLs neither)', () => {
    const a = snap('A', [user('ferryAdmin', 'a-secret', 'Super'), acl('ferryAdmin', 'Topic:*'), user('alice'), acl('alice', 'Topic:t')]);
    const b = snap('B', [user('ferryAdmin', 'b-secret', 'Super')], { acl: { status: 'ok', items: new Map() } });
    const plan = planSync(input('one-way', [null, null], [a, b], ['ferryAdmin']));
    assert.deepEqual(ops(plan.actions), ['create acl_user alice -> target', 'create acl User:alice -> target']);
  });

  it('stored snapshots leave system items out', () => {
    const i = input('one-way', [null, null], [A(topic('TBW102'), topic('user_t')), B()]);
    const { stored } = cycle(i);
    const items = stored.source.kinds.topic;
    assert.deepEqual(items?.status === 'ok' ? [...items.items.keys()] : null, ['user_t']);
  });
});

describe('metadata plan: access kinds and capability gaps', () => {
  it('users are created before their ACLs; ACLs are deleted before their users', () => {
    const prev: [ClusterSnapshot, ClusterSnapshot] = [
      snap('A', [user('old'), acl('old', 'Topic:x')]),
      snap('B', [user('old'), acl('old', 'Topic:x')]),
    ];
    const plan = planSync(
      input('one-way', prev, [snap('A', [user('new'), acl('new', 'Topic:y')]), snap('B', [user('old'), acl('old', 'Topic:x')])]),
    );
    assert.deepEqual(ops(plan.actions), [
      'create acl_user new -> target',
      'create acl User:new -> target',
      'delete acl User:old -> target',
      'delete acl_user old -> target',
    ]);
  });

  it('a password change is an update', () => {
    const prev: [ClusterSnapshot, ClusterSnapshot] = [snap('A', [user('u', 'one')]), snap('B', [user('u', 'one')])];
    const plan = planSync(input('one-way', prev, [snap('A', [user('u', 'two')]), snap('B', [user('u', 'one')])]));
    assert.deepEqual(ops(plan.actions), ['update acl_user u -> target']);
  });

  it('a kind the source cannot read is reported once as unsupported, with the reason', () => {
    const a = snap('A', [], { acl_account: { status: 'unsupported', reason: 'listing removed in 4.9.8' } });
    const plan = planSync(input('one-way', [null, null], [a, snap('B', [], { acl_account: { status: 'ok', items: new Map() } })]));
    assert.deepEqual(plan.settled, [
      {
        kind: 'acl_account',
        name: '*',
        direction: 'source_to_target',
        action: 'none',
        status: 'unsupported',
        error: 'acl_account cannot be read from A: listing removed in 4.9.8',
      },
    ]);
    assert.deepEqual(plan.actions, []);
  });

  it('items of a kind the target does not have are reported unsupported one by one, never written', () => {
    const a = snap('A', [{ kind: 'acl_account', name: 'ak1', secretKey: 's', admin: false, topicPerms: [], groupPerms: [] }]);
    const plan = planSync(input('one-way', [null, null], [a, snap('B', [], { acl_user: { status: 'ok', items: new Map() } })]));
    assert.deepEqual(plan.actions, []);
    assert.equal(plan.settled.length, 1);
    assert.equal(plan.settled[0]!.status, 'unsupported');
    assert.match(plan.settled[0]!.error!, /cannot sync acl_account to B: it has no ACL 1\.0/);
  });

  it('a kind that becomes readable again starts as a first sync for that kind: nothing is deleted', () => {
    const prevA = snap('A', [user('u1')], { acl: { status: 'unsupported', reason: 'x' } });
    const prevB = snap('B', [user('u1')]);
    const plan = planSync(
      input(
        'two-way',
        [prevA, prevB],
        [
          snap('A', [acl('u1', 'Topic:t')], { acl_user: { status: 'ok', items: new Map() } }),
          snap('B', [user('u1'), acl('u2', 'Topic:z')]),
        ],
      ),
    );
    // acl_user: A deleted u1 → deleted on B. acl: first for the kind → copy both ways, no deletes.
    assert.deepEqual(ops(plan.actions), ['create acl User:u1 -> target', 'create acl User:u2 -> source', 'delete acl_user u1 -> target']);
  });
});

describe('metadata projection: what is stored for the next cycle', () => {
  it("Ferry's own writes are not seen as changes of the written side next cycle (no echo in two-way)", () => {
    const first = cycle(input('two-way', [null, null], [A(topic('a')), B(topic('b'))]));
    // The clusters now hold what was written; the next cycle finds nothing to do.
    const next = planSync(
      input('two-way', [first.stored.source, first.stored.target], [A(topic('a'), topic('b')), B(topic('a'), topic('b'))]),
    );
    assert.deepEqual(next.actions, []);
    // A user change on B after Ferry's write flows to A — it is not mistaken for a conflict with A's create.
    const later = planSync(
      input('two-way', [first.stored.source, first.stored.target], [A(topic('a'), topic('b')), B(topic('a', 8), topic('b'))]),
    );
    assert.deepEqual(ops(later.actions), ['update topic a -> source']);
    assert.deepEqual(later.conflicts, []);
  });

  it('a failed create is retried next cycle', () => {
    const prev: [ClusterSnapshot, ClusterSnapshot] = [A(topic('t')), B(topic('t'))];
    const i = input('two-way', prev, [A(topic('t'), topic('new')), B(topic('t'))]);
    const { plan, stored } = cycle(i, () => true);
    assert.deepEqual(ops(plan.actions), ['create topic new -> target']);
    const retry = planSync(input('two-way', [stored.source, stored.target], [A(topic('t'), topic('new')), B(topic('t'))]));
    assert.deepEqual(ops(retry.actions), ['create topic new -> target']);
  });

  it('a failed delete is retried next cycle, a successful one is not repeated', () => {
    const prev: [ClusterSnapshot, ClusterSnapshot] = [A(topic('t')), B(topic('t'))];
    const failed = cycle(input('two-way', prev, [A(), B(topic('t'))]), () => true);
    assert.deepEqual(ops(planSync(input('two-way', [failed.stored.source, failed.stored.target], [A(), B(topic('t'))])).actions), [
      'delete topic t -> target',
    ]);
    const ok = cycle(input('two-way', prev, [A(), B(topic('t'))]));
    assert.deepEqual(planSync(input('two-way', [ok.stored.source, ok.stored.target], [A(), B()])).actions, []);
  });

  it('a failed update keeps the old version stored, so the change is seen again', () => {
    const prev: [ClusterSnapshot, ClusterSnapshot] = [A(group('g')), B(group('g'))];
    const { stored } = cycle(input('two-way', prev, [A(group('g', { retryMaxTimes: 2 })), B(group('g'))]), () => true);
    const retry = planSync(input('two-way', [stored.source, stored.target], [A(group('g', { retryMaxTimes: 2 })), B(group('g'))]));
    assert.deepEqual(ops(retry.actions), ['update group g -> target']);
  });
});

describe('metadata snapshot: stored form', () => {
  const cipher = aesGcmCipher(randomBytes(32));
  const s = snap(
    'A',
    [
      topic('__proto__', 3, 6, { 'message.type': 'FIFO' }),
      group('g'),
      user('alice', 'pa55-word'),
      acl('alice', 'Topic:t'),
      {
        kind: 'acl_account',
        name: 'ak',
        secretKey: 'sk-secret',
        admin: false,
        defaultTopicPerm: 'DENY',
        topicPerms: ['t=PUB'],
        groupPerms: [],
      },
    ],
    {},
    ['cluster-a'],
  );

  it('round-trips, with secrets sealed at rest', () => {
    const stored = encodeSnapshot(s, cipher);
    const text = JSON.stringify(stored);
    assert.ok(!text.includes('pa55-word') && !text.includes('sk-secret'), 'no secret in the clear');
    const back = decodeSnapshot(JSON.parse(text), cipher);
    assert.ok(sameSnapshot(back, s));
    const t = back.kinds.topic?.status === 'ok' ? back.kinds.topic.items.get('__proto__') : undefined;
    assert.equal(t?.kind === 'topic' ? t.readQueueNums : undefined, 3);
    assert.ok(!sameSnapshot(back, snap('A', [])));
  });

  it('refuses documents it did not write', () => {
    assert.throws(() => decodeSnapshot({ v: 2 }, cipher));
    assert.throws(() =>
      decodeSnapshot(
        { v: 1, clusterId: 'A', reservedNames: [], kinds: { topic: { status: 'ok', items: [{ kind: 'topic', name: 1 }] } } },
        cipher,
      ),
    );
  });
});

describe('which tasks sync', () => {
  it('desired running, except start_failed and deleting; stopped tasks do not', () => {
    assert.equal(isMetadataSyncDue({ desiredState: 'running', status: 'running' }), true);
    assert.equal(isMetadataSyncDue({ desiredState: 'running', status: 'initializing' }), true);
    assert.equal(isMetadataSyncDue({ desiredState: 'running', status: 'start_failed' }), false);
    assert.equal(isMetadataSyncDue({ desiredState: 'running', status: 'deleting' }), false);
    assert.equal(isMetadataSyncDue({ desiredState: 'stopped', status: 'stopped' }), false);
  });
});
