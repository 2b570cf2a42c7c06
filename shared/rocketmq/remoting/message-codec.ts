// Message bytes of the remoting protocol: stored messages in PULL_MESSAGE bodies, the
// SEND_BATCH_MESSAGE body and the property string (producer ids: uniq-key.ts). Layouts follow
// MessageDecoder / MessageExtEncoder of RocketMQ 4.9.7 and 5.3.3; all integers are big-endian.

import * as zlib from 'node:zlib';
import type { OutgoingMessage, StoredMessage } from '../message.ts';
import { compressionTypeOf, decompressBody } from './compression.ts';
import { RemotingError } from './errors.ts';

// ---- constants (MessageDecoder, MessageSysFlag, MessageConst) ----

export const MESSAGE_MAGIC_V1 = -626843481;
/** Written by 5.x brokers for topics longer than 127 bytes: the topic length takes 2 bytes. */
export const MESSAGE_MAGIC_V2 = -626843477;

const SYSFLAG_COMPRESSED = 0x1;
const SYSFLAG_BORNHOST_V6 = 0x1 << 4;
const SYSFLAG_STOREHOST_V6 = 0x1 << 5;

const NAME_VALUE_SEPARATOR = '\u0001';
const PROPERTY_SEPARATOR = '\u0002';

const PROPERTY_TAGS = 'TAGS';
const PROPERTY_KEYS = 'KEYS';
const PROPERTY_UNIQ_KEY = 'UNIQ_KEY';

/** MessageConst.STRING_HASH_SET of 5.3.3: names Message.putUserProperty refuses. */
export const SYSTEM_PROPERTY_KEYS: ReadonlySet<string> = new Set([
  'TRACE_ON',
  'MSG_REGION',
  'KEYS',
  'TAGS',
  'WAIT',
  'DELAY',
  'RETRY_TOPIC',
  'REAL_TOPIC',
  'REAL_QID',
  'TRAN_MSG',
  'PGROUP',
  'MIN_OFFSET',
  'MAX_OFFSET',
  'BUYER_ID',
  'ORIGIN_MESSAGE_ID',
  'TRANSFER_FLAG',
  'CORRECTION_FLAG',
  'MQ2_FLAG',
  'RECONSUME_TIME',
  'UNIQ_KEY',
  'MAX_RECONSUME_TIMES',
  'CONSUME_START_TIME',
  'POP_CK',
  'POP_CK_OFFSET',
  '1ST_POP_TIME',
  'TRAN_PREPARED_QUEUE_OFFSET',
  'DUP_INFO',
  'EXTEND_UNIQ_INFO',
  'INSTANCE_ID',
  'CORRELATION_ID',
  'REPLY_TO_CLIENT',
  'TTL',
  'ARRIVE_TIME',
  'PUSH_REPLY_TIME',
  'CLUSTER',
  'MSG_TYPE',
  'INNER_MULTI_QUEUE_OFFSET',
  'TIMER_DELAY_MS',
  'TIMER_DELAY_SEC',
  'TIMER_DELIVER_MS',
  'TIMER_ENQUEUE_MS',
  'TIMER_DEQUEUE_MS',
  'TIMER_ROLL_TIMES',
  'TIMER_OUT_MS',
  'TIMER_DEL_UNIQKEY',
  'TIMER_DELAY_LEVEL',
  '__BORNHOST',
  'BORN_TIMESTAMP',
  'DLQ_ORIGIN_TOPIC',
  'DLQ_ORIGIN_MESSAGE_ID',
  '__CRC32#',
]);

/** Default cap on one decompressed body: far above any real message, low enough to survive a bomb. */
const DEFAULT_MAX_DECOMPRESSED_BODY = 128 * 1024 * 1024;

// ---- errors ----

/** Where a decode stopped, so a caller can keep what came before and skip or park the bad message. */
export interface DecodeFailure {
  /** Index of the failing message in the buffer. */
  readonly index: number;
  /** Byte offset of the failing message in the buffer. */
  readonly byteOffset: number;
  /** Its queue offset, when its header could be read. */
  readonly queueOffset: number | undefined;
  /** The messages before it, fully decoded (not enumerable, so logging the error stays small). */
  readonly decoded: readonly StoredMessage[];
}

function attachFailure(err: RemotingError & DecodeFailure, at: DecodeFailure): void {
  Object.defineProperties(err, {
    index: { value: at.index, enumerable: true },
    byteOffset: { value: at.byteOffset, enumerable: true },
    queueOffset: { value: at.queueOffset, enumerable: true },
    decoded: { value: at.decoded, enumerable: false },
  });
}

/** The pull body is truncated or garbled, or a body does not decompress. */
export class MessageDecodeError extends RemotingError implements DecodeFailure {
  declare readonly index: number;
  declare readonly byteOffset: number;
  declare readonly queueOffset: number | undefined;
  declare readonly decoded: readonly StoredMessage[];
  constructor(message: string, at: DecodeFailure, options?: { cause?: unknown }) {
    super(`message #${at.index} at byte ${at.byteOffset}: ${message}`, options);
    attachFailure(this, at);
  }
}

/** A body is compressed with a type this client cannot decode (sysFlag compression bits 4–7). */
export class UnsupportedCompressionError extends RemotingError implements DecodeFailure {
  declare readonly index: number;
  declare readonly byteOffset: number;
  declare readonly queueOffset: number | undefined;
  declare readonly decoded: readonly StoredMessage[];
  constructor(
    readonly compressionType: number,
    at: DecodeFailure,
  ) {
    super(`message #${at.index} (queue offset ${at.queueOffset}): unsupported body compression type ${compressionType}`);
    attachFailure(this, at);
  }
}

export type InvalidPropertyReason = 'separator' | 'empty' | 'reserved';

/** A property (or tag/key) cannot be carried: a separator character, an empty part, or a system name. */
export class InvalidPropertyError extends RemotingError {
  constructor(
    readonly property: string,
    readonly reason: InvalidPropertyReason,
    detail: string,
  ) {
    super(`property ${JSON.stringify(property)}: ${detail}`);
  }
}

/** A message cannot be laid out for sending (e.g. properties over 32767 bytes). */
export class MessageEncodeError extends RemotingError {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(`message #${index}: ${message}`);
  }
}

// ---- stored messages (PULL_MESSAGE body) ----

export interface DecodeOptions {
  /**
   * Check every body against its stored CRC (UtilAll.crc32: CRC-32 & 0x7fffffff over the body as
   * stored) before using it. Off by default, like the Java consumer.
   */
  verifyBodyCrc?: boolean;
  /** Largest decompressed body accepted; default DEFAULT_MAX_DECOMPRESSED_BODY. */
  maxDecompressedBodyBytes?: number;
}

// TOTALSIZE MAGIC BODYCRC QUEUEID FLAG QUEUEOFFSET PHYSICALOFFSET SYSFLAG BORNTIMESTAMP
const BORN_HOST_POS = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8;
// The smallest message: IPv4 hosts, V1, empty body, topic and properties.
const MIN_MESSAGE = BORN_HOST_POS + 8 + 8 + 8 + 4 + 8 + 4 + 1 + 2;

/**
 * Decodes the messages of a PULL_MESSAGE body (stored messages back to back). Bodies come back
 * decompressed; `sysFlag` and `bodyCRC` stay as stored. Each body is copied out, so the pull
 * buffer can be dropped. Throws MessageDecodeError / UnsupportedCompressionError — carrying the
 * failing message's position and the messages before it — and never returns a partial message.
 */
export function decodeStoredMessages(buf: Buffer, options: DecodeOptions = {}): StoredMessage[] {
  const maxBody = options.maxDecompressedBodyBytes ?? DEFAULT_MAX_DECOMPRESSED_BODY;
  const verifyCrc = options.verifyBodyCrc ?? false;
  const out: StoredMessage[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const at = { index: out.length, byteOffset: pos, queueOffset: undefined, decoded: out };
    pos += decodeOne(buf, at, verifyCrc, maxBody);
  }
  return out;
}

/** Decodes the message at `at.byteOffset`, appends it to `at.decoded` and returns its size. */
function decodeOne(
  buf: Buffer,
  at: { index: number; byteOffset: number; queueOffset: number | undefined; decoded: StoredMessage[] },
  verifyCrc: boolean,
  maxBody: number,
): number {
  const start = at.byteOffset;
  const fail = (message: string, cause?: unknown): never => {
    throw new MessageDecodeError(message, at, cause === undefined ? undefined : { cause });
  };
  const remaining = buf.length - start;
  if (remaining < 8) fail(`truncated: ${remaining} bytes left, a message header needs more`);
  const totalSize = buf.readInt32BE(start);
  if (totalSize < MIN_MESSAGE) fail(`total size ${totalSize} is below the smallest message (${MIN_MESSAGE})`);
  if (totalSize > remaining) fail(`truncated: total size ${totalSize} but ${remaining} bytes left`);
  const end = start + totalSize;

  const magic = buf.readInt32BE(start + 4);
  if (magic !== MESSAGE_MAGIC_V1 && magic !== MESSAGE_MAGIC_V2) fail(`unknown magic code ${magic}`);
  const bodyCRC = buf.readInt32BE(start + 8);
  const queueId = buf.readInt32BE(start + 12);
  const flag = buf.readInt32BE(start + 16);
  const queueOffset = readLong(buf, start + 20) ?? fail('queue offset is not a safe integer');
  at.queueOffset = queueOffset;
  const commitLogOffset = readLong(buf, start + 28) ?? fail('commit log offset is not a safe integer');
  const sysFlag = buf.readInt32BE(start + 36);
  const bornTimestamp = readLong(buf, start + 40) ?? fail('born timestamp is not a safe integer');

  const bornIpLen = sysFlag & SYSFLAG_BORNHOST_V6 ? 16 : 4;
  const storeIpLen = sysFlag & SYSFLAG_STOREHOST_V6 ? 16 : 4;
  let p = start + BORN_HOST_POS;
  // Everything up to and including the body length is fixed once the host sizes are known.
  if (p + bornIpLen + 4 + 8 + storeIpLen + 4 + 4 + 8 + 4 > end) fail('header runs past the total size');
  const bornHost = formatHost(buf, p, bornIpLen) ?? fail('born host port out of range');
  p += bornIpLen + 4;
  const storeTimestamp = readLong(buf, p) ?? fail('store timestamp is not a safe integer');
  p += 8;
  const storeHostPos = p;
  const storeHost = formatHost(buf, p, storeIpLen) ?? fail('store host port out of range');
  p += storeIpLen + 4;
  const reconsumeTimes = buf.readInt32BE(p);
  p += 4;
  const preparedTransactionOffset = readLong(buf, p) ?? fail('prepared transaction offset is not a safe integer');
  p += 8;

  const bodyLen = buf.readInt32BE(p);
  p += 4;
  if (bodyLen < 0 || bodyLen > end - p) fail(`body length ${bodyLen} runs past the total size`);
  const bodyStart = p;
  p += bodyLen;

  const topicLenSize = magic === MESSAGE_MAGIC_V2 ? 2 : 1;
  if (p + topicLenSize > end) fail('topic length runs past the total size');
  const topicLen = topicLenSize === 2 ? buf.readUInt16BE(p) : buf[p]!;
  p += topicLenSize;
  if (topicLen > end - p) fail(`topic length ${topicLen} runs past the total size`);
  const topic = buf.toString('utf8', p, p + topicLen);
  p += topicLen;

  if (p + 2 > end) fail('properties length runs past the total size');
  const propsLen = buf.readUInt16BE(p);
  p += 2;
  if (propsLen > end - p) fail(`properties length ${propsLen} runs past the total size`);
  const properties = decodeProperties(buf.toString('utf8', p, p + propsLen));
  p += propsLen;
  // Java readers ignore TOTALSIZE and walk the fields, so the two always agree on real data.
  if (p !== end) fail(`fields end ${end - p} bytes before the total size`);

  const stored = buf.subarray(bodyStart, bodyStart + bodyLen);
  if (verifyCrc && (bodyCrc32(stored) & 0x7fffffff) !== bodyCRC) fail('body CRC mismatch');
  let body: Buffer;
  if (bodyLen > 0 && sysFlag & SYSFLAG_COMPRESSED) {
    const type = compressionTypeOf(sysFlag);
    if (type === undefined) throw new UnsupportedCompressionError((sysFlag >> 8) & 0x7, at);
    try {
      body = decompressBody(type, stored, maxBody);
    } catch (err) {
      return fail(`cannot decompress the body: ${(err as Error).message}`, err);
    }
  } else {
    body = Buffer.from(stored);
  }

  const msgId = (
    buf.toString('hex', storeHostPos, storeHostPos + storeIpLen + 4) + buf.toString('hex', start + 28, start + 36)
  ).toUpperCase();
  const keys = properties[PROPERTY_KEYS];
  at.decoded.push({
    topic,
    queueId,
    queueOffset,
    commitLogOffset,
    msgId,
    uniqKey: properties[PROPERTY_UNIQ_KEY],
    body,
    bodyCRC,
    flag,
    sysFlag,
    bornTimestamp,
    bornHost,
    storeTimestamp,
    storeHost,
    reconsumeTimes,
    preparedTransactionOffset,
    tags: properties[PROPERTY_TAGS],
    keys: keys === undefined ? [] : keys.split(' ').filter((k) => k.length > 0),
    properties,
  });
  return totalSize;
}

// zlib.crc32 exists from Node 20.15 on; a named import would fail to load on older Node 20s.
function bodyCrc32(data: Uint8Array): number {
  const fn = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (fn === undefined) throw new RemotingError('verifyBodyCrc needs Node 20.15 or later (zlib.crc32)');
  return fn(data);
}

/** int64 as a number, or undefined beyond 2^53 (no real offset or timestamp gets there). */
function readLong(buf: Buffer, pos: number): number | undefined {
  const v = buf.readInt32BE(pos) * 0x1_0000_0000 + buf.readUInt32BE(pos + 4);
  return Number.isSafeInteger(v) ? v : undefined;
}

/** `ip:port`, IPv6 as `[addr]:port` (RFC 5952 text); undefined when the port is not 0–65535. */
function formatHost(buf: Buffer, pos: number, ipLen: number): string | undefined {
  const port = buf.readInt32BE(pos + ipLen);
  if (port < 0 || port > 0xffff) return undefined;
  if (ipLen === 4) return `${buf[pos]}.${buf[pos + 1]}.${buf[pos + 2]}.${buf[pos + 3]}:${port}`;
  return `[${formatIpv6(buf, pos)}]:${port}`;
}

function formatIpv6(buf: Buffer, pos: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(pos + 2 * i));
  // IPv4-mapped addresses keep the dotted tail (RFC 5952 §5).
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${buf[pos + 12]}.${buf[pos + 13]}.${buf[pos + 14]}.${buf[pos + 15]}`;
  }
  // Compress the first longest run of two or more zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

// ---- properties ----

/**
 * `name\u0001value\u0002…`. Names and values may not contain either separator, and neither may be
 * empty: Java's reader (string2messageProperties) silently drops an entry with an empty part.
 */
export function encodeProperties(props: Record<string, string>): string {
  let s = '';
  for (const [name, value] of Object.entries(props)) {
    checkPropertyPart(name, name, 'name');
    checkPropertyPart(name, value, 'value');
    s += name + NAME_VALUE_SEPARATOR + value + PROPERTY_SEPARATOR;
  }
  return s;
}

function checkPropertyPart(name: string, part: string, what: 'name' | 'value'): void {
  if (part.length === 0) throw new InvalidPropertyError(name, 'empty', `${what} is empty`);
  if (part.includes(NAME_VALUE_SEPARATOR) || part.includes(PROPERTY_SEPARATOR)) {
    throw new InvalidPropertyError(name, 'separator', `${what} contains \\u0001 or \\u0002`);
  }
}

/** Reads a property string exactly as MessageDecoder.string2messageProperties does. */
export function decodeProperties(s: string): Record<string, string> {
  const map: Record<string, string> = {};
  const len = s.length;
  let index = 0;
  while (index < len) {
    let next = s.indexOf(PROPERTY_SEPARATOR, index);
    if (next < 0) next = len;
    // Java skips entries shorter than "k\u0001v" and those with an empty name or value.
    if (next - index >= 3) {
      const kv = s.indexOf(NAME_VALUE_SEPARATOR, index);
      if (kv > index && kv < next - 1) setOwn(map, s.substring(index, kv), s.substring(kv + 1, next));
    }
    index = next + 1;
  }
  return map;
}

/** Plain assignment of "__proto__" would replace the object's prototype instead of adding a key. */
function setOwn(map: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    map[key] = value;
  }
}

/**
 * The full property map of an outgoing message: TAGS, KEYS (space-joined), UNIQ_KEY, then the
 * user's properties, which may not use a system name (MessageConst.STRING_HASH_SET).
 */
export function buildMessageProperties(msg: OutgoingMessage, uniqKey: string): Record<string, string> {
  const props: Record<string, string> = {};
  if (msg.tags !== undefined && msg.tags !== '') props[PROPERTY_TAGS] = msg.tags;
  if (msg.keys !== undefined && msg.keys.length > 0) {
    for (const key of msg.keys) {
      // A key with a space would come back as two keys.
      if (key.length === 0 || key.includes(' ')) {
        const reason = key.length === 0 ? 'empty' : 'separator';
        throw new InvalidPropertyError(PROPERTY_KEYS, reason, `key ${JSON.stringify(key)} is empty or has a space`);
      }
    }
    props[PROPERTY_KEYS] = msg.keys.join(' ');
  }
  if (uniqKey === '') throw new InvalidPropertyError(PROPERTY_UNIQ_KEY, 'empty', 'value is empty');
  props[PROPERTY_UNIQ_KEY] = uniqKey;
  if (msg.deliverAtMs !== undefined) props.TIMER_DELIVER_MS = String(msg.deliverAtMs);
  if (msg.delayLevel !== undefined && msg.delayLevel > 0) props.DELAY = String(msg.delayLevel);
  for (const [name, value] of Object.entries(msg.properties ?? {})) {
    if (SYSTEM_PROPERTY_KEYS.has(name)) {
      throw new InvalidPropertyError(name, 'reserved', 'is a RocketMQ system property');
    }
    setOwn(props, name, value);
  }
  return props;
}

// ---- SEND_BATCH_MESSAGE body ----

/** One message of a batch, ready for the wire: `properties` is an encodeProperties() string. */
export interface OutgoingMessageEncoded {
  body: Buffer;
  flag: number;
  properties: string;
}

const SHORT_MAX = 0x7fff;
const INT_MIN = -0x8000_0000;
const INT_MAX = 0x7fff_ffff;

/** The UTF-8 length of an encodeProperties() string; over 32767 bytes no broker can store it (a short holds it). */
export function propertiesLength(index: number, properties: string): number {
  const n = Buffer.byteLength(properties, 'utf8');
  if (n > SHORT_MAX) throw new MessageEncodeError(index, `properties take ${n} bytes, over RocketMQ's limit of ${SHORT_MAX}`);
  return n;
}

/**
 * MessageDecoder.encodeMessages: per message int TOTALSIZE, int MAGIC (0), int BODYCRC (0),
 * int FLAG, int BODYLEN + body, short PROPERTIESLEN + UTF-8 properties. The broker reads only
 * flag, body and properties, computing the CRC itself; topic, queue, sysFlag (compression) and
 * born time come from the request header for the whole batch.
 */
export function encodeBatchBody(messages: OutgoingMessageEncoded[]): Buffer {
  if (messages.length === 0) throw new MessageEncodeError(0, 'a batch needs at least one message');
  const propLens: number[] = [];
  let total = 0;
  messages.forEach((m, i) => {
    if (!Number.isInteger(m.flag) || m.flag < INT_MIN || m.flag > INT_MAX) {
      throw new MessageEncodeError(i, `flag ${m.flag} is not a 32-bit integer`);
    }
    const propLen = propertiesLength(i, m.properties);
    propLens.push(propLen);
    total += 20 + m.body.length + 2 + propLen;
  });
  if (total > INT_MAX) throw new MessageEncodeError(messages.length - 1, `batch of ${total} bytes is too large`);
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  messages.forEach((m, i) => {
    const propLen = propLens[i]!;
    const size = 20 + m.body.length + 2 + propLen;
    p = out.writeInt32BE(size, p);
    p = out.writeInt32BE(0, p);
    p = out.writeInt32BE(0, p);
    p = out.writeInt32BE(m.flag, p);
    p = out.writeInt32BE(m.body.length, p);
    p += m.body.copy(out, p);
    p = out.writeUInt16BE(propLen, p);
    p += out.write(m.properties, p, propLen, 'utf8');
  });
  return out;
}
