// Pure comparison of metadata items and of a cluster's snapshots over time.
import type { AclPolicy, GroupItem, MetadataEntry, RoleItem, RolePerm, TopicItem } from './model.ts';

export type ChangeType = 'created' | 'modified' | 'deleted';

export interface Change {
  type: ChangeType;
  /** The item before (modified, deleted). */
  before?: MetadataEntry;
  /** The item now (created, modified). */
  after?: MetadataEntry;
}

/**
 * Whether two items of the same kind and name have the same settings. A field one side's cluster
 * does not have (5.x-only fields read from 4.x) is left out of the comparison, so clusters of
 * different versions do not look different forever.
 */
export function sameSettings(a: MetadataEntry, b: MetadataEntry): boolean {
  if (a.kind !== b.kind || a.name !== b.name) return false;
  // Topics and groups are most of a snapshot and compared several times per cycle: field by field.
  if (a.kind === 'topic') return sameTopic(a, b as TopicItem);
  if (a.kind === 'group') return sameGroup(a, b as GroupItem);
  return sameJson(comparable(a, b), comparable(b as typeof a, a));
}

function sameTopic(x: TopicItem, y: TopicItem): boolean {
  if (x.readQueueNums !== y.readQueueNums || x.writeQueueNums !== y.writeQueueNums || x.perm !== y.perm || x.order !== y.order)
    return false;
  return x.attributes === undefined || y.attributes === undefined || sameJson(withMessageType(x.attributes), withMessageType(y.attributes));
}

/** 5.x-only fields count only when both sides have them. */
function sameGroup(x: GroupItem, y: GroupItem): boolean {
  return (
    x.consumeEnable === y.consumeEnable &&
    x.consumeFromMinEnable === y.consumeFromMinEnable &&
    x.consumeBroadcastEnable === y.consumeBroadcastEnable &&
    x.retryQueueNums === y.retryQueueNums &&
    x.retryMaxTimes === y.retryMaxTimes &&
    x.brokerId === y.brokerId &&
    x.whichBrokerWhenConsumeSlowly === y.whichBrokerWhenConsumeSlowly &&
    x.notifyConsumerIdsChangedEnable === y.notifyConsumerIdsChangedEnable &&
    sameWhereBoth(x.consumeMessageOrderly, y.consumeMessageOrderly) &&
    sameWhereBoth(x.groupRetryPolicy, y.groupRetryPolicy) &&
    sameWhereBoth(x.consumeTimeoutMinute, y.consumeTimeoutMinute)
  );
}

const sameWhereBoth = (u: unknown, v: unknown): boolean => u === undefined || v === undefined || sameJson(u, v);

/** The fields of `x` that count when it is compared with `other` (topics and groups: sameTopic, sameGroup). */
function comparable(x: Exclude<MetadataEntry, TopicItem | GroupItem>, other: MetadataEntry): unknown {
  switch (x.kind) {
    case 'role': {
      const o = other as RoleItem;
      return {
        remark: x.remark,
        permType: x.permType,
        permRead: x.permRead,
        permWrite: x.permWrite,
        // Keys are left out: the Cloud API sets them only when a role is created.
        detailedPerms: x.detailedPerms !== undefined && o.detailedPerms !== undefined ? normalizeRolePerms(x.detailedPerms) : null,
      };
    }
    case 'acl_user':
      return { password: x.password, userType: x.userType, userStatus: x.userStatus };
    case 'acl':
      return normalizePolicies(x.policies);
    case 'acl_account':
      return {
        secretKey: x.secretKey,
        admin: x.admin,
        white: x.whiteRemoteAddress ?? null,
        dt: x.defaultTopicPerm ?? null,
        dg: x.defaultGroupPerm ?? null,
        // Brokers keep the order they were given; it carries no meaning.
        tp: [...x.topicPerms].sort(),
        gp: [...x.groupPerms].sort(),
      };
  }
}

/** Policies in a canonical order (policy type, then resource); absent policy type = Custom. */
export function normalizePolicies(policies: readonly AclPolicy[]): AclPolicy[] {
  return policies
    .map((p) => ({
      policyType: p.policyType ?? 'Custom',
      entries: p.entries
        .map((e) => ({
          resource: e.resource,
          actions: [...e.actions].sort(),
          sourceIps: [...(e.sourceIps ?? [])].sort(),
          decision: e.decision,
        }))
        .sort((a, b) => cmp(a.resource, b.resource)),
    }))
    .filter((p) => p.entries.length > 0)
    .sort((a, b) => cmp(a.policyType, b.policyType));
}

/**
 * 5.x attributes with `message.type` spelled out: a topic without it is a NORMAL topic to the
 * broker, and Tencent topics always state their type.
 */
function withMessageType(attributes: Record<string, string>): Record<string, string> {
  return { 'message.type': 'NORMAL', ...attributes };
}

/** Role permissions in a canonical order (resource type, then resource). */
function normalizeRolePerms(perms: readonly RolePerm[]): RolePerm[] {
  return perms
    .map((p) => ({ resource: p.resource, resourceType: p.resourceType, permRead: p.permRead, permWrite: p.permWrite }))
    .sort((a, b) => cmp(a.resourceType, b.resourceType) || cmp(a.resource, b.resource));
}

/** Changes from `previous` to `current` by name (items present in both and equal are left out). */
export function diffItems(previous: ReadonlyMap<string, MetadataEntry>, current: ReadonlyMap<string, MetadataEntry>): Map<string, Change> {
  const changes = new Map<string, Change>();
  for (const [name, after] of current) {
    const before = previous.get(name);
    if (!before) changes.set(name, { type: 'created', after });
    else if (!sameSettings(before, after)) changes.set(name, { type: 'modified', before, after });
  }
  for (const [name, before] of previous) {
    if (!current.has(name)) changes.set(name, { type: 'deleted', before });
  }
  return changes;
}

/**
 * JSON with object keys sorted, so equal values give equal text whatever their key order. Written
 * out directly rather than through sorted copies: snapshots hold tens of thousands of items.
 */
export function canonical(v: unknown): string {
  return canonicalText(v) ?? 'null';
}

function canonicalText(v: unknown): string | undefined {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => canonicalText(x) ?? 'null').join(',')}]`;
  const o = v as Record<string, unknown>;
  let out = '';
  // Default sort order is by UTF-16 code units, as cmp's.
  for (const k of Object.keys(o).sort()) {
    const text = canonicalText(o[k]);
    if (text !== undefined) out += `${out ? ',' : ''}${JSON.stringify(k)}:${text}`;
  }
  return `{${out}}`;
}

/** canonical(a) === canonical(b), without writing either out: key order and undefined-valued keys do not count. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return canonical(a) === canonical(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    // JSON writes an undefined array element as null.
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let defined = 0;
  for (const k in ao) {
    if (!Object.hasOwn(ao, k) || ao[k] === undefined) continue;
    defined++;
    if (bo[k] === undefined || !Object.hasOwn(bo, k) || !sameJson(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (Object.hasOwn(bo, k) && bo[k] !== undefined) defined--;
  return defined === 0;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
