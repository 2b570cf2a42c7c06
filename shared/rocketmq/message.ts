// Message shapes shared by every RocketMQ adapter (remoting and gRPC) and the replicator.

/** A message to send. `properties` are user properties; tags/keys have their own fields. */
export interface OutgoingMessage {
  body: Buffer;
  tags?: string;
  keys?: string[];
  properties?: Record<string, string>;
  flag?: number;
  /** Milliseconds since epoch; defaults to now when sent. */
  bornTimestamp?: number;
  /** The producer id (UNIQ_KEY) to keep, e.g. a replica keeping its origin's id; generated when absent. */
  uniqKey?: string;
  /** A 5.x timer message: delivered at this time (ms since epoch). Single sends only. */
  deliverAtMs?: number;
  /** A delayed message of this level (the broker's messageDelayLevel table). Single sends only. */
  delayLevel?: number;
}

/** A message as stored by the broker and read back by a pull. */
export interface StoredMessage {
  topic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  /** Offset message id: hex of store host + port + commit log offset. */
  msgId: string;
  /** The producer-assigned id (property UNIQ_KEY), when present. */
  uniqKey: string | undefined;
  body: Buffer;
  /** Body CRC as stored (over the body as sent, i.e. compressed when compressed). */
  bodyCRC: number;
  flag: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  tags: string | undefined;
  keys: string[];
  /** Every property, system ones (TAGS, KEYS, UNIQ_KEY, …) included. */
  properties: Record<string, string>;
}
