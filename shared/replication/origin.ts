// Loop prevention and provenance without renaming topics: every replica carries where it came
// from and the clusters it has crossed. A message is never sent to a cluster already on its path,
// which keeps two-way pairs and larger meshes loop-free. Names avoid RocketMQ's system keys.
// All of them are believed only under a valid signature (signature.ts): unsigned, they are a
// producer's own properties, which Ferry's names then replace on the replica.
import type { OutgoingMessage, StoredMessage } from '../rocketmq/message.ts';
import { SYSTEM_PROPERTY_KEYS } from '../rocketmq/remoting/message-codec.ts';
import { PropertySigner, SIGNATURE_PROPERTY, type KeyDeriver } from './signature.ts';

export const ORIGIN = {
  cluster: 'FERRY_ORIGIN_CLUSTER',
  msgId: 'FERRY_ORIGIN_MSG_ID',
  topic: 'FERRY_ORIGIN_TOPIC',
  broker: 'FERRY_ORIGIN_BROKER',
  queue: 'FERRY_ORIGIN_QUEUE',
  offset: 'FERRY_ORIGIN_OFFSET',
  bornTimestamp: 'FERRY_ORIGIN_BORN_TS',
  storeTimestamp: 'FERRY_ORIGIN_STORE_TS',
  /** Comma-separated cluster ids the message has been stored in, origin first. */
  path: 'FERRY_PATH',
} as const;

/** The hop that wrote this replica: which source queue and offset it was copied from. */
export const HOP = {
  cluster: 'FERRY_SRC_CLUSTER',
  broker: 'FERRY_SRC_BROKER',
  queue: 'FERRY_SRC_QUEUE',
  offset: 'FERRY_SRC_OFFSET',
  /** The task's replay generation: a reset-offset starts a new one, so older replicas do not count. */
  generation: 'FERRY_SRC_GEN',
} as const;

/** Every property Ferry writes and signs, in the signature's fixed order. */
export const FERRY_PROPERTIES: readonly string[] = [...Object.values(ORIGIN), ...Object.values(HOP)];

/** The signer of one task's replicas, keyed from the deployment key (cipher) with the tenant and task id. */
export const taskSigner = (deriver: KeyDeriver, tenant: string, taskId: string): PropertySigner =>
  new PropertySigner(deriver, tenant, taskId, FERRY_PROPERTIES);

/**
 * The source offset a replica was copied from, if it came from exactly this source queue in this
 * replay generation and this very task signed it (anyone can write a FERRY_SRC_OFFSET).
 */
export function hopOffset(
  m: Pick<StoredMessage, 'properties' | 'topic'>,
  source: { clusterId: string; brokerName: string; queueId: number; generation: number },
  signer: PropertySigner,
): number | undefined {
  const p = m.properties;
  if (p[HOP.cluster] !== source.clusterId || p[HOP.broker] !== source.brokerName || p[HOP.queue] !== String(source.queueId))
    return undefined;
  if ((p[HOP.generation] ?? '0') !== String(source.generation)) return undefined;
  const n = Number(p[HOP.offset]);
  if (!Number.isSafeInteger(n) || n < 0 || !signer.signedBySelf(m)) return undefined;
  return n;
}

/** Whether m's Ferry properties are believed: signed by a task of this tenant. */
export const isTrusted = (m: Pick<StoredMessage, 'properties' | 'topic'>, signer: PropertySigner): boolean =>
  m.properties[SIGNATURE_PROPERTY] !== undefined && signer.signerOf(m) !== undefined;

function pathOf(m: Pick<StoredMessage, 'properties'>, sourceClusterId: string, trusted: boolean): string[] {
  const path = trusted ? m.properties[ORIGIN.path] : undefined;
  return path ? path.split(',') : [sourceClusterId];
}

/** True when sending to targetClusterId would loop: the message has been there already (by a trusted path). */
export const wouldLoop = (
  m: Pick<StoredMessage, 'properties'>,
  sourceClusterId: string,
  targetClusterId: string,
  trusted: boolean,
): boolean => pathOf(m, sourceClusterId, trusted).includes(targetClusterId);

/**
 * A committed transaction's bookkeeping outside MessageConst.STRING_HASH_SET (the client's transaction
 * id, the broker's check-back count): a replica is a plain message (sent with no transaction flag),
 * so like TRAN_MSG, PGROUP, REAL_TOPIC and REAL_QID these stay behind.
 */
const TRANSACTION_PROPERTY_KEYS: ReadonlySet<string> = new Set(['__transactionId__', 'TRANSACTION_CHECK_TIMES']);

/**
 * The replica of a stored message: same body (decompressed), tags, keys, user properties, flag,
 * born time and producer id; provenance is kept from the first hop on, and the path grows by one.
 */
export function toReplica(
  m: StoredMessage,
  source: { clusterId: string; brokerName: string; generation: number },
  targetClusterId: string,
  signer: PropertySigner,
  trusted: boolean,
): OutgoingMessage {
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.properties)) {
    if (!SYSTEM_PROPERTY_KEYS.has(k) && !TRANSACTION_PROPERTY_KEYS.has(k) && v !== '') properties[k] = v;
  }
  // Unsigned, the message is where it was first produced: Ferry's names get this hop's values.
  const firstHop = !trusted || m.properties[ORIGIN.cluster] === undefined;
  if (firstHop) {
    for (const k of FERRY_PROPERTIES) delete properties[k];
    properties[ORIGIN.cluster] = source.clusterId;
    properties[ORIGIN.msgId] = m.uniqKey ?? m.msgId;
    properties[ORIGIN.topic] = m.topic;
    properties[ORIGIN.broker] = source.brokerName;
    properties[ORIGIN.queue] = String(m.queueId);
    properties[ORIGIN.offset] = String(m.queueOffset);
    properties[ORIGIN.bornTimestamp] = String(m.bornTimestamp);
    properties[ORIGIN.storeTimestamp] = String(m.storeTimestamp);
  }
  properties[ORIGIN.path] = [...pathOf(m, source.clusterId, trusted), targetClusterId].join(',');
  properties[HOP.cluster] = source.clusterId;
  properties[HOP.broker] = source.brokerName;
  properties[HOP.queue] = String(m.queueId);
  properties[HOP.offset] = String(m.queueOffset);
  properties[HOP.generation] = String(source.generation);
  // The topic is kept on the target (queues map, topics are never renamed), so it is signed too.
  properties[SIGNATURE_PROPERTY] = signer.sign(m.topic, properties);
  return {
    body: m.body,
    ...(m.tags ? { tags: m.tags } : {}),
    keys: m.keys.filter((k) => k.length > 0 && !k.includes(' ')),
    properties,
    flag: m.flag,
    bornTimestamp: m.bornTimestamp,
    ...(m.uniqKey ? { uniqKey: m.uniqKey } : {}),
  };
}
