// FerryPeer, the Java oracle on Apache's own client, checked against the real clusters before
// anything else relies on it: what it produces, it consumes back byte for byte, with tags, keys,
// properties, and the compression the stored message really carries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { javaPeer, type JavaPeerResult } from '../testbed/java-peer.ts';
import { mqadmin } from '../testbed/mqadmin.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { testCluster, type TestbedKey } from '../support/testbed.ts';

interface Produced {
  msgId: string;
  offsetMsgId: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  sendStatus: string;
  bodyBase64: string;
  bodyLength: number;
}

interface Consumed {
  topic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  msgId: string;
  offsetMsgId: string;
  uniqKey: string | null;
  bodyBase64: string;
  bodyLength: number;
  bodyCRC: number;
  tags: string | null;
  keys: string | null;
  properties: Record<string, string>;
  bornTimestamp: number;
  storeTimestamp: number;
  flag: number;
  sysFlag: number;
  compression: string | null;
}

const UNICODE = 'héllo wörld — 你好 🚀 \u00e9\u0301';
const COMPRESSION_BITS: Record<string, number> = { LZ4: 1, ZSTD: 2, ZLIB: 3 };

function ok(r: JavaPeerResult, what: string): void {
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}):\n${r.stderr.slice(-3000)}`);
}

async function createTopic(c: ClusterInfo, topic: string): Promise<void> {
  const r = await mqadmin(c.version, ['updateTopic', '-n', c.nameServer, '-c', c.name, '-t', topic, '-r', '4', '-w', '4'], {
    credentials: c.acl,
  });
  assert.match(r.stdout, /success/, r.stdout + r.stderr);
}

function creds(c: ClusterInfo): string[] {
  return c.acl ? ['--ak', c.acl.accessKey, '--sk', c.acl.secretKey] : [];
}

/** What UtilAll.crc32 stores as bodyCRC: CRC32 of the stored body bytes, sign bit cleared. */
function storedCrc(body: Buffer): number {
  return crc32(body) & 0x7fffffff;
}

async function produce(c: ClusterInfo, topic: string, args: string[]): Promise<Produced[]> {
  const r = await javaPeer(c.version, ['produce', '--namesrv', c.nameServer, '--topic', topic, ...creds(c), ...args]);
  ok(r, 'produce');
  const lines = r.lines as Produced[];
  for (const p of lines) assert.equal(p.sendStatus, 'SEND_OK');
  return lines;
}

async function consume(c: ClusterInfo, topic: string, expect: number, extra: string[] = []): Promise<Consumed[]> {
  const r = await javaPeer(c.version, [
    'consume',
    '--namesrv',
    c.nameServer,
    '--topic',
    topic,
    '--expect',
    String(expect),
    '--timeout-ms',
    '30000',
    ...creds(c),
    ...extra,
  ]);
  ok(r, 'consume');
  return r.lines as Consumed[];
}

function byMsgId(consumed: Consumed[]): Map<string, Consumed> {
  const m = new Map<string, Consumed>();
  for (const c of consumed) {
    assert.ok(c.uniqKey, 'every consumed message carries UNIQ_KEY');
    assert.equal(c.msgId, c.uniqKey, 'the client-side msgId is the UNIQ_KEY');
    m.set(c.uniqKey!, c);
  }
  return m;
}

for (const key of ['v4', 'v5'] as const satisfies readonly TestbedKey[]) {
  describe(`FerryPeer oracle on ${key}`, () => {
    it('consumes back exactly what it produced: bodies, tags, keys, properties, offsets, compression', async () => {
      const c = await testCluster(key);
      const topic = `peer_rt_${key}_${Date.now()}`;
      await createTopic(c, topic);
      const small = await produce(c, topic, [
        '--count',
        '19',
        '--body-text',
        `body {i} ${UNICODE}`,
        '--tags',
        'tag{i}',
        '--keys',
        'key{i} shared',
        '--prop',
        `greeting=${UNICODE}`,
        '--prop',
        'idx={i}',
        '--flag',
        '7',
      ]);
      const big = await produce(c, topic, [
        '--count',
        '1',
        '--body-size',
        '10240',
        '--compress-over',
        '4096',
        '--tags',
        'big',
        '--keys',
        'bigkey',
        '--prop',
        `greeting=${UNICODE}`,
      ]);
      assert.equal(small.length, 19);
      assert.equal(big.length, 1);
      assert.equal(big[0]!.bodyLength, 10240);
      assert.equal(new Set(small.map((p) => p.queueId)).size > 1, true, 'default sends spread over the queues');

      const consumed = await consume(c, topic, 20, ['--linger-ms', '1000']);
      assert.equal(consumed.length, 20, 'exactly the 20 produced messages, none extra');
      const got = byMsgId(consumed);
      [...small, ...big].forEach((p, i) => {
        const m = got.get(p.msgId);
        assert.ok(m, `message ${p.msgId} not consumed`);
        const isBig = i === 19;
        assert.equal(m.topic, topic);
        assert.equal(m.bodyBase64, p.bodyBase64);
        assert.equal(m.bodyLength, p.bodyLength);
        assert.equal(m.queueId, p.queueId);
        assert.equal(m.queueOffset, p.queueOffset);
        assert.equal(m.brokerName, p.brokerName);
        assert.equal(m.offsetMsgId, p.offsetMsgId);
        assert.equal(m.tags, isBig ? 'big' : `tag${i}`);
        assert.equal(m.keys, isBig ? 'bigkey' : `key${i} shared`);
        assert.equal(m.properties.TAGS, m.tags);
        assert.equal(m.properties.KEYS, m.keys);
        assert.equal(m.properties.UNIQ_KEY, p.msgId);
        assert.equal(m.properties.greeting, UNICODE);
        assert.equal(m.properties.MIN_OFFSET, undefined, 'client-added pull properties are left out');
        if (!isBig) {
          assert.equal(Buffer.from(m.bodyBase64, 'base64').toString('utf8'), `body ${i} ${UNICODE}`);
          assert.equal(m.properties.idx, String(i));
          assert.equal(m.flag, 7);
          assert.equal(m.compression, null);
          assert.equal(m.sysFlag & 0x701, 0, `uncompressed sysFlag ${m.sysFlag}`);
          assert.equal(m.bodyCRC, storedCrc(Buffer.from(m.bodyBase64, 'base64')), 'stored body is the plain body');
        } else {
          assert.equal(m.flag, 0);
          assert.equal(m.compression, 'ZLIB');
          assert.equal((m.sysFlag >> 8) & 7, COMPRESSION_BITS.ZLIB, `sysFlag ${m.sysFlag} records ZLIB`);
          assert.notEqual(m.bodyCRC, storedCrc(Buffer.from(m.bodyBase64, 'base64')), 'stored body is not the plain body');
          assert.ok(m.storeTimestamp >= m.bornTimestamp - 5000);
        }
      });
    });

    for (const type of ['LZ4', 'ZSTD'] as const) {
      it(`stores ${type}-compressed bodies and reads them back (--compress-type ${type})`, async () => {
        const c = await testCluster(key);
        const topic = `peer_${type.toLowerCase()}_${key}_${Date.now()}`;
        await createTopic(c, topic);
        const produced = await produce(c, topic, [
          '--count',
          '3',
          '--body-size',
          '8192',
          '--compress-over',
          '4096',
          '--compress-type',
          type,
        ]);
        const got = byMsgId(await consume(c, topic, 3));
        for (const p of produced) {
          const m = got.get(p.msgId);
          assert.ok(m, `message ${p.msgId} not consumed`);
          assert.equal(m.bodyBase64, p.bodyBase64);
          assert.equal(m.compression, type);
          assert.equal((m.sysFlag >> 8) & 7, COMPRESSION_BITS[type], `sysFlag ${m.sysFlag} records ${type}`);
          assert.notEqual(m.bodyCRC, storedCrc(Buffer.from(m.bodyBase64, 'base64')), 'stored body is not the plain body');
        }
      });
    }

    it('sends to the queue given with --queue', async () => {
      const c = await testCluster(key);
      const topic = `peer_q_${key}_${Date.now()}`;
      await createTopic(c, topic);
      const produced = await produce(c, topic, ['--count', '5', '--queue', '2']);
      assert.deepEqual(
        produced.map((p) => [p.queueId, p.queueOffset]),
        [
          [2, 0],
          [2, 1],
          [2, 2],
          [2, 3],
          [2, 4],
        ],
      );
      const consumed = await consume(c, topic, 5);
      assert.deepEqual(new Set(consumed.map((m) => m.queueId)), new Set([2]));
    });

    it('runs bench-send (single and batched) and bench-pull', async () => {
      const c = await testCluster(key);
      const topic = `peer_bench_${key}_${Date.now()}`;
      await createTopic(c, topic);
      const base = ['--namesrv', c.nameServer, '--topic', topic, '--body-size', '1024', '--warmup', '200'];
      for (const batch of ['1', '16']) {
        const r = await javaPeer(c.version, ['bench-send', ...base, '--count', '1000', '--batch', batch]);
        ok(r, `bench-send --batch ${batch}`);
        const [res] = r.lines as { msgsPerSec: number; count: number; elapsedMs: number; batch: number }[];
        assert.ok(res && res.count === 1000 && res.msgsPerSec > 0 && res.elapsedMs > 0, r.stdout);
        assert.equal(res.batch, Number(batch));
      }
      const r = await javaPeer(c.version, ['bench-pull', '--namesrv', c.nameServer, '--topic', topic, '--count', '2400']);
      ok(r, 'bench-pull');
      const [res] = r.lines as { msgsPerSec: number; count: number; elapsedMs: number; pullBatchSize: number }[];
      assert.ok(res && res.count === 2400 && res.msgsPerSec > 0, r.stdout);
    });
  });
}

for (const key of ['v4acl', 'v5acl'] as const satisfies readonly TestbedKey[]) {
  describe(`FerryPeer oracle on ${key}`, () => {
    it('produces and consumes with the admin credentials; a wrong secret or none is refused', async () => {
      const c = await testCluster(key);
      assert.ok(c.acl, 'ACL cluster reports its credentials');
      const topic = `peer_acl_${key}_${Date.now()}`;
      await createTopic(c, topic);
      const produced = await produce(c, topic, ['--count', '5', '--tags', 'acl', '--prop', `greeting=${UNICODE}`]);
      const got = byMsgId(await consume(c, topic, 5));
      for (const p of produced) {
        assert.equal(got.get(p.msgId)?.bodyBase64, p.bodyBase64);
        assert.equal(got.get(p.msgId)?.properties.greeting, UNICODE);
      }

      const base = ['produce', '--namesrv', c.nameServer, '--topic', topic, '--count', '1', '--send-timeout-ms', '5000'];
      const wrong = await javaPeer(c.version, [...base, '--ak', c.acl!.accessKey, '--sk', 'not-the-secret']);
      assert.equal(wrong.exitCode, 1, `a wrong secret must fail:\n${wrong.stdout}${wrong.stderr}`);
      assert.deepEqual(wrong.lines, []);
      const unsigned = await javaPeer(c.version, base);
      assert.equal(unsigned.exitCode, 1, `an unsigned send must fail:\n${unsigned.stdout}${unsigned.stderr}`);
      assert.deepEqual(unsigned.lines, []);
    });
  });
}
