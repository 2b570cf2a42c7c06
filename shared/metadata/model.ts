// What metadata sync knows about a cluster: one item per topic, group and access entry, grouped by
// kind into a snapshot. These shapes belong to the ClusterAdmin port, not to any wire protocol:
// the remoting adapter maps broker configs into them, a Cloud API adapter would do the same.
import type { GroupConfig, GroupRetryPolicy } from '../rocketmq/remoting/admin-codec.ts';
import type { MetadataKind, SyncDirection } from '../store/store.ts';

/** The kinds this slice synchronises ('role', Tencent Cloud roles, comes with the Cloud API adapter). */
export type SyncKind = Exclude<MetadataKind, 'role'>;

/**
 * Creates and updates run in this order, deletes in the reverse: a user exists before its ACL is
 * written, and an ACL is gone before its user is deleted.
 */
export const KIND_ORDER: readonly SyncKind[] = ['topic', 'group', 'acl_user', 'acl_account', 'acl'];

export interface TopicItem {
  kind: 'topic';
  name: string;
  /** Per broker: every master that hosts the topic has this many queues (see remoting-cluster-admin.ts). */
  readQueueNums: number;
  writeQueueNums: number;
  /** PERM_READ 4 | PERM_WRITE 2 | PERM_INHERIT 1. */
  perm: number;
  order: boolean;
  /**
   * 5.x topic attributes (`message.type`, `queue.type`, …). Undefined when the cluster has no
   * topic attributes at all (4.x): then they are neither compared nor written.
   */
  attributes?: Record<string, string>;
}

export type { GroupRetryPolicy };

/** A consumer group's settings: RocketMQ's own fields (5.x-only ones undefined on 4.x, compared only when both sides have them). */
export type GroupItem = { kind: 'group'; name: string } & Pick<
  GroupConfig,
  | 'consumeEnable'
  | 'consumeFromMinEnable'
  | 'consumeBroadcastEnable'
  | 'retryQueueNums'
  | 'retryMaxTimes'
  | 'brokerId'
  | 'whichBrokerWhenConsumeSlowly'
  | 'notifyConsumerIdsChangedEnable'
  | 'consumeMessageOrderly'
  | 'groupRetryPolicy'
  | 'consumeTimeoutMinute'
>;

export type AclAction = 'All' | 'Pub' | 'Sub' | 'Create' | 'Update' | 'Delete' | 'Get' | 'List';

export interface AclEntry {
  resource: string;
  actions: AclAction[];
  sourceIps?: string[];
  decision: 'Allow' | 'Deny';
}

export interface AclPolicy {
  /** Absent = Custom. */
  policyType?: 'Custom' | 'Default';
  entries: AclEntry[];
}

/** An ACL 2.0 user (5.3+). */
export interface AclUserItem {
  kind: 'acl_user';
  /** The username. */
  name: string;
  /** In the clear in memory only; sealed whenever a snapshot is stored. */
  password: string;
  userType: 'Super' | 'Normal';
  userStatus: 'enable' | 'disable';
}

/** An ACL 2.0 ACL: the policies of one subject (5.3+). */
export interface AclItem {
  kind: 'acl';
  /** The subject, e.g. `User:alice`. */
  name: string;
  policies: AclPolicy[];
}

export type PlainPerm = 'DENY' | 'PUB' | 'SUB' | 'PUB|SUB';

/** An ACL 1.0 account (plain_acl.yml; 4.x … 5.3.2). */
export interface AclAccountItem {
  kind: 'acl_account';
  /** The access key. */
  name: string;
  /** In the clear in memory only; sealed whenever a snapshot is stored. */
  secretKey: string;
  admin: boolean;
  whiteRemoteAddress?: string;
  defaultTopicPerm?: PlainPerm;
  defaultGroupPerm?: PlainPerm;
  topicPerms: string[];
  groupPerms: string[];
}

export type MetadataEntry = TopicItem | GroupItem | AclUserItem | AclItem | AclAccountItem;

/** One kind on one cluster: its items, or why they cannot be read there. */
export type KindSnapshot =
  | { status: 'ok'; items: Map<string, MetadataEntry> }
  | { status: 'unsupported'; reason: string };

export interface ClusterSnapshot {
  /** The task's id for the cluster (messages and outcomes name it). */
  clusterId: string;
  /** Names the cluster uses for itself (cluster and broker names): brokers create topics with them. */
  reservedNames: string[];
  /** A kind absent here does not apply to the cluster (ACL kinds on a cluster without ACL). */
  kinds: Partial<Record<SyncKind, KindSnapshot>>;
}

export const SOURCE_TO_TARGET: SyncDirection = 'source_to_target';
export const TARGET_TO_SOURCE: SyncDirection = 'target_to_source';
