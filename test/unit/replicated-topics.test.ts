// Which source topics a task replicates (shared/tasks/replicated-topics.ts) and which of RocketMQ's
// own metadata sync may touch because of them (shared/metadata/scope.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syncScope, syncable } from '../../shared/metadata/scope.ts';
import { carriedRetryTopics, groupOfRetryTopic, replicatedTopics } from '../../shared/tasks/replicated-topics.ts';

const spec = (over: { nothingLeftBehind?: boolean; groups?: string[]; topics?: string[] } = {}) => ({
  filter: { topics: { include: over.topics ?? ['orders.*'], exclude: [] }, expression: { type: 'TAG' as const, value: '*' } },
  groups: { include: over.groups ?? ['.*'], exclude: ['audit'] },
  metadataSync: { kinds: ['topic' as const, 'group' as const], topicsFollowFilter: true, propagateDeletes: true, copyRoleSecrets: false },
  offsetSync: { enabled: true, ...(over.nothingLeftBehind === undefined ? {} : { nothingLeftBehind: over.nothingLeftBehind }) },
});
const ctx = { reservedNames: new Set(['cluster-a', 'broker-a']), ownPrincipals: new Set<string>() };

describe('replicated topics', () => {
  it("the filter's topics, never RocketMQ's own; the retry and dead-letter topics of synced groups (on by default)", () => {
    const wanted = replicatedTopics(spec(), new Set(['broker-a']));
    for (const t of ['orders', 'orders_eu', '%RETRY%billing', '%DLQ%billing', '%RETRY%orders_c']) assert.ok(wanted(t), t);
    for (const t of [
      'payments',
      'broker-a',
      'SCHEDULE_TOPIC_XXXX',
      'rmq_sys_wheel_timer',
      '%RETRY%audit',
      '%DLQ%FERRY_t_forward',
      '%SYS%x',
    ])
      assert.ok(!wanted(t), t);
  });

  it('off: only the filter', () => {
    const wanted = replicatedTopics(spec({ nothingLeftBehind: false }), new Set());
    assert.ok(wanted('orders'));
    assert.ok(!wanted('%RETRY%billing') && !wanted('%DLQ%billing'));
  });

  it('only groups the groups filter takes', () => {
    const carried = carriedRetryTopics(spec({ groups: ['pay.*'] }));
    assert.ok(carried('%RETRY%payments') && carried('%DLQ%pay'));
    assert.ok(!carried('%RETRY%billing') && !carried('orders'));
    assert.equal(groupOfRetryTopic('%DLQ%g1'), 'g1');
    assert.equal(groupOfRetryTopic('g1'), undefined);
  });

  it('metadata sync creates the retry and dead-letter topics of synced groups (topic filter or not), no other system topic', () => {
    const scope = syncScope(spec());
    assert.ok(syncable(scope, 'topic', '%RETRY%billing', ctx));
    assert.ok(syncable(scope, 'topic', '%DLQ%billing', ctx));
    assert.ok(!syncable(scope, 'topic', '%RETRY%audit', ctx), 'a group outside the filter');
    assert.ok(!syncable(scope, 'topic', 'SCHEDULE_TOPIC_XXXX', ctx));
    assert.ok(!syncable(scope, 'topic', 'payments', ctx), 'outside the topic filter');
    assert.ok(syncable(scope, 'topic', 'orders', ctx));
    assert.ok(!syncable(syncScope(spec({ nothingLeftBehind: false })), 'topic', '%RETRY%billing', ctx));
  });
});
