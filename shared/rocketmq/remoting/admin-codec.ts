// Wire shapes of the topic and subscription-group requests in admin.ts: header fields, JSON bodies,
// and tolerant parsing of what brokers answer (fastjson output; fields a version lacks are simply
// absent). The ACL requests' shapes are in acl-codec.ts.
import { asObject, bool, definedOnly, isObject, num, parseJson, str, stringMap } from './admin-json.ts';
import { RemotingError } from './errors.ts';

// ---- topics ----

export type TopicFilterType = 'SINGLE_TAG' | 'MULTI_TAG';

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  /** PERM_READ 4 | PERM_WRITE 2 | PERM_INHERIT 1. */
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
  /**
   * 5.x topic attributes as stored, keys without +/- (e.g. `message.type` → NORMAL|FIFO|DELAY|
   * TRANSACTION, `queue.type`, `cleanup.policy`). Always {} on 4.x, which has none.
   */
  attributes: Record<string, string>;
}

/** What a create/update needs: a name; everything else defaults like Java's TopicConfig. */
export type TopicConfigInput = Pick<TopicConfig, 'topicName'> & Partial<Omit<TopicConfig, 'topicName'>>;

const TOPIC_DEFAULTS: Omit<TopicConfig, 'topicName' | 'attributes'> = {
  readQueueNums: 16,
  writeQueueNums: 16,
  perm: 6,
  topicFilterType: 'SINGLE_TAG',
  topicSysFlag: 0,
  order: false,
};

/**
 * The `attributes` header value of CreateTopicRequestHeader (5.x; AttributeParser format
 * `+k=v,+k2=v2,-k3`). Without `current` every desired attribute is sent as an add — right for a
 * new topic. With `current`, only differences are sent, because 5.3.3 rejects any "+k" for an
 * unchangeable attribute of an existing topic, even with the same value.
 */
export function topicAttributesModification(desired: Record<string, string>, current?: Record<string, string>): string {
  return Object.entries(attributeModificationMap(desired, current))
    .map(([k, v]) => (k.startsWith('-') ? k : `${k}=${v}`))
    .join(',');
}

/** The same modifications as a map (`+k` → v, `-k` → ''), the form the 5.x list requests carry in `attributes`. */
function attributeModificationMap(desired: Record<string, string>, current?: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired)) {
    if (current?.[k] !== v) out[`+${k}`] = v;
  }
  if (current) {
    for (const k of Object.keys(current)) if (!(k in desired)) out[`-${k}`] = '';
  }
  return out;
}

export function topicHeader(cfg: TopicConfigInput, defaultTopic: string, current?: TopicConfig): Record<string, string> {
  const c = { ...TOPIC_DEFAULTS, ...definedOnly(cfg) };
  const header: Record<string, string> = {
    topic: cfg.topicName,
    defaultTopic,
    readQueueNums: String(c.readQueueNums),
    writeQueueNums: String(c.writeQueueNums),
    perm: String(c.perm),
    topicFilterType: c.topicFilterType,
    topicSysFlag: String(c.topicSysFlag),
    order: String(c.order),
  };
  // Left out when empty: an absent attributes field means "keep the current ones" on 5.x, and 4.x
  // has no such field at all (it would ignore it).
  const attributes = topicAttributesModification(cfg.attributes ?? {}, current?.attributes);
  if (attributes) header.attributes = attributes;
  return header;
}

/** One topic with what its broker currently has (for attribute differences), as a list request carries it. */
export interface TopicListEntry {
  cfg: TopicConfigInput;
  current?: TopicConfig;
}

/**
 * Body of UPDATE_AND_CREATE_TOPIC_LIST (5.x CreateTopicListRequestBody): TopicConfig objects whose
 * `attributes` hold modifications, as the single request's header does. The broker validates every
 * topic first and answers SUCCESS without writing anything if ANY of them equals its current
 * config, so callers must leave out topics that need no change.
 */
export function topicListBody(entries: readonly TopicListEntry[]): Buffer {
  const topicConfigList = entries.map(({ cfg, current }) => {
    const c = { ...TOPIC_DEFAULTS, ...definedOnly(cfg) };
    return {
      topicName: cfg.topicName,
      readQueueNums: c.readQueueNums,
      writeQueueNums: c.writeQueueNums,
      perm: c.perm,
      topicFilterType: c.topicFilterType,
      topicSysFlag: c.topicSysFlag,
      order: c.order,
      attributes: attributeModificationMap(cfg.attributes ?? {}, current?.attributes),
    };
  });
  return Buffer.from(JSON.stringify({ topicConfigList }), 'utf8');
}

export function parseTopicTable(text: string): { table: Map<string, TopicConfig>; dataVersion: unknown } {
  const root = asObject(parseJson(text, 'topic config table'), 'topic config table');
  const table = new Map<string, TopicConfig>();
  const topics = asObject(root.topicConfigTable ?? {}, 'topicConfigTable');
  // Plain loops, no per-entry copies or texts: brokers answer with tens of thousands of topics.
  for (const name in topics) {
    if (!Object.hasOwn(topics, name)) continue;
    const o = topics[name];
    if (!isObject(o)) throw new RemotingError(`topic ${name}: expected a JSON object`);
    table.set(name, {
      topicName: str(o.topicName) ?? name,
      readQueueNums: num(o.readQueueNums) ?? TOPIC_DEFAULTS.readQueueNums,
      writeQueueNums: num(o.writeQueueNums) ?? TOPIC_DEFAULTS.writeQueueNums,
      perm: num(o.perm) ?? TOPIC_DEFAULTS.perm,
      topicFilterType: o.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
      topicSysFlag: num(o.topicSysFlag) ?? 0,
      order: o.order === true,
      attributes: stringMap(o.attributes),
    });
  }
  return { table, dataVersion: root.dataVersion };
}

// ---- subscription groups ----

export interface GroupRetryPolicy {
  type: 'CUSTOMIZED' | 'EXPONENTIAL';
  customizedRetryPolicy?: { next?: number[] };
  exponentialRetryPolicy?: { initial?: number; max?: number; multiplier?: number };
}

export interface GroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
  // 5.x only: undefined when read from a 4.x broker, and then left for the target's defaults.
  consumeMessageOrderly?: boolean;
  groupRetryPolicy?: GroupRetryPolicy;
  groupSysFlag?: number;
  consumeTimeoutMinute?: number;
  /** Stored attributes (keys without +/-); 5.3.3 defines no group attribute, so any key is refused there. */
  attributes?: Record<string, string>;
  /**
   * Fields of the broker's SubscriptionGroupConfig this module does not model (e.g.
   * subscriptionDataSet, fields of later releases), written back verbatim.
   */
  extra?: Record<string, unknown>;
}

export type GroupConfigInput = Pick<GroupConfig, 'groupName'> & Partial<Omit<GroupConfig, 'groupName'>>;

const GROUP_DEFAULTS = {
  consumeEnable: true,
  consumeFromMinEnable: true,
  consumeBroadcastEnable: true,
  retryQueueNums: 1,
  retryMaxTimes: 16,
  brokerId: 0,
  whichBrokerWhenConsumeSlowly: 1,
  notifyConsumerIdsChangedEnable: true,
} satisfies Omit<GroupConfig, 'groupName'>;

const GROUP_KNOWN = new Set([
  'groupName',
  ...Object.keys(GROUP_DEFAULTS),
  'consumeMessageOrderly',
  'groupRetryPolicy',
  'groupSysFlag',
  'consumeTimeoutMinute',
  'attributes',
]);

/** JSON body of UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (a SubscriptionGroupConfig). */
export function groupConfigBody(cfg: GroupConfigInput): Buffer {
  return Buffer.from(JSON.stringify(groupConfigJson(cfg)), 'utf8');
}

/** Body of UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST (5.x SubscriptionGroupList): the same objects in a list. */
export function groupListBody(cfgs: readonly GroupConfigInput[]): Buffer {
  return Buffer.from(JSON.stringify({ groupConfigList: cfgs.map(groupConfigJson) }), 'utf8');
}

function groupConfigJson(cfg: GroupConfigInput): Record<string, unknown> {
  const { extra, attributes, ...known } = cfg;
  const body: Record<string, unknown> = { ...(extra ?? {}), ...GROUP_DEFAULTS, ...definedOnly(known) };
  // The broker reads this map as modifications (AttributeUtil): stored keys need a '+'.
  if (attributes && Object.keys(attributes).length > 0) {
    body.attributes = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [/^[+-]/.test(k) ? k : `+${k}`, v]));
  } else {
    delete body.attributes;
  }
  return body;
}

export function parseGroupTable(text: string): { table: Map<string, GroupConfig>; dataVersion: unknown } {
  const root = asObject(parseJson(text, 'subscription group table'), 'subscription group table');
  const table = new Map<string, GroupConfig>();
  const groups = asObject(root.subscriptionGroupTable ?? {}, 'subscriptionGroupTable');
  for (const name in groups) {
    if (!Object.hasOwn(groups, name)) continue;
    const o = groups[name];
    if (!isObject(o)) throw new RemotingError(`group ${name}: expected a JSON object`);
    table.set(name, parseGroupConfig(o, name));
  }
  return { table, dataVersion: root.dataVersion };
}

function parseGroupConfig(o: Record<string, unknown>, name: string): GroupConfig {
  const g: GroupConfig = {
    groupName: str(o.groupName) ?? name,
    consumeEnable: bool(o.consumeEnable) ?? GROUP_DEFAULTS.consumeEnable,
    consumeFromMinEnable: bool(o.consumeFromMinEnable) ?? GROUP_DEFAULTS.consumeFromMinEnable,
    consumeBroadcastEnable: bool(o.consumeBroadcastEnable) ?? GROUP_DEFAULTS.consumeBroadcastEnable,
    retryQueueNums: num(o.retryQueueNums) ?? GROUP_DEFAULTS.retryQueueNums,
    retryMaxTimes: num(o.retryMaxTimes) ?? GROUP_DEFAULTS.retryMaxTimes,
    brokerId: num(o.brokerId) ?? GROUP_DEFAULTS.brokerId,
    whichBrokerWhenConsumeSlowly: num(o.whichBrokerWhenConsumeSlowly) ?? GROUP_DEFAULTS.whichBrokerWhenConsumeSlowly,
    notifyConsumerIdsChangedEnable: bool(o.notifyConsumerIdsChangedEnable) ?? GROUP_DEFAULTS.notifyConsumerIdsChangedEnable,
  };
  const orderly = bool(o.consumeMessageOrderly);
  if (orderly !== undefined) g.consumeMessageOrderly = orderly;
  const policy = parseRetryPolicy(o.groupRetryPolicy);
  if (policy) g.groupRetryPolicy = policy;
  const sysFlag = num(o.groupSysFlag);
  if (sysFlag !== undefined) g.groupSysFlag = sysFlag;
  const timeout = num(o.consumeTimeoutMinute);
  if (timeout !== undefined) g.consumeTimeoutMinute = timeout;
  if (o.attributes !== undefined) g.attributes = stringMap(o.attributes);
  // Entries are only built when there are unmodelled fields: a broker answers with tens of thousands of groups.
  let unknownField = false;
  for (const k in o) if (Object.hasOwn(o, k) && !GROUP_KNOWN.has(k)) unknownField = true;
  if (unknownField) g.extra = Object.fromEntries(Object.entries(o).filter(([k]) => !GROUP_KNOWN.has(k)));
  return g;
}

function parseRetryPolicy(v: unknown): GroupRetryPolicy | undefined {
  if (!isObject(v)) return undefined;
  // Spread first: fields a later release adds to the policy objects are written back as read.
  const p: GroupRetryPolicy = { ...v, type: v.type === 'EXPONENTIAL' ? 'EXPONENTIAL' : 'CUSTOMIZED' };
  if (isObject(v.customizedRetryPolicy)) {
    const c = v.customizedRetryPolicy;
    p.customizedRetryPolicy = { ...c, next: Array.isArray(c.next) ? c.next.filter((n): n is number => typeof n === 'number') : undefined };
    if (p.customizedRetryPolicy.next === undefined) delete p.customizedRetryPolicy.next;
  } else {
    delete p.customizedRetryPolicy;
  }
  if (isObject(v.exponentialRetryPolicy)) {
    const e = v.exponentialRetryPolicy;
    p.exponentialRetryPolicy = { ...e, ...definedOnly({ initial: num(e.initial), max: num(e.max), multiplier: num(e.multiplier) }) };
  } else {
    delete p.exponentialRetryPolicy;
  }
  return p;
}
