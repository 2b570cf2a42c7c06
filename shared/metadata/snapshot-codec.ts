// Snapshots as the store keeps them: JSON with items as arrays (names such as `__proto__` are
// valid topic names, so no name ever becomes an object key), secrets — ACL 2.0 passwords, ACL 1.0
// secret keys, Tencent role keys — sealed with the task cipher like the task's own AK/SK, and
// validated on the way back in because the store does not own the document's shape.
import { z } from 'zod';
import type { SecretCipher } from '../secrets/cipher.ts';
import { sameJson } from './diff.ts';
import { KIND_ORDER, type ClusterSnapshot, type KindSnapshot, type MetadataEntry, type SyncKind } from './model.ts';

const Str = z.string();
const Attrs = z.record(z.string(), z.string());

const Topic = z.object({
  kind: z.literal('topic'),
  name: Str,
  readQueueNums: z.number().int(),
  writeQueueNums: z.number().int(),
  perm: z.number().int(),
  order: z.boolean(),
  attributes: Attrs.optional(),
});

const RetryPolicy = z.object({
  type: z.enum(['CUSTOMIZED', 'EXPONENTIAL']),
  customizedRetryPolicy: z.object({ next: z.array(z.number()).optional() }).optional(),
  exponentialRetryPolicy: z
    .object({ initial: z.number().optional(), max: z.number().optional(), multiplier: z.number().optional() })
    .optional(),
});

const Group = z.object({
  kind: z.literal('group'),
  name: Str,
  consumeEnable: z.boolean(),
  consumeFromMinEnable: z.boolean(),
  consumeBroadcastEnable: z.boolean(),
  retryQueueNums: z.number().int(),
  retryMaxTimes: z.number().int(),
  brokerId: z.number().int(),
  whichBrokerWhenConsumeSlowly: z.number().int(),
  notifyConsumerIdsChangedEnable: z.boolean(),
  consumeMessageOrderly: z.boolean().optional(),
  groupRetryPolicy: RetryPolicy.optional(),
  consumeTimeoutMinute: z.number().optional(),
});

const StoredRole = z.object({
  kind: z.literal('role'),
  name: Str,
  remark: Str,
  permType: z.enum(['Cluster', 'TopicAndGroup']),
  permRead: z.boolean(),
  permWrite: z.boolean(),
  detailedPerms: z
    .array(z.object({ resource: Str, resourceType: z.enum(['Topic', 'Group']), permRead: z.boolean(), permWrite: z.boolean() }))
    .optional(),
  accessKeySealed: Str.optional(),
  secretKeySealed: Str.optional(),
});

const StoredUser = z.object({
  kind: z.literal('acl_user'),
  name: Str,
  passwordSealed: Str,
  userType: z.enum(['Super', 'Normal']),
  userStatus: z.enum(['enable', 'disable']),
});

const Acl = z.object({
  kind: z.literal('acl'),
  name: Str,
  policies: z.array(
    z.object({
      policyType: z.enum(['Custom', 'Default']).optional(),
      entries: z.array(
        z.object({
          resource: Str,
          actions: z.array(z.enum(['All', 'Pub', 'Sub', 'Create', 'Update', 'Delete', 'Get', 'List'])),
          sourceIps: z.array(Str).optional(),
          decision: z.enum(['Allow', 'Deny']),
        }),
      ),
    }),
  ),
});

const Perm = z.enum(['DENY', 'PUB', 'SUB', 'PUB|SUB']);
const StoredAccount = z.object({
  kind: z.literal('acl_account'),
  name: Str,
  secretKeySealed: Str,
  admin: z.boolean(),
  whiteRemoteAddress: Str.optional(),
  defaultTopicPerm: Perm.optional(),
  defaultGroupPerm: Perm.optional(),
  topicPerms: z.array(Str),
  groupPerms: z.array(Str),
});

const StoredItem = z.discriminatedUnion('kind', [Topic, Group, StoredRole, StoredUser, Acl, StoredAccount]);
type StoredItem = z.infer<typeof StoredItem>;

const StoredKind = z.discriminatedUnion('status', [
  z.object({ status: z.literal('ok'), items: z.array(StoredItem) }),
  z.object({ status: z.literal('unsupported'), reason: Str }),
]);

const StoredSnapshot = z.object({
  v: z.literal(1),
  clusterId: Str,
  reservedNames: z.array(Str),
  kinds: z.partialRecord(z.enum(['topic', 'group', 'role', 'acl_user', 'acl', 'acl_account']), StoredKind),
});

export type StoredSnapshot = z.infer<typeof StoredSnapshot>;

export function encodeSnapshot(s: ClusterSnapshot, cipher: SecretCipher): StoredSnapshot {
  const kinds: StoredSnapshot['kinds'] = {};
  for (const kind of KIND_ORDER) {
    const k = s.kinds[kind];
    if (!k) continue;
    kinds[kind] =
      k.status === 'ok'
        ? { status: 'ok', items: [...k.items.values()].map((i) => sealItem(i, cipher)) }
        : { status: 'unsupported', reason: k.reason };
  }
  return { v: 1, clusterId: s.clusterId, reservedNames: [...s.reservedNames], kinds };
}

/** Throws when the document is not a snapshot this version wrote (the caller then starts over). */
export function decodeSnapshot(doc: unknown, cipher: SecretCipher): ClusterSnapshot {
  const stored = StoredSnapshot.parse(doc);
  const kinds: Partial<Record<SyncKind, KindSnapshot>> = {};
  for (const kind of KIND_ORDER) {
    const k = stored.kinds[kind];
    if (!k) continue;
    kinds[kind] =
      k.status === 'ok'
        ? { status: 'ok', items: new Map(k.items.map((i) => [i.name, unsealItem(i, cipher)])) }
        : { status: 'unsupported', reason: k.reason };
  }
  return { clusterId: stored.clusterId, reservedNames: stored.reservedNames, kinds };
}

function sealItem(i: MetadataEntry, cipher: SecretCipher): StoredItem {
  switch (i.kind) {
    case 'acl_user': {
      const { password, ...rest } = i;
      return { ...rest, passwordSealed: cipher.encrypt(password) };
    }
    case 'acl_account': {
      const { secretKey, ...rest } = i;
      return { ...rest, secretKeySealed: cipher.encrypt(secretKey) };
    }
    case 'role': {
      const { accessKey, secretKey, ...rest } = i;
      return {
        ...rest,
        ...(accessKey !== undefined ? { accessKeySealed: cipher.encrypt(accessKey) } : {}),
        ...(secretKey !== undefined ? { secretKeySealed: cipher.encrypt(secretKey) } : {}),
      };
    }
    default:
      return i;
  }
}

function unsealItem(i: StoredItem, cipher: SecretCipher): MetadataEntry {
  switch (i.kind) {
    case 'acl_user': {
      const { passwordSealed, ...rest } = i;
      return { ...rest, password: cipher.decrypt(passwordSealed) };
    }
    case 'acl_account': {
      const { secretKeySealed, ...rest } = i;
      return { ...rest, secretKey: cipher.decrypt(secretKeySealed) };
    }
    case 'role': {
      const { accessKeySealed, secretKeySealed, ...rest } = i;
      return {
        ...rest,
        ...(accessKeySealed !== undefined ? { accessKey: cipher.decrypt(accessKeySealed) } : {}),
        ...(secretKeySealed !== undefined ? { secretKey: cipher.decrypt(secretKeySealed) } : {}),
      };
    }
    default:
      return i;
  }
}

/**
 * Same content, secrets compared in the clear (sealed text differs on every encryption). Item by
 * item through the maps, without sorting or copying: snapshots hold tens of thousands of items.
 */
export function sameSnapshot(a: ClusterSnapshot, b: ClusterSnapshot): boolean {
  if (a.clusterId !== b.clusterId || !sameJson([...a.reservedNames].sort(), [...b.reservedNames].sort())) return false;
  for (const kind of KIND_ORDER) {
    const x = a.kinds[kind];
    const y = b.kinds[kind];
    if (!x || !y || x.status !== 'ok' || y.status !== 'ok') {
      if (!sameJson(x ?? null, y ?? null)) return false;
      continue;
    }
    if (x.items.size !== y.items.size) return false;
    for (const [name, item] of x.items) {
      const other = y.items.get(name);
      if (other === undefined || !sameJson(item, other)) return false;
    }
  }
  return true;
}
