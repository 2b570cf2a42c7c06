// What the Tencent ClusterAdmin needs from one Cloud API product (tdmq for 4.x clusters, trocket
// for 5.x instances), and the parts of the mapping both share.
//
// A Tencent topic, group or role holds fewer settings than a RocketMQ broker's config. Each
// flavour says, for a desired item, what the cluster would hold after writing it (`…Outcome`);
// the admin writes that, and reports whatever it could not hold as unsupported.
import type { GroupItem, RoleItem, TopicItem } from '../model.ts';
import type { TencentService } from '../../tencent-cloud/cloud-api.ts';

export interface TencentFlavour {
  readonly service: TencentService;
  /** For messages: "TDMQ RocketMQ 4.x" / "TDMQ RocketMQ 5.x". */
  readonly label: string;
  readTopics(): Promise<TopicItem[]>;
  readGroups(): Promise<GroupItem[]>;
  readRoles(): Promise<RoleItem[]>;
  topicOutcome(desired: TopicItem, current?: TopicItem): TopicItem;
  groupOutcome(desired: GroupItem, current?: GroupItem): GroupItem;
  roleOutcome(desired: RoleItem, current?: RoleItem): RoleItem;
  createTopic(t: TopicItem): Promise<void>;
  updateTopic(t: TopicItem): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  createGroup(g: GroupItem): Promise<void>;
  updateGroup(g: GroupItem): Promise<void>;
  deleteGroup(name: string): Promise<void>;
  /** `keys`: create the role with these keys (MANUAL) instead of generated ones. */
  createRole(r: RoleItem, keys?: { accessKey: string; secretKey: string }): Promise<void>;
  updateRole(r: RoleItem): Promise<void>;
  deleteRole(name: string): Promise<void>;
}

/** The message type a desired topic asks for: its 5.x `message.type`, else FIFO for a 4.x ordered topic. */
export function desiredMessageType(t: TopicItem): string {
  return t.attributes?.['message.type'] ?? (t.order ? 'FIFO' : 'NORMAL');
}

/**
 * A Tencent topic as an item: one queue count for reads and writes, always readable and writable
 * (the Cloud API has no perm), its type as the 5.x `message.type` attribute, no order flag.
 */
export function tencentTopic(name: string, queues: number, messageType: string): TopicItem {
  return {
    kind: 'topic',
    name,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm: 6,
    order: false,
    attributes: { 'message.type': messageType },
  };
}

/** The queue count a topic needs: RocketMQ keeps read and write counts apart, Tencent has one. */
export const wantedQueues = (t: TopicItem): number => Math.max(t.readQueueNums, t.writeQueueNums);

/**
 * The group settings the Cloud API neither shows nor sets, at RocketMQ's defaults (what a broker
 * holds for a group created with defaults), so Tencent and self-built groups compare equal.
 */
export const FIXED_GROUP_SETTINGS = {
  consumeFromMinEnable: true,
  retryQueueNums: 1,
  brokerId: 0,
  whichBrokerWhenConsumeSlowly: 1,
  notifyConsumerIdsChangedEnable: true,
} as const satisfies Partial<GroupItem>;

/** Role fields both flavours write; the caller decides detailedPerms. */
export function roleBase(desired: RoleItem): RoleItem {
  return {
    kind: 'role',
    name: desired.name,
    remark: desired.remark,
    permType: desired.permType,
    permRead: desired.permRead,
    permWrite: desired.permWrite,
  };
}
