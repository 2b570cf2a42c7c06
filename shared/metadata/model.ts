// What metadata sync knows about a cluster: one item per topic, group and access entry, grouped by
// kind into a snapshot. These shapes belong to the ClusterAdmin port, not to any wire protocol:
// the remoting adapter maps broker configs into them, the Tencent Cloud API adapter does the same.
import type { GroupConfig, GroupRetryPolicy } from '../rocketmq/remoting/admin-codec.ts';
import type { MetadataKind, SyncDirection } from '../store/store.ts';

/** Every kind of item metadata sync handles ('role': Tencent Cloud roles, read and written through the Cloud API only). */
export type SyncKind = MetadataKind;

/**
 * Creates and updates run in this order, deletes in the reverse: a user exists before its ACL is
 * written, and an ACL is gone before its user is deleted; a role's topic/group permissions name
 * topics and groups that exist by then.
 */
export const KIND_ORDER: readonly SyncKind[] = ['topic', 'group', 'role', 'acl_user', 'acl_account', 'acl'];

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

/** A role's permission on one topic or group (permType 'TopicAndGroup'). */
export interface RolePerm {
  resource: string;
  resourceType: 'Topic' | 'Group';
  /** Consume. */
  permRead: boolean;
  /** Produce. */
  permWrite: boolean;
}

/**
 * A Tencent Cloud role (TDMQ RocketMQ 4.x roles with their `tdmq_default` namespace grant, or a
 * 5.x instance's roles): the principal clients sign with on a Tencent cluster.
 */
export interface RoleItem {
  kind: 'role';
  /** The role name. */
  name: string;
  remark: string;
  /** 'Cluster': permRead/permWrite hold cluster-wide; 'TopicAndGroup': detailedPerms do. */
  permType: 'Cluster' | 'TopicAndGroup';
  permRead: boolean;
  permWrite: boolean;
  /** Undefined where the Cloud API does not show them (4.x): then not compared. */
  detailedPerms?: RolePerm[];
  /**
   * The role's keys where the Cloud API shows both (5.x), so a copy can be created with the same
   * keys and clients keep working after a switch-over. The API cannot change a role's keys later,
   * so they are not compared. In the clear in memory only; sealed whenever a snapshot is stored.
   */
  accessKey?: string;
  secretKey?: string;
}

export type MetadataEntry = TopicItem | GroupItem | RoleItem | AclUserItem | AclItem | AclAccountItem;

/** One kind on one cluster: its items, or why they cannot be read there. */
export type KindSnapshot = { status: 'ok'; items: Map<string, MetadataEntry> } | { status: 'unsupported'; reason: string };

export interface ClusterSnapshot {
  /** The task's id for the cluster (messages and outcomes name it). */
  clusterId: string;
  /** Names the cluster uses for itself (cluster and broker names): brokers create topics with them. */
  reservedNames: string[];
  /** A kind absent here does not apply to the cluster (ACL kinds on a cluster without ACL, roles on a self-built one). */
  kinds: Partial<Record<SyncKind, KindSnapshot>>;
  /**
   * Principals the adapter found Ferry itself signs with on this cluster, beyond the task's access
   * keys (a Tencent role whose keys the task connects with): never synced. Not stored.
   */
  ownPrincipals?: string[];
}

export const SOURCE_TO_TARGET: SyncDirection = 'source_to_target';
export const TARGET_TO_SOURCE: SyncDirection = 'target_to_source';
