// Wire shapes of the admin requests in admin.ts: header fields, JSON bodies, and tolerant parsing
// of what brokers answer (fastjson output; fields a version lacks are simply absent).
import { parseLenientJson } from './codec.ts';
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
  'groupName', ...Object.keys(GROUP_DEFAULTS), 'consumeMessageOrderly', 'groupRetryPolicy', 'groupSysFlag', 'consumeTimeoutMinute', 'attributes',
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

// ---- ACL 1.0 ----

/** Permission strings of plain_acl.yml: DENY, PUB, SUB, PUB|SUB. */
export type PlainPerm = 'DENY' | 'PUB' | 'SUB' | 'PUB|SUB';

export interface PlainAccessConfig {
  accessKey: string;
  secretKey: string;
  /** IP pattern (e.g. `192.168.0.*`); absent = any address. */
  whiteRemoteAddress?: string;
  admin: boolean;
  defaultTopicPerm?: PlainPerm;
  defaultGroupPerm?: PlainPerm;
  /** `topic=PERM` entries, e.g. `orders=PUB|SUB`. */
  topicPerms: string[];
  /** `group=PERM` entries. */
  groupPerms: string[];
}

export interface PlainAclConfig {
  globalWhiteAddrs: string[];
  accounts: PlainAccessConfig[];
}

export interface AclConfigVersion {
  brokerName?: string;
  brokerAddr?: string;
  clusterName?: string;
  /** Version of the default plain_acl.yml (a DataVersion JSON), when the broker reports it. */
  version?: string;
  /** Every ACL file's DataVersion, by path, as JSON text. */
  allAclFileVersion?: string;
}

/**
 * CreateAccessConfigRequestHeader: permission lists travel comma-joined (UtilAll.join / split on the broker).
 * An update keeps every field the header leaves out, so `replace` states each one: an empty white
 * address, `,` for an empty list (Java's split gives no elements for it; an absent field keeps the
 * old list) and DENY for an absent default permission (what the broker assumes when there is none).
 */
export function plainAccessHeader(a: PlainAccessConfig, opts: { replace?: boolean } = {}): Record<string, string> {
  const header: Record<string, string> = { accessKey: a.accessKey, secretKey: a.secretKey, admin: String(a.admin) };
  const replace = opts.replace === true;
  if (a.whiteRemoteAddress || replace) header.whiteRemoteAddress = a.whiteRemoteAddress ?? '';
  if (a.defaultTopicPerm || replace) header.defaultTopicPerm = a.defaultTopicPerm ?? 'DENY';
  if (a.defaultGroupPerm || replace) header.defaultGroupPerm = a.defaultGroupPerm ?? 'DENY';
  if (a.topicPerms.length > 0 || replace) header.topicPerms = a.topicPerms.length > 0 ? a.topicPerms.join(',') : ',';
  if (a.groupPerms.length > 0 || replace) header.groupPerms = a.groupPerms.length > 0 ? a.groupPerms.join(',') : ',';
  return header;
}

export function parsePlainAclConfig(text: string): PlainAclConfig {
  const root = asObject(parseJson(text, 'ACL config'), 'ACL config');
  const accounts = (Array.isArray(root.plainAccessConfigs) ? root.plainAccessConfigs : []).map((raw, i) => {
    const o = asObject(raw, `ACL account ${i}`);
    const a: PlainAccessConfig = {
      accessKey: str(o.accessKey) ?? '',
      secretKey: str(o.secretKey) ?? '',
      admin: o.admin === true,
      topicPerms: stringList(o.topicPerms),
      groupPerms: stringList(o.groupPerms),
    };
    const white = str(o.whiteRemoteAddress);
    if (white) a.whiteRemoteAddress = white;
    const dt = plainPerm(o.defaultTopicPerm);
    if (dt) a.defaultTopicPerm = dt;
    const dg = plainPerm(o.defaultGroupPerm);
    if (dg) a.defaultGroupPerm = dg;
    return a;
  });
  return { globalWhiteAddrs: stringList(root.globalWhiteAddrs), accounts };
}

export function parseAclConfigVersion(ext: Record<string, string>): AclConfigVersion {
  return definedOnly({
    brokerName: ext.brokerName,
    brokerAddr: ext.brokerAddr,
    clusterName: ext.clusterName,
    version: ext.version,
    allAclFileVersion: ext.allAclFileVersion,
  });
}

function plainPerm(v: unknown): PlainPerm | undefined {
  const s = str(v)?.replace(/\s+/g, '');
  if (s === 'DENY' || s === 'PUB' || s === 'SUB' || s === 'PUB|SUB') return s;
  if (s === 'SUB|PUB') return 'PUB|SUB';
  return undefined;
}

// ---- ACL 2.0 ----

export type UserType = 'Super' | 'Normal';
export type UserStatus = 'enable' | 'disable';

export interface UserInfo {
  username: string;
  /** Plain text: the broker stores and returns it as is. Treat as a secret. */
  password?: string;
  userType?: UserType;
  userStatus?: UserStatus;
}

export type PolicyType = 'Custom' | 'Default';
export type AclAction = 'All' | 'Pub' | 'Sub' | 'Create' | 'Update' | 'Delete' | 'Get' | 'List';
export type AclDecision = 'Allow' | 'Deny';

export interface AclEntry {
  /** `Topic:name`, `Group:name`, `Cluster:name`, with `*` for any or a trailing `*` for a prefix; `*` alone = anything. */
  resource: string;
  actions: AclAction[];
  /** IPs or CIDRs; empty/absent = any source. */
  sourceIps?: string[];
  decision: AclDecision;
}

export interface AclPolicy {
  /** Absent = Custom (the broker's default). */
  policyType?: PolicyType;
  entries: AclEntry[];
}

export interface AclInfo {
  /** `User:name`. */
  subject: string;
  policies: AclPolicy[];
}

export function userInfoBody(u: UserInfo): Buffer {
  return Buffer.from(JSON.stringify(definedOnly({ username: u.username, password: u.password, userType: u.userType, userStatus: u.userStatus })), 'utf8');
}

export function aclInfoBody(a: AclInfo): Buffer {
  return Buffer.from(JSON.stringify(a), 'utf8');
}

export function parseUserInfo(text: string): UserInfo {
  return toUserInfo(parseJson(text, 'user'));
}

export function parseUserInfoList(text: string): UserInfo[] {
  const list = parseJson(text, 'user list');
  if (!Array.isArray(list)) throw new RemotingError('user list is not a JSON array');
  return list.map(toUserInfo);
}

function toUserInfo(raw: unknown): UserInfo {
  const o = asObject(raw, 'user');
  const username = str(o.username);
  if (!username) throw new RemotingError('user without a username');
  const u: UserInfo = { username };
  const password = str(o.password);
  if (password !== undefined) u.password = password;
  const type = str(o.userType);
  if (type !== undefined) u.userType = oneOf<UserType>(type, ['Super', 'Normal'], 'userType');
  const status = str(o.userStatus);
  if (status !== undefined) u.userStatus = oneOf<UserStatus>(status, ['enable', 'disable'], 'userStatus');
  return u;
}

export function parseAclInfo(text: string): AclInfo {
  return toAclInfo(parseJson(text, 'acl'));
}

export function parseAclInfoList(text: string): AclInfo[] {
  const list = parseJson(text, 'acl list');
  if (!Array.isArray(list)) throw new RemotingError('acl list is not a JSON array');
  return list.map(toAclInfo);
}

const ACTIONS: readonly AclAction[] = ['All', 'Pub', 'Sub', 'Create', 'Update', 'Delete', 'Get', 'List'];

function toAclInfo(raw: unknown): AclInfo {
  const o = asObject(raw, 'acl');
  const subject = str(o.subject);
  if (!subject) throw new RemotingError('acl without a subject');
  const policies = (Array.isArray(o.policies) ? o.policies : []).map((rp): AclPolicy => {
    const p = asObject(rp, 'acl policy');
    const entries = (Array.isArray(p.entries) ? p.entries : []).map((re): AclEntry => {
      const e = asObject(re, 'acl entry');
      const entry: AclEntry = {
        resource: str(e.resource) ?? '',
        actions: stringList(e.actions).map((a) => oneOf(a, ACTIONS, 'action')),
        decision: oneOf<AclDecision>(str(e.decision) ?? '', ['Allow', 'Deny'], 'decision'),
      };
      const ips = stringList(e.sourceIps);
      if (ips.length > 0) entry.sourceIps = ips;
      return entry;
    });
    const policy: AclPolicy = { entries };
    const type = str(p.policyType);
    if (type !== undefined) policy.policyType = oneOf<PolicyType>(type, ['Custom', 'Default'], 'policyType');
    return policy;
  });
  return { subject, policies };
}

// ---- shared parsing helpers ----

/** Canonical text of a DataVersion for equality between pages (field order can differ). */
export function parseDataVersionJson(v: unknown): string {
  if (!isObject(v)) return JSON.stringify(v ?? null);
  return JSON.stringify(Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))));
}

function parseJson(text: string, what: string): unknown {
  try {
    return parseLenientJson(text);
  } catch (err) {
    throw new RemotingError(`${what}: broker answered malformed JSON`, { cause: err });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (!isObject(v)) throw new RemotingError(`${what}: expected a JSON object`);
  return v;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  return undefined;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function stringMap(v: unknown): Record<string, string> {
  if (!isObject(v)) return {};
  let allStrings = true;
  for (const k in v) if (Object.hasOwn(v, k) && typeof v[k] !== 'string') allStrings = false;
  // JSON.parse made it, so it is a fresh object of this answer's own.
  if (allStrings) return v as Record<string, string>;
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function oneOf<T extends string>(v: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new RemotingError(`unexpected ${what} "${v}" from broker (known: ${allowed.join(', ')})`);
}

/** Drops undefined values so spreading over defaults keeps the defaults. */
function definedOnly<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
