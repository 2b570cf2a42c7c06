// Broker records ↔ metadata items, for the remoting ClusterAdmin: what a broker reports becomes
// an item, and an item to write becomes the full record the broker expects.
import type { PlainAccessConfig } from '../rocketmq/remoting/acl-codec.ts';
import type { GroupConfig, TopicConfig } from '../rocketmq/remoting/admin-codec.ts';
import type { AclAccountItem, AclUserItem, GroupItem, TopicItem } from './model.ts';

export function topicItem(t: TopicConfig, withAttributes: boolean): TopicItem {
  const item: TopicItem = {
    kind: 'topic',
    name: t.topicName,
    readQueueNums: t.readQueueNums,
    writeQueueNums: t.writeQueueNums,
    perm: t.perm,
    order: t.order,
  };
  if (withAttributes) item.attributes = { ...t.attributes };
  return item;
}

export function groupItem(g: GroupConfig): GroupItem {
  const item: GroupItem = {
    kind: 'group',
    name: g.groupName,
    consumeEnable: g.consumeEnable,
    consumeFromMinEnable: g.consumeFromMinEnable,
    consumeBroadcastEnable: g.consumeBroadcastEnable,
    retryQueueNums: g.retryQueueNums,
    retryMaxTimes: g.retryMaxTimes,
    brokerId: g.brokerId,
    whichBrokerWhenConsumeSlowly: g.whichBrokerWhenConsumeSlowly,
    notifyConsumerIdsChangedEnable: g.notifyConsumerIdsChangedEnable,
  };
  if (g.consumeMessageOrderly !== undefined) item.consumeMessageOrderly = g.consumeMessageOrderly;
  if (g.groupRetryPolicy !== undefined) item.groupRetryPolicy = g.groupRetryPolicy;
  if (g.consumeTimeoutMinute !== undefined) item.consumeTimeoutMinute = g.consumeTimeoutMinute;
  return item;
}

export function userItem(u: {
  username: string;
  password?: string;
  userType?: 'Super' | 'Normal';
  userStatus?: 'enable' | 'disable';
}): AclUserItem {
  return {
    kind: 'acl_user',
    name: u.username,
    password: u.password ?? '',
    userType: u.userType ?? 'Normal',
    userStatus: u.userStatus ?? 'enable',
  };
}

/** An absent default permission is DENY to the broker (Permission.parsePermFromString(null)): stated, so both spellings compare equal. */
export function accountItem(a: PlainAccessConfig): AclAccountItem {
  const item: AclAccountItem = {
    kind: 'acl_account',
    name: a.accessKey,
    secretKey: a.secretKey,
    admin: a.admin,
    defaultTopicPerm: a.defaultTopicPerm ?? 'DENY',
    defaultGroupPerm: a.defaultGroupPerm ?? 'DENY',
    topicPerms: [...a.topicPerms],
    groupPerms: [...a.groupPerms],
  };
  if (a.whiteRemoteAddress) item.whiteRemoteAddress = a.whiteRemoteAddress;
  return item;
}

export function accountConfig(a: AclAccountItem): PlainAccessConfig {
  const cfg: PlainAccessConfig = {
    accessKey: a.name,
    secretKey: a.secretKey,
    admin: a.admin,
    topicPerms: a.topicPerms,
    groupPerms: a.groupPerms,
  };
  if (a.whiteRemoteAddress) cfg.whiteRemoteAddress = a.whiteRemoteAddress;
  if (a.defaultTopicPerm) cfg.defaultTopicPerm = a.defaultTopicPerm;
  if (a.defaultGroupPerm) cfg.defaultGroupPerm = a.defaultGroupPerm;
  return cfg;
}

export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
