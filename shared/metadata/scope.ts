// Pure: which items a task's metadata sync may touch, from its options (task `metadataSync` and
// `groups`, defaults in tasks/model.ts taskOptions):
//
// - `kinds` names families: 'topic', 'group', and 'acl' — every access-control kind (ACL 2.0 users
//   and ACLs, ACL 1.0 accounts, Tencent roles). A kind not listed is neither read into the plan nor
//   stored, so listing it again later starts it as a first sync (copy, never delete).
// - Groups outside the task's groups filter, and with `topicsFollowFilter` topics outside its topic
//   filter, are left alone like system items: not copied, changed, deleted or stored. One that comes
//   into scope later (the filter was edited) is seen as created on the side(s) that have it.
// - `propagateDeletes: false`: a deletion on one side is not applied to the other.
// - `copyRoleSecrets: false` (the default): a Tencent role is created on the other cluster with keys
//   of its own, not with the original's secret key (clients switching over then need the new keys).
//   ACL 1.0 accounts and ACL 2.0 users are their secret: with kind 'acl' they are copied as they are.
import { matchTopicPatterns } from '../filter/topic-match.ts';
import { taskOptions, type TaskSpec } from '../tasks/model.ts';
import { carriedRetryTopics } from '../tasks/replicated-topics.ts';
import type { SyncKind } from './model.ts';
import { isNeverSynced, type SystemContext } from './system.ts';

export interface SyncScope {
  /** The kinds synced. */
  kinds: ReadonlySet<SyncKind>;
  /** Whether an item of a synced kind is in scope (system items are decided apart: system.ts). */
  takes(kind: SyncKind, name: string): boolean;
  /** System-named items synced all the same: the retry and dead-letter topics of synced groups (tasks/replicated-topics.ts). */
  carries(kind: SyncKind, name: string): boolean;
  propagateDeletes: boolean;
  /** Whether a Tencent role's keys are copied with it (metadataSync.copyRoleSecrets). */
  copySecrets: boolean;
}

const FAMILY: Record<SyncKind, 'topic' | 'group' | 'acl'> = {
  topic: 'topic',
  group: 'group',
  role: 'acl',
  acl_user: 'acl',
  acl_account: 'acl',
  acl: 'acl',
};

/** Every kind, every item, deletes propagated: a task stored before these options existed. */
export const WHOLE_CLUSTER: SyncScope = {
  kinds: new Set(Object.keys(FAMILY) as SyncKind[]),
  takes: () => true,
  carries: () => false,
  propagateDeletes: true,
  copySecrets: true,
};

export function syncScope(spec: Pick<TaskSpec, 'filter' | 'groups' | 'metadataSync' | 'offsetSync'>): SyncScope {
  const { groups, metadataSync } = taskOptions(spec);
  const families = new Set<string>(metadataSync.kinds);
  const topics = metadataSync.topicsFollowFilter ? matchTopicPatterns(spec.filter.topics) : () => true;
  const group = matchTopicPatterns(groups);
  const retryTopic = carriedRetryTopics(spec);
  return {
    kinds: new Set((Object.keys(FAMILY) as SyncKind[]).filter((k) => families.has(FAMILY[k]))),
    takes: (kind, name) => (kind === 'topic' ? topics(name) || retryTopic(name) : kind === 'group' ? group(name) : true),
    carries: (kind, name) => kind === 'topic' && retryTopic(name),
    propagateDeletes: metadataSync.propagateDeletes,
    copySecrets: metadataSync.copyRoleSecrets === true,
  };
}

/** Whether metadata sync may touch the item: in scope and not a system item — or a system-named one the task carries. */
export function syncable(scope: SyncScope, kind: SyncKind, name: string, ctx: SystemContext): boolean {
  return scope.carries(kind, name) || (!isNeverSynced(kind, name, ctx) && scope.takes(kind, name));
}
