import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import lz4js from 'lz4js';
import { hash as xxh32 } from 'lz4js/xxh32.js';
import type { StoredMessage } from '../../shared/rocketmq/message.ts';
import { RemotingError } from '../../shared/rocketmq/remoting/errors.ts';
import { DecompressionError, compressionTypeOf, decompressBody } from '../../shared/rocketmq/remoting/compression.ts';
import {
  InvalidPropertyError,
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  MessageDecodeError,
  MessageEncodeError,
  SYSTEM_PROPERTY_KEYS,
  UnsupportedCompressionError,
  buildMessageProperties,
  decodeProperties,
  decodeStoredMessages,
  encodeBatchBody,
  encodeProperties,
} from '../../shared/rocketmq/remoting/message-codec.ts';
import { createUniqKey } from '../../shared/rocketmq/remoting/uniq-key.ts';

// ---- fixtures written by RocketMQ 5.3.3 itself (test/fixtures/rocketmq/GenMessageCodecFixtures.java) ----
// All but V2 come from MessageDecoder.encode with: topic TopicA, queueId 3, flag 7, queueOffset 42,
// commitLogOffset 0x123456789A, born 1700000000123 from port 50123, stored 1700000000456 at port
// 10911, reconsumeTimes 2, properties TAGS=tagA KEYS="k1 k2" UNIQ_KEY=7F00…01 ключ="値 ✓", and the
// body (compressed by the named Java compressor at level 5) with bodyCRC = UtilAll.crc32(body).
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const BODY = 'Ferry body: the quick brown fox jumps over the lazy dog, the quick brown fox. ✓';
const JAVA_PROPS = { TAGS: 'tagA', KEYS: 'k1 k2', UNIQ_KEY: '7F00000100012A9F0000000000000001', ключ: '値 ✓' };

const JAVA = {
  // sysFlag 0, born 10.0.0.5, store 192.168.1.20
  v1Ipv4Plain: hex(`
    00000102daa320a70a7403150000000300000007000000000000002a000000123456789a000000000000018bcfe5687b0a00
    00050000c3cb0000018bcfe569c8c0a8011400002a9f00000002000000000000000000000051466572727920626f64793a20
    74686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f672c207468652071
    7569636b2062726f776e20666f782e20e29c9306546f706963410050d0bad0bbd18ed18701e580a420e29c93024b45595301
    6b31206b3202554e49515f4b4559013746303030303031303030313241394630303030303030303030303030303031025441
    4753017461674102`),
  // sysFlag COMPRESSED | ZLIB(3<<8) | BORNHOST_V6 | STOREHOST_V6, born fe80::1, store 2001:db8::10
  v1Ipv6Zlib: hex(`
    0000010ddaa320a74b532acc0000000300000007000000000000002a000000123456789a000003310000018bcfe5687bfe80
    00000000000000000000000000010000c3cb0000018bcfe569c820010db800000000000000000000001000002a9f00000002
    000000000000000000000044785e734b2d2aaa5448ca4fa9b45228c94855282ccd4cce56482aca2fcf5348cbaf50c82acd2d
    2856c82f4b2d024be72456552aa4e4a7eb6053aca7f068ce6400b7751e0806546f706963410050d0bad0bbd18ed18701e580
    a420e29c93024b455953016b31206b3202554e49515f4b455901374630303030303130303031324139463030303030303030
    30303030303030310254414753017461674102`),
  // sysFlag COMPRESSED only (type bits 0 = ZLIB, as senders before compression types wrote it)
  v1ZlibLegacy: hex(`
    000000f5daa320a74b532acc0000000300000007000000000000002a000000123456789a000000010000018bcfe5687b0a00
    00050000c3cb0000018bcfe569c8c0a8011400002a9f00000002000000000000000000000044785e734b2d2aaa5448ca4fa9
    b45228c94855282ccd4cce56482aca2fcf5348cbaf50c82acd2d2856c82f4b2d024be72456552aa4e4a7eb6053aca7f068ce
    6400b7751e0806546f706963410050d0bad0bbd18ed18701e580a420e29c93024b455953016b31206b3202554e49515f4b45
    590137463030303030313030303132413946303030303030303030303030303030310254414753017461674102`),
  // sysFlag COMPRESSED | LZ4(1<<8) | STOREHOST_V6, born 10.0.0.5, store 2001:db8::10
  v1Lz4: hex(`
    0000010fdaa320a7088f36950000000300000007000000000000002a000000123456789a000001210000018bcfe5687b0a00
    00050000c3cb0000018bcfe569c820010db800000000000000000000001000002a9f00000002000000000000000000000052
    04224d1860707343000000f11b466572727920626f64793a2074686520717569636b2062726f776e20666f78206a756d7073
    206f7665721f00916c617a7920646f672c0e000b2d00502e20e29c930000000006546f706963410050d0bad0bbd18ed18701
    e580a420e29c93024b455953016b31206b3202554e49515f4b45590137463030303030313030303132413946303030303030
    303030303030303030310254414753017461674102`),
  // sysFlag COMPRESSED | ZSTD(2<<8) | BORNHOST_V6, born fe80::1, store 192.168.1.20
  v1Zstd: hex(`
    0000010bdaa320a757a7fc640000000300000007000000000000002a000000123456789a000002110000018bcfe5687bfe80
    00000000000000000000000000010000c3cb0000018bcfe569c8c0a8011400002a9f0000000200000000000000000000004e
    28b52ffd00581402008403466572727920626f64793a2074686520717569636b2062726f776e20666f78206a756d7073206f
    7665726c617a7920646f672c2e20e29c93020050d12321a83201000006546f706963410050d0bad0bbd18ed18701e580a420
    e29c93024b455953016b31206b3202554e49515f4b4559013746303030303031303030313241394630303030303030303030
    3030303030310254414753017461674102`),
  // The broker's own MessageExtEncoder, V2 (140-byte topic a..z repeated), enabledAppendPropCRC on:
  // queueId 1, queueOffset 5, commitLogOffset 4096, body "v2 body", born 10.1.2.3:40000 at
  // 1700000001000, stored 10.9.8.7:10911 at 1700000002000, TAGS=t2 plus the __CRC32# property.
  v2: hex(`
    0000010bdaa320ab604b6763000000010000000000000000000000050000000000001000000000000000018bcfe56be80a01
    020300009c400000018bcfe56fd00a09080700002a9f00000000000000000000000000000007763220626f6479008c616263
    6465666768696a6b6c6d6e6f707172737475767778797a6162636465666768696a6b6c6d6e6f707172737475767778797a61
    62636465666768696a6b6c6d6e6f707172737475767778797a6162636465666768696a6b6c6d6e6f70717273747576777879
    7a6162636465666768696a6b6c6d6e6f707172737475767778797a6162636465666768696a001c54414753017432025f5f43
    5243333223013637333035393831323002`),
  // MessageDecoder.encodeMessages([{body "one", flag 5, k="vé"}, {empty body, flag 0, no properties}])
  batch: hex(`
    0000001f000000000000000000000005000000036f6e6500066b0176c3a90200000016000000000000000000000000000000
    000000`),
};
// MessageClientExt.getOffsetMsgId() of the fixtures, as printed by the generator.
const JAVA_MSG_ID_V4 = 'C0A8011400002A9F000000123456789A';
const JAVA_MSG_ID_V6 = '20010DB800000000000000000000001000002A9F000000123456789A';
const JAVA_MSG_ID_V2 = '0A09080700002A9F0000000000001000';

// zstd CLI 1.5 output (-19, with content size and checksum) for this text: another frame shape
// than zstd-jni's streaming one.
const ZSTD_CLI_TEXT = 'zstd CLI fixture: Ferry replicates RocketMQ, Ferry replicates RocketMQ.';
const ZSTD_CLI = hex(
  '28b52ffd2447ad0100d4027a73746420434c4920666978747572653a204665727279207265706c69636174657320' +
    '526f636b65744d512c2e0100747b960196785704',
);
// lz4 CLI output for the same text with -BX --content-size: block checksums, content size and
// content checksum, which Java's frames never have.
const LZ4_CLI = hex(
  '04224d187c404700000000000000fe37000000ff1d7a73746420434c4920666978747572653a204665727279207265' +
    '706c69636174657320526f636b65744d512c1b00035065744d512e87883d4c00000000f6313fd1',
);

// ---- a builder for hand-made stored messages, following MessageDecoder.encode field by field ----

interface Spec {
  v2?: boolean;
  topic?: string;
  queueId?: number;
  flag?: number;
  queueOffset?: number;
  commitLogOffset?: number;
  sysFlag?: number;
  bornTimestamp?: number;
  bornIp?: number[];
  bornPort?: number;
  storeTimestamp?: number;
  storeIp?: number[];
  storePort?: number;
  reconsumeTimes?: number;
  preparedTransactionOffset?: number;
  body?: Buffer;
  bodyCRC?: number;
  properties?: string;
}

function stored(spec: Spec): Buffer {
  const bornIp = Buffer.from(spec.bornIp ?? [10, 0, 0, 5]);
  const storeIp = Buffer.from(spec.storeIp ?? [192, 168, 1, 20]);
  let sysFlag = spec.sysFlag ?? 0;
  if (bornIp.length === 16) sysFlag |= 0x10;
  if (storeIp.length === 16) sysFlag |= 0x20;
  const body = spec.body ?? Buffer.from('body');
  const topic = Buffer.from(spec.topic ?? 'TopicA', 'utf8');
  const props = Buffer.from(spec.properties ?? '', 'utf8');
  const topicLenSize = spec.v2 ? 2 : 1;
  const parts: Buffer[] = [];
  const int = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    parts.push(b);
  };
  const long = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(v));
    parts.push(b);
  };
  const size =
    4 +
    4 +
    4 +
    4 +
    4 +
    8 +
    8 +
    4 +
    8 +
    bornIp.length +
    4 +
    8 +
    storeIp.length +
    4 +
    4 +
    8 +
    4 +
    body.length +
    topicLenSize +
    topic.length +
    2 +
    props.length;
  int(size);
  int(spec.v2 ? MESSAGE_MAGIC_V2 : MESSAGE_MAGIC_V1);
  int(spec.bodyCRC ?? 0);
  int(spec.queueId ?? 3);
  int(spec.flag ?? 7);
  long(spec.queueOffset ?? 42);
  long(spec.commitLogOffset ?? 0x123456789a);
  int(sysFlag);
  long(spec.bornTimestamp ?? 1700000000123);
  parts.push(bornIp);
  int(spec.bornPort ?? 50123);
  long(spec.storeTimestamp ?? 1700000000456);
  parts.push(storeIp);
  int(spec.storePort ?? 10911);
  int(spec.reconsumeTimes ?? 2);
  long(spec.preparedTransactionOffset ?? 0);
  int(body.length);
  parts.push(body);
  const tl = Buffer.alloc(topicLenSize);
  if (spec.v2) tl.writeUInt16BE(topic.length);
  else tl.writeUInt8(topic.length);
  parts.push(tl, topic);
  const pl = Buffer.alloc(2);
  pl.writeUInt16BE(props.length);
  parts.push(pl, props);
  const out = Buffer.concat(parts);
  assert.equal(out.length, size);
  return out;
}

const IPV6_STORE = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];
const IPV6_BORN = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];

/** The error `fn` throws, checked to be a `cls`. */
function thrown<T extends Error>(fn: () => unknown, cls: abstract new (...args: never[]) => T): T {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    return err;
  }
  return assert.fail(`expected ${cls.name}, nothing was thrown`);
}

function only(buf: Buffer): StoredMessage {
  const msgs = decodeStoredMessages(buf);
  assert.equal(msgs.length, 1);
  return msgs[0]!;
}

function expectJavaMessage(m: StoredMessage, bornHost: string, storeHost: string, msgId: string): void {
  assert.equal(m.topic, 'TopicA');
  assert.equal(m.queueId, 3);
  assert.equal(m.flag, 7);
  assert.equal(m.queueOffset, 42);
  assert.equal(m.commitLogOffset, 0x123456789a);
  assert.equal(m.bornTimestamp, 1700000000123);
  assert.equal(m.storeTimestamp, 1700000000456);
  assert.equal(m.bornHost, bornHost);
  assert.equal(m.storeHost, storeHost);
  assert.equal(m.reconsumeTimes, 2);
  assert.equal(m.preparedTransactionOffset, 0);
  assert.equal(m.msgId, msgId);
  assert.equal(m.uniqKey, '7F00000100012A9F0000000000000001');
  assert.equal(m.tags, 'tagA');
  assert.deepEqual(m.keys, ['k1', 'k2']);
  assert.deepEqual(m.properties, JAVA_PROPS);
  assert.equal(m.body.toString('utf8'), BODY);
}

describe('decodeStoredMessages on messages written by RocketMQ 5.3.3', () => {
  it('decodes a V1 message with IPv4 hosts and an uncompressed body', () => {
    const m = only(JAVA.v1Ipv4Plain);
    expectJavaMessage(m, '10.0.0.5:50123', '192.168.1.20:10911', JAVA_MSG_ID_V4);
    assert.equal(m.sysFlag, 0);
  });

  it('decodes IPv6 hosts and a zlib body (type bits 3)', () => {
    const m = only(JAVA.v1Ipv6Zlib);
    expectJavaMessage(m, '[fe80::1]:50123', '[2001:db8::10]:10911', JAVA_MSG_ID_V6);
    assert.equal(m.sysFlag, 0x331, 'sysFlag is returned as stored, compressed bit included');
  });

  it('decodes a zlib body flagged the pre-compression-type way (type bits 0)', () => {
    expectJavaMessage(only(JAVA.v1ZlibLegacy), '10.0.0.5:50123', '192.168.1.20:10911', JAVA_MSG_ID_V4);
  });

  it("decodes an LZ4 body from lz4-java's LZ4FrameOutputStream", () => {
    expectJavaMessage(only(JAVA.v1Lz4), '10.0.0.5:50123', '[2001:db8::10]:10911', JAVA_MSG_ID_V6);
  });

  it("decodes a zstd body from zstd-jni's ZstdOutputStream", () => {
    expectJavaMessage(only(JAVA.v1Zstd), '[fe80::1]:50123', '192.168.1.20:10911', JAVA_MSG_ID_V4);
  });

  it('decodes a V2 message (2-byte topic length) with the CRC32 property', () => {
    const m = only(JAVA.v2);
    assert.equal(m.topic.length, 140);
    assert.equal(m.topic.slice(0, 28), 'abcdefghijklmnopqrstuvwxyzab');
    assert.equal(m.queueId, 1);
    assert.equal(m.queueOffset, 5);
    assert.equal(m.commitLogOffset, 4096);
    assert.equal(m.body.toString(), 'v2 body');
    assert.equal(m.bornHost, '10.1.2.3:40000');
    assert.equal(m.storeHost, '10.9.8.7:10911');
    assert.equal(m.msgId, JAVA_MSG_ID_V2);
    assert.deepEqual(m.properties, { TAGS: 't2', '__CRC32#': '6730598120' });
    assert.equal(m.uniqKey, undefined);
    assert.deepEqual(m.keys, []);
  });

  it('decodes them back to back, and their bodies do not hold on to the pull buffer', () => {
    const parts = Object.entries(JAVA)
      .filter(([k]) => k !== 'batch')
      .map(([, b]) => b);
    // Like a pull response: a buffer of its own, not a slice of Node's small-buffer pool.
    const all = Buffer.allocUnsafeSlow(parts.reduce((n, b) => n + b.length, 0));
    Buffer.concat(parts).copy(all);
    const msgs = decodeStoredMessages(all);
    assert.equal(msgs.length, 6);
    for (const m of msgs) assert.notEqual(m.body.buffer, all.buffer);
    assert.deepEqual(decodeStoredMessages(Buffer.alloc(0)), []);
  });

  it('verifies body CRCs on request (over the body as stored, compressed or not)', () => {
    const all = Buffer.concat([JAVA.v1Ipv4Plain, JAVA.v1Lz4, JAVA.v1Zstd, JAVA.v1Ipv6Zlib, JAVA.v2]);
    assert.equal(decodeStoredMessages(all, { verifyBodyCrc: true }).length, 5);
    const bad = Buffer.from(JAVA.v1Lz4);
    const bodyStart = bad.length - (2 + 0x50) - (1 + 6) - 0x52; // properties, topic, then the 0x52-byte body
    bad[bodyStart + 20]! ^= 0x01; // a literal inside the LZ4 block: the frame itself has no checksum
    assert.notEqual(decodeStoredMessages(bad)[0]!.body.toString(), BODY);
    assert.throws(() => decodeStoredMessages(bad, { verifyBodyCrc: true }), /body CRC mismatch/);
  });
});

describe('decodeStoredMessages on hand-built messages', () => {
  it('lays messages out exactly as MessageDecoder.encode does', () => {
    const body = Buffer.from(BODY);
    const m = only(JAVA.v1Ipv4Plain);
    const mine = stored({ body, bodyCRC: m.bodyCRC, properties: JAVA.v1Ipv4Plain.subarray(-0x50).toString() });
    assert.deepEqual(mine, JAVA.v1Ipv4Plain);
  });

  it('computes msgId from store host, port and commit log offset', () => {
    // 192.168.1.20 = C0 A8 01 14, port 10911 = 00002A9F, offset 0x123456789A as 8 bytes.
    assert.equal(only(stored({})).msgId, 'C0A80114' + '00002A9F' + '000000123456789A');
    // 2001:db8::10, port 8080 = 00001F90, offset 1 — a 28-byte id for an IPv6 store host.
    const v6 = only(stored({ storeIp: IPV6_STORE, storePort: 8080, commitLogOffset: 1 }));
    assert.equal(v6.msgId, '20010DB8000000000000000000000010' + '00001F90' + '0000000000000001');
    // The born host never enters the id.
    assert.equal(only(stored({ bornIp: IPV6_BORN })).msgId, 'C0A80114' + '00002A9F' + '000000123456789A');
  });

  it('reads V1 and V2 topics, including a 300-byte one only V2 can hold', () => {
    assert.equal(only(stored({ topic: 'Tópic' })).topic, 'Tópic');
    assert.equal(only(stored({ v2: true, topic: 'Tópic' })).topic, 'Tópic');
    const long = 'x'.repeat(300);
    assert.equal(only(stored({ v2: true, topic: long })).topic, long);
  });

  it('formats IPv6 hosts in RFC 5952 text', () => {
    const host = (ip: number[], port = 1) => only(stored({ bornIp: ip, bornPort: port })).bornHost;
    assert.equal(host(IPV6_BORN, 50123), '[fe80::1]:50123');
    assert.equal(host(new Array(16).fill(0)), '[::]:1');
    assert.equal(host([...new Array(15).fill(0), 1]), '[::1]:1');
    assert.equal(host([0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3]), '[1:0:0:2::3]:1', 'first longest run');
    assert.equal(host([0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7]), '[1:0:2:3:4:5:6:7]:1', 'one zero stays');
    assert.equal(host([...new Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]), '[::ffff:192.0.2.1]:1');
    assert.equal(host([0xab, 0xcd, ...new Array(14).fill(0xff)]), '[abcd:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1');
  });

  it('reads unicode properties, tags, keys and the producer id', () => {
    const properties = encodeProperties({
      TAGS: 'étiquette',
      KEYS: 'order-1 заказ-2  🚢',
      UNIQ_KEY: 'ABCDEF',
      'ключ 🔑': 'значение ✓',
    });
    const m = only(stored({ properties }));
    assert.equal(m.tags, 'étiquette');
    assert.deepEqual(m.keys, ['order-1', 'заказ-2', '🚢'], 'split on single spaces, empty keys dropped');
    assert.equal(m.uniqKey, 'ABCDEF');
    assert.equal(m.properties['ключ 🔑'], 'значение ✓');
    assert.equal(only(stored({ properties: '' })).tags, undefined);
  });

  it('decompresses zlib, LZ4 and zstd bodies made by other encoders', () => {
    const text = Buffer.from('compressed ✓ '.repeat(200));
    const z = only(stored({ sysFlag: 0x1 | (3 << 8), body: deflateSync(text) }));
    assert.deepEqual(z.body, text);
    const l = only(stored({ sysFlag: 0x1 | (1 << 8), body: Buffer.from(lz4js.compress(text)) }));
    assert.deepEqual(l.body, text);
    const zs = only(stored({ sysFlag: 0x1 | (2 << 8), body: ZSTD_CLI }));
    assert.equal(zs.body.toString(), ZSTD_CLI_TEXT);
    const lc = only(stored({ sysFlag: 0x1 | (1 << 8), body: LZ4_CLI }));
    assert.equal(lc.body.toString(), ZSTD_CLI_TEXT);
  });

  it('ignores compression bits when the compressed flag is off, and empty compressed bodies', () => {
    assert.equal(only(stored({ sysFlag: 2 << 8, body: Buffer.from('plain') })).body.toString(), 'plain');
    assert.equal(only(stored({ sysFlag: 0x1 | (7 << 8), body: Buffer.alloc(0) })).body.length, 0);
  });

  it('refuses a body compressed with an unknown type, naming it and keeping what came before', () => {
    const good = stored({ queueOffset: 10 });
    const bad = stored({ queueOffset: 11, sysFlag: 0x1 | (5 << 8), body: Buffer.from('????') });
    const err = thrown(() => decodeStoredMessages(Buffer.concat([good, bad])), UnsupportedCompressionError);
    assert.ok(err instanceof RemotingError);
    assert.equal(err.compressionType, 5);
    assert.match(err.message, /compression type 5/);
    assert.equal(err.index, 1);
    assert.equal(err.byteOffset, good.length);
    assert.equal(err.queueOffset, 11);
    assert.deepEqual(
      err.decoded.map((m) => m.queueOffset),
      [10],
    );
    assert.ok(!Object.keys(err).includes('decoded'), 'the decoded messages stay out of logs');
  });

  it('rejects corrupt compressed bodies instead of returning bytes', () => {
    for (const [type, body] of [
      [3, Buffer.from('not zlib at all')],
      [3, deflateSync(Buffer.from(BODY)).subarray(0, 20)],
      [1, Buffer.from(lz4js.compress(Buffer.from(BODY))).subarray(0, 20)],
      [2, ZSTD_CLI.subarray(0, ZSTD_CLI.length - 6)],
    ] as const) {
      const err = thrown(() => decodeStoredMessages(stored({ sysFlag: 0x1 | (type << 8), body })), MessageDecodeError);
      assert.ok(err.cause instanceof DecompressionError, `type ${type}: ${String(err.cause)}`);
    }
  });

  it('caps decompressed bodies', () => {
    const big = Buffer.alloc(100_000, 0x61);
    const opts = { maxDecompressedBodyBytes: 50_000 };
    for (const [type, body] of [
      [3, deflateSync(big)],
      [1, Buffer.from(lz4js.compress(big))],
    ] as const) {
      const buf = stored({ sysFlag: 0x1 | (type << 8), body });
      assert.throws(() => decodeStoredMessages(buf, opts), /inflates past 50000 bytes/);
      assert.equal(decodeStoredMessages(buf)[0]!.body.length, big.length);
    }
    assert.throws(() => decompressBody('ZSTD', ZSTD_CLI, 10), /inflates past 10 bytes/);
  });
});

describe('decodeStoredMessages on truncated or garbled input', () => {
  it('throws MessageDecodeError at every truncation point', () => {
    const first = JAVA.v1Lz4;
    const all = Buffer.concat([first, JAVA.v2]);
    for (let cut = 1; cut < all.length; cut++) {
      if (cut === first.length) continue;
      const err = thrown(() => decodeStoredMessages(all.subarray(0, cut)), MessageDecodeError);
      assert.equal(err.index, cut < first.length ? 0 : 1);
      assert.equal(err.decoded.length, err.index);
    }
    assert.equal(decodeStoredMessages(all.subarray(0, first.length)).length, 1);
  });

  it('throws MessageDecodeError for garbled fields, never reading out of bounds', () => {
    const base = stored({ properties: encodeProperties({ TAGS: 'a' }) });
    const garble = (at: number, write: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(base);
      write(b.subarray(at));
      return b;
    };
    const bodyLenAt = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8;
    const cases: Array<[string, Buffer]> = [
      ['magic', garble(4, (b) => b.writeInt32BE(-875286124))],
      ['total size too small', garble(0, (b) => b.writeInt32BE(20))],
      ['total size negative', garble(0, (b) => b.writeInt32BE(-1))],
      ['total size too large', garble(0, (b) => b.writeInt32BE(base.length + 1))],
      ['born port', garble(4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 4, (b) => b.writeInt32BE(70000))],
      ['body length negative', garble(bodyLenAt, (b) => b.writeInt32BE(-5))],
      ['body length past end', garble(bodyLenAt, (b) => b.writeInt32BE(1 << 30))],
      ['topic length past end', garble(bodyLenAt + 4 + 4, (b) => b.writeUInt8(200))],
      ['sysFlag IPv6 without the bytes', garble(36, (b) => b.writeInt32BE(0x30))],
      ['commit log offset beyond 2^53', garble(28, (b) => b.writeInt32BE(0x7fffffff))],
      ['trailing bytes', Buffer.concat([base, Buffer.alloc(5)])],
    ];
    for (const [name, buf] of cases) {
      assert.throws(() => decodeStoredMessages(buf), MessageDecodeError, name);
    }
    // A total size that disagrees with the fields by a few bytes (props length shortened by 1).
    const short = garble(base.length - 7 - 2, (b) => b.writeUInt16BE(6));
    assert.throws(() => decodeStoredMessages(short), /fields end 1 bytes before the total size/);
  });

  it('survives random corruption: either a typed error or a message, never anything else', () => {
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    const all = Buffer.concat([JAVA.v1Lz4, JAVA.v1Zstd, JAVA.v1Ipv6Zlib]);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(all);
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        decodeStoredMessages(b);
      } catch (err) {
        assert.ok(err instanceof MessageDecodeError || err instanceof UnsupportedCompressionError, String(err));
      }
    }
  });
});

describe('LZ4 frames', () => {
  // A frame with 64 KiB blocks: block 1 stored as is, block 2 one match reaching back into block 1,
  // then 5 literals. Valid only when blocks are dependent (FLG bit 5 clear).
  function twoBlockFrame(independent: boolean): { frame: Buffer; expected: Buffer } {
    const first = Buffer.alloc(65536);
    for (let i = 0; i < first.length; i++) first[i] = (i * 31 + (i >> 8)) & 0xff;
    const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, independent ? 0x60 : 0x40, 0x40, 0]);
    header[6] = (xxh32(0, header, 4, 2) >>> 8) & 0xff;
    const size1 = Buffer.alloc(4);
    size1.writeUInt32LE(0x8000_0000 + first.length); // high bit: stored uncompressed
    const block2 = Buffer.from([0x0f, 1000 & 0xff, 1000 >> 8, 0x00, 0x50, ...Buffer.from('tail!')]);
    const size2 = Buffer.alloc(4);
    size2.writeUInt32LE(block2.length);
    const frame = Buffer.concat([header, size1, first, size2, block2, Buffer.alloc(4)]);
    const expected = Buffer.concat([first, first.subarray(65536 - 1000, 65536 - 1000 + 19), Buffer.from('tail!')]);
    return { frame, expected };
  }

  it('decodes dependent blocks whose matches reach into the previous block', () => {
    const { frame, expected } = twoBlockFrame(false);
    assert.deepEqual(decompressBody('LZ4', frame, 1 << 20), expected);
  });

  it('rejects the same match in an independent-block frame', () => {
    assert.throws(() => decompressBody('LZ4', twoBlockFrame(true).frame, 1 << 20), /match offset/);
  });

  it('checks header, block and content checksums when present', () => {
    assert.equal(decompressBody('LZ4', LZ4_CLI, 1000).toString(), ZSTD_CLI_TEXT);
    const at = (i: number) => {
      const b = Buffer.from(LZ4_CLI);
      b[i]! ^= 0x20;
      return b;
    };
    assert.throws(() => decompressBody('LZ4', at(4 + 2 + 8), 1000), /header checksum/);
    assert.throws(() => decompressBody('LZ4', at(4 + 2 + 8 + 1 + 4 + 10), 1000), /block checksum/);
    assert.throws(() => decompressBody('LZ4', at(LZ4_CLI.length - 1), 1000), /content checksum/);
  });

  it('rejects malformed blocks', () => {
    const frame = (block: number[]) => {
      const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0]);
      header[6] = (xxh32(0, header, 4, 2) >>> 8) & 0xff;
      const size = Buffer.alloc(4);
      size.writeUInt32LE(block.length);
      return Buffer.concat([header, size, Buffer.from(block), Buffer.alloc(4)]);
    };
    assert.equal(decompressBody('LZ4', frame([0x30, 0x61, 0x62, 0x63]), 100).toString(), 'abc');
    // 'a', then a 20-byte match at offset 1 (overlapping copy), then 'b'.
    const overlapping = frame([0x1f, 0x61, 0x01, 0x00, 0x01, 0x10, 0x62]);
    assert.equal(decompressBody('LZ4', overlapping, 100).toString(), `${'a'.repeat(21)}b`);
    assert.throws(() => decompressBody('LZ4', frame([0x50, 0x61]), 100), /literals run past/);
    assert.throws(() => decompressBody('LZ4', frame([0x10, 0x61, 0x05, 0x00, 0x00]), 100), /match offset/);
    assert.throws(() => decompressBody('LZ4', frame([0x10, 0x61, 0x00, 0x00, 0x00]), 100), /match offset/);
    assert.throws(() => decompressBody('LZ4', frame([0x1f, 0x61, 0x01, 0x00, 0xff]), 100), /match length/);
    const trailing = Buffer.concat([frame([0x30, 0x61, 0x62, 0x63]), Buffer.from([0])]);
    assert.throws(() => decompressBody('LZ4', trailing, 100), /unexpected bytes/);
  });
});

describe('compression type bits', () => {
  it('maps sysFlag bits 8-10 as CompressionType.findByValue', () => {
    assert.equal(compressionTypeOf(0x1), 'ZLIB');
    assert.equal(compressionTypeOf(0x1 | (1 << 8)), 'LZ4');
    assert.equal(compressionTypeOf(0x1 | (2 << 8)), 'ZSTD');
    assert.equal(compressionTypeOf(0x1 | (3 << 8)), 'ZLIB');
    for (const t of [4, 5, 6, 7]) assert.equal(compressionTypeOf(0x1 | (t << 8)), undefined);
    assert.equal(compressionTypeOf(0x30 | (1 << 8) | (1 << 11)), 'LZ4', 'other bits do not matter');
  });
});

describe('properties', () => {
  it('encodes name\\u0001value\\u0002 and decodes it back', () => {
    const props = { a: '1', ключ: '値 ✓', '🚢': 'x y' };
    const s = encodeProperties(props);
    assert.equal(s, 'a\u00011\u0002ключ\u0001値 ✓\u0002🚢\u0001x y\u0002');
    assert.deepEqual(decodeProperties(s), props);
    assert.equal(encodeProperties({}), '');
  });

  it('decodes like string2messageProperties: tolerant of odd entries', () => {
    assert.deepEqual(decodeProperties('a\u00011\u0002b\u0001\u0002\u0001c\u0002d\u0002e\u00012'), { a: '1', e: '2' });
    assert.deepEqual(decodeProperties('k\u0001v1\u0002k\u0001v2\u0002'), { k: 'v2' }, 'last one wins');
    assert.deepEqual(decodeProperties('k\u0001a\u0001b\u0002'), { k: 'a\u0001b' });
    assert.deepEqual(decodeProperties(''), {});
    const proto = decodeProperties('__proto__\u0001x\u0002');
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    // biome-ignore lint/suspicious/noProto: an own key named __proto__ is what is being checked
    // biome-ignore lint/complexity/useLiteralKeys: dot access would read as the prototype accessor
    assert.equal(proto['__proto__'], 'x');
  });

  it('refuses separators and empty parts, naming the property', () => {
    for (const [props, name, reason] of [
      [{ 'a\u0001b': 'v' }, 'a\u0001b', 'separator'],
      [{ a: 'v\u0002' }, 'a', 'separator'],
      [{ '': 'v' }, '', 'empty'],
      [{ a: '' }, 'a', 'empty'],
    ] as const) {
      const err = thrown(() => encodeProperties(props), InvalidPropertyError);
      assert.equal(err.property, name);
      assert.equal(err.reason, reason);
      assert.ok(err instanceof RemotingError);
    }
  });

  it('builds a message property map with TAGS, KEYS and UNIQ_KEY', () => {
    const props = buildMessageProperties(
      { body: Buffer.alloc(0), tags: 'tagA', keys: ['k1', 'k2'], properties: { region: 'eu', ключ: 'v' } },
      'UNIQ1',
    );
    assert.deepEqual(props, { TAGS: 'tagA', KEYS: 'k1 k2', UNIQ_KEY: 'UNIQ1', region: 'eu', ключ: 'v' });
    assert.deepEqual(buildMessageProperties({ body: Buffer.alloc(0), tags: '', keys: [] }, 'U'), { UNIQ_KEY: 'U' });
  });

  it('refuses user properties named like system properties', () => {
    assert.equal(SYSTEM_PROPERTY_KEYS.size, 51);
    for (const key of ['TAGS', 'KEYS', 'UNIQ_KEY', 'DELAY', 'TIMER_DELIVER_MS', 'WAIT', '__CRC32#', 'CLUSTER']) {
      const err = thrown(() => buildMessageProperties({ body: Buffer.alloc(0), properties: { [key]: 'x' } }, 'U'), InvalidPropertyError);
      assert.equal(err.property, key);
      assert.equal(err.reason, 'reserved');
      assert.match(err.message, new RegExp(key));
    }
  });

  it('refuses keys that would not come back as sent', () => {
    for (const keys of [['a b'], ['']]) {
      const err = thrown(() => buildMessageProperties({ body: Buffer.alloc(0), keys }, 'U'), InvalidPropertyError);
      assert.equal(err.property, 'KEYS');
    }
  });
});

describe('encodeBatchBody', () => {
  it('matches MessageDecoder.encodeMessages byte for byte', () => {
    const body = encodeBatchBody([
      { body: Buffer.from('one'), flag: 5, properties: encodeProperties({ k: 'vé' }) },
      { body: Buffer.alloc(0), flag: 0, properties: '' },
    ]);
    assert.deepEqual(body, JAVA.batch);
  });

  it('lays out totalSize, magic 0, CRC 0, flag, body and properties per message', () => {
    const props = encodeProperties({ TAGS: 't', UNIQ_KEY: 'ü' });
    const propBytes = Buffer.from(props, 'utf8');
    const buf = encodeBatchBody([
      { body: Buffer.from([1, 2, 3]), flag: -1, properties: props },
      { body: Buffer.from([9]), flag: 0x7fffffff, properties: '' },
    ]);
    let p = 0;
    const size = buf.readInt32BE(p);
    assert.equal(size, 4 + 4 + 4 + 4 + 4 + 3 + 2 + propBytes.length);
    assert.equal(buf.readInt32BE(p + 4), 0);
    assert.equal(buf.readInt32BE(p + 8), 0);
    assert.equal(buf.readInt32BE(p + 12), -1);
    assert.equal(buf.readInt32BE(p + 16), 3);
    assert.deepEqual([...buf.subarray(p + 20, p + 23)], [1, 2, 3]);
    assert.equal(buf.readInt16BE(p + 23), propBytes.length);
    assert.equal(buf.toString('utf8', p + 25, p + size), props);
    p += size;
    assert.equal(buf.readInt32BE(p), 23);
    assert.equal(buf.readInt32BE(p + 12), 0x7fffffff);
    assert.equal(buf.readInt16BE(p + 21), 0);
    assert.equal(p + 23, buf.length);
  });

  it('refuses what the broker could not read', () => {
    const long = encodeProperties({ big: 'x'.repeat(32767) });
    const ok = { body: Buffer.alloc(1), flag: 0, properties: '' };
    const err = thrown(() => encodeBatchBody([ok, { ...ok, properties: long }]), MessageEncodeError);
    assert.equal(err.index, 1);
    assert.throws(() => encodeBatchBody([{ ...ok, flag: 2 ** 31 }]), MessageEncodeError);
    assert.throws(() => encodeBatchBody([{ ...ok, flag: 1.5 }]), MessageEncodeError);
    assert.throws(() => encodeBatchBody([]), MessageEncodeError);
    assert.doesNotThrow(() => encodeBatchBody([{ ...ok, properties: encodeProperties({ b: 'x'.repeat(32764) }) }]));
  });
});

describe('createUniqKey', () => {
  it('lays out ip, pid, a per-process value, ms in the month and a counter as 32 upper-case hex', () => {
    const before = Date.now();
    const id = createUniqKey();
    assert.match(id, /^[0-9A-F]{32}$/);
    const b = Buffer.from(id, 'hex');
    assert.equal(b.readUInt16BE(4), process.pid & 0xffff);
    const now = new Date(before);
    const monthStart = new Date(now.getFullYear(), now.getMonth(), 1).getTime();
    const ms = b.readUInt32BE(10);
    assert.ok(ms >= before - monthStart && ms <= Date.now() - monthStart + 1000, `time field ${ms}`);
  });

  it('is unique within a process, even past 65536 ids in one millisecond', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 200_000; i++) ids.add(createUniqKey());
    assert.equal(ids.size, 200_000);
  });

  it('differs between two module instances with the same pid and clock (the random part)', async () => {
    const other = (await import(`../../shared/rocketmq/remoting/uniq-key.ts?instance=${Date.now()}`)) as {
      createUniqKey: () => string;
    };
    const a = createUniqKey();
    const b = other.createUniqKey();
    assert.equal(a.slice(0, 12), b.slice(0, 12), 'same ip and pid');
    assert.notEqual(a.slice(12, 20), b.slice(12, 20), 'different per-process value');
  });
});
