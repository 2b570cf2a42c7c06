// Field fidelity end to end, judged by Apache's own Java client (FerryPeer) on both sides: Java
// writes 300 messages over 2 topics (single sends spaced a few ms apart, ~100 KiB bodies the client
// compresses, Java batches; tags, several keys, user properties, a flag on some), Ferry replicates
// them through a task on the local runtime, and Java reads the target until it is quiet. Every
// replica, matched by its message id as Java reads it on the source (and by its `seq` property where
// a 5.3.3 source stored a whole Java batch under one id), must be the only one of its original and
// carry the same body, tags, keys, user properties, flag, born time and msgId, plus every FERRY_*
// provenance property.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { javaConsume, javaPeer, type JavaPeerResult } from '../testbed/java-peer.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { HOP, ORIGIN } from '../../shared/replication/origin.ts';
import { SYSTEM_PROPERTY_KEYS } from '../../shared/rocketmq/remoting/message-codec.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster, type TestbedKey } from '../support/testbed.ts';

const QUEUES = 4;
const PER_TOPIC = 150;
const UNICODE = 'ap-广州 ✓';

interface Produced {
  msgId: string;
  offsetMsgId: string | null;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  sendStatus: string;
  bodyBase64: string;
  bodyLength: number;
  batchSize?: number;
  batchIndex?: number;
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
  tags: string | null;
  keys: string | null;
  properties: Record<string, string>;
  bornTimestamp: number;
  storeTimestamp: number;
  flag: number;
  sysFlag: number;
  compression: string | null;
}

/** One message as the test asked Java to write it, and what Java reported for it. */
interface Original {
  topic: string;
  index: number;
  group: string;
  tags: string;
  keys: string;
  userProperties: Record<string, string>;
  flag: number;
  produced: Produced;
  /** The original as stored on the source, read back with the Java consumer. */
  stored?: Consumed;
}

/** A group of messages one Java producer run writes. */
interface Group {
  name: string;
  count: number;
  /** Index of the first message within the topic. */
  from: number;
  body: string[];
  flag?: { value: number; every: number };
  batch?: number;
}

// Per topic: 150 messages in four producer runs; indexes 0..149 (offset per topic, so bodies differ).
const GROUPS: Group[] = [
  { name: 'single', count: 70, from: 0, body: ['--body-text', 'fidelity single {i} 跨集群 réplication 🚀'], flag: { value: 7, every: 3 } },
  { name: 'large', count: 15, from: 70, body: ['--body-size', String(100 * 1024)], flag: { value: 3, every: 2 } },
  { name: 'large-random', count: 5, from: 85, body: ['--body-size', String(100_000), '--body-random'] },
  { name: 'batch', count: 60, from: 90, body: ['--body-text', 'fidelity batch {i} ✓'], flag: { value: 11, every: 4 }, batch: 20 },
];

const creds = (c: ClusterInfo): string[] => (c.acl ? ['--ak', c.acl.accessKey, '--sk', c.acl.secretKey] : []);

function ok(r: JavaPeerResult, what: string): void {
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}):\n${r.stderr.slice(-3000)}`);
}

/** Properties a producer set itself: neither RocketMQ's system keys nor Ferry's provenance. */
function userProperties(props: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) {
    if (!SYSTEM_PROPERTY_KEYS.has(k) && !k.startsWith('FERRY_')) out[k] = v;
  }
  return out;
}

async function produceGroup(c: ClusterInfo, topic: string, topicIndex: number, g: Group): Promise<Original[]> {
  const base = topicIndex * 1000 + g.from;
  const r = await javaPeer(
    c.version,
    [
      'produce',
      '--namesrv',
      c.nameServer,
      '--topic',
      topic,
      ...creds(c),
      '--count',
      String(g.count),
      '--index-from',
      String(base),
      ...g.body,
      '--tags',
      `${g.name}-tag-{i}`,
      '--keys',
      'k-{i} order-{i} ferry-key-{i}',
      '--prop',
      'seq={i}',
      '--prop',
      `区域=${UNICODE}`,
      '--prop',
      `kind=${g.name}`,
      ...(g.flag ? ['--flag', String(g.flag.value), '--flag-every', String(g.flag.every)] : []),
      ...(g.batch ? ['--batch', String(g.batch), '--interval-ms', '5'] : ['--interval-ms', '3']),
    ],
    { timeoutMs: 180_000 },
  );
  ok(r, `produce ${g.name} to ${topic}`);
  const lines = r.lines as Produced[];
  assert.equal(lines.length, g.count, `${g.name}: one line per message`);
  return lines.map((p, n) => {
    const index = base + n;
    assert.equal(p.sendStatus, 'SEND_OK', `${g.name} #${index}`);
    if (g.batch) assert.equal(p.batchIndex, n % g.batch, `${g.name} #${index} sent in a Java batch`);
    return {
      topic,
      index,
      group: g.name,
      tags: `${g.name}-tag-${index}`,
      keys: `k-${index} order-${index} ferry-key-${index}`,
      userProperties: { seq: String(index), 区域: UNICODE, kind: g.name },
      flag: g.flag && index % g.flag.every === 0 ? g.flag.value : 0,
      produced: p,
    };
  });
}

/** Java's consumer on every queue of the topic until it has `expect` and nothing new came for quietMs. */
async function javaRead(
  c: ClusterInfo,
  topic: string,
  expect: number,
  quietMs: number,
  timeoutMs: number,
): Promise<{ r: JavaPeerResult; lines: Consumed[] }> {
  // Three reads of at most a third of the time each (javaConsume: a read that misses a queue is read again).
  const r = await javaConsume(
    c.version,
    [
      '--namesrv',
      c.nameServer,
      '--topic',
      topic,
      '--expect',
      String(expect),
      '--timeout-ms',
      String(Math.round(timeoutMs / 3)),
      '--quiet-ms',
      String(quietMs),
      ...creds(c),
    ],
    expect,
    { timeoutMs: Math.round(timeoutMs / 3) + 60_000 },
  );
  return { r, lines: r.lines as Consumed[] };
}

for (const [from, to] of [
  ['v5', 'v5acl'],
  ['v4', 'v5'],
] as [TestbedKey, TestbedKey][]) {
  describe(`field fidelity read by the Java client, ${from} → ${to}`, () => {
    let rt: Runtime;
    let a: Side;
    let b: Side;
    const prefix = `fid${from}${to}_${Date.now()}`;
    const topics = [`${prefix}_t0`, `${prefix}_t1`];

    before(async () => {
      a = side(await testCluster(from));
      b = side(await testCluster(to));
      for (const s of [a, b]) {
        for (const t of topics)
          await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: t, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
      }
      rt = await startRuntime({
        store: 'embedded',
        env: { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '8000', LOG_LEVEL: 'info' },
      });
    });
    after(async () => {
      await rt?.stop();
      a?.remoting.close();
      b?.remoting.close();
    });

    it(`every replica of ${2 * PER_TOPIC} Java-written messages is its original, once, with its provenance`, async (t) => {
      const api = client(rt);
      const created = await api('POST', '/v1/tasks', {
        name: `fidelity-${from}-${to}`,
        direction: 'one-way',
        source: endpointOf(a.c),
        target: endpointOf(b.c),
        startOffset: { type: 'latest' },
        // The topics by name: literal names need no backtracking analysis, which a busy machine can time out.
        filter: { topics: { include: topics, exclude: [] } },
      });
      assert.equal(created.status, 201, created.text);
      await waitForStatus(api, created.body.id, 'running');

      // 1. Java writes, then reads the source back: where each original sits, its stored times, and
      // its message id as the Java client reports it there (getMsgId(), i.e. the stored UNIQ_KEY).
      // Originals are known by topic and index (the `seq` property): a 5.3.3 broker appends a Java
      // batch's own properties to every message in it, so all messages of such a batch are stored
      // with the batch's UNIQ_KEY, not the per-message ids the producer's SendResult reports.
      const originals = new Map<string, Original>();
      const keyOf = (topic: string, index: string | number) => `${topic}#${index}`;
      for (const [ti, topic] of topics.entries()) {
        for (const g of GROUPS) {
          for (const o of await produceGroup(a.c, topic, ti, g)) originals.set(keyOf(o.topic, o.index), o);
        }
      }
      assert.equal(originals.size, 2 * PER_TOPIC);

      let batchIdsRewritten = 0;
      for (const topic of topics) {
        const { r, lines } = await javaRead(a.c, topic, PER_TOPIC, 2000, 120_000);
        ok(r, `consume source ${topic}`);
        assert.equal(lines.length, PER_TOPIC, `source ${topic} holds exactly what Java wrote`);
        for (const s of lines) {
          const o = originals.get(keyOf(topic, s.properties.seq ?? '?'));
          assert.ok(o, `source ${topic}/${s.queueId}/${s.queueOffset} (seq ${s.properties.seq}, ${s.msgId}) was written by the test`);
          assert.equal(o.stored, undefined, `${topic}#${o.index} stored once on the source`);
          o.stored = s;
          // Preconditions: the source holds what Java said it wrote, as the test asked for it.
          const what = `${topic}#${o.index}(${o.group})`;
          assert.equal(s.topic, o.topic);
          assert.equal(s.queueId, o.produced.queueId, `${what}: queue Java reported`);
          assert.equal(s.queueOffset, o.produced.queueOffset, `${what}: offset Java reported`);
          assert.equal(s.msgId, s.uniqKey, `${what}: Java's getMsgId() is the UNIQ_KEY`);
          if (o.group !== 'batch') assert.equal(s.msgId, o.produced.msgId, `${what}: msgId Java reported on send`);
          else if (s.msgId !== o.produced.msgId) batchIdsRewritten++;
          assert.equal(s.bodyBase64, o.produced.bodyBase64, `${what}: body on the source`);
          assert.equal(s.tags, o.tags);
          assert.equal(s.keys, o.keys);
          assert.deepEqual(userProperties(s.properties), o.userProperties, `${what}: user properties on the source`);
          assert.equal(s.flag, o.flag, `${what}: flag on the source`);
          if (o.group.startsWith('large'))
            assert.notEqual(s.compression, null, `${what}: Java stored the ${s.bodyLength}-byte body compressed`);
        }
      }
      const all = [...originals.values()];
      const singles = all.filter((o) => o.group !== 'batch');
      const batched = all.filter((o) => o.group === 'batch');
      const batchBornTimes = new Set(batched.map((o) => `${o.topic}/${o.produced.queueId}/${o.stored!.bornTimestamp}`));
      t.diagnostic(
        `source: ${new Set(singles.map((o) => o.stored!.bornTimestamp)).size} distinct born times over ${singles.length} single sends; ` +
          `${batchBornTimes.size} (topic, queue, born time) groups over 6 Java batches; ` +
          `${new Set(batched.map((o) => o.stored!.msgId)).size} distinct stored msgIds over ${batched.length} batched messages ` +
          `(${batchIdsRewritten} differ from the SendResult's)`,
      );
      assert.ok(new Set(singles.map((o) => o.stored!.bornTimestamp)).size > 1, 'single sends have different born times');

      // 2 + 3. Java reads the target until all are there and nothing new arrives for 5 s.
      const replicas: Consumed[] = [];
      for (const topic of topics) {
        const { r, lines } = await javaRead(b.c, topic, PER_TOPIC, 5000, 300_000);
        if (r.exitCode !== 0) t.diagnostic(`consume target ${topic} (exit ${r.exitCode}): ${r.stderr.slice(-1500)}`);
        replicas.push(...lines);
      }

      // Matched by msgId; where the source holds several originals with one msgId (5.3.3 Java
      // batches), by the `seq` property among them.
      const matchKey = (topic: string, msgId: string | null, seq: string | undefined) => `${topic}|${msgId}|${seq}`;
      const byOriginal = new Map<string, Original>(all.map((o) => [matchKey(o.topic, o.stored!.msgId, String(o.index)), o]));
      const found = new Map<string, Consumed[]>();
      for (const m of replicas) {
        const k = matchKey(m.topic, m.msgId, m.properties.seq);
        found.set(k, [...(found.get(k) ?? []), m]);
      }
      const where = (m: Consumed) => `${m.topic}/${m.queueId}/${m.queueOffset}`;
      const missing = [...byOriginal]
        .filter(([k]) => !found.has(k))
        .map(([, o]) => `${o.topic}#${o.index}(${o.group}) ${o.stored!.msgId} at source ${where(o.stored!)}`);
      const duplicated = [...found].filter(([, ms]) => ms.length > 1).map(([k, ms]) => `${k} ×${ms.length} at ${ms.map(where).join(' ')}`);
      const unknown = [...found]
        .filter(([k]) => !byOriginal.has(k))
        .map(
          ([k, ms]) =>
            `${k} at ${ms.map(where).join(' ')} (origin ${ms[0]!.properties[ORIGIN.topic]}/${ms[0]!.properties[ORIGIN.queue]}/` +
            `${ms[0]!.properties[ORIGIN.offset]}, ${ms[0]!.properties[ORIGIN.msgId]})`,
        );
      assert.deepEqual({ missing, duplicated, unknown }, { missing: [], duplicated: [], unknown: [] }, 'exactly one replica per original');
      assert.equal(replicas.length, 2 * PER_TOPIC);

      const source = a.c.name;
      const target = b.c.name;
      const mismatches: string[] = [];
      const check = (o: Original, field: string, got: unknown, want: unknown) => {
        if (!isDeepStrictEqual(got, want))
          mismatches.push(
            `${o.topic}#${o.index}(${o.group}) ${o.stored!.msgId} ${field}: replica ${JSON.stringify(got)}, original ` +
              `${JSON.stringify(want)}`,
          );
      };
      for (const m of replicas) {
        const o = byOriginal.get(matchKey(m.topic, m.msgId, m.properties.seq))!;
        const s = o.stored!;
        check(o, 'topic', m.topic, s.topic);
        check(o, 'queueId', m.queueId, s.queueId);
        check(o, 'body', m.bodyBase64 === s.bodyBase64 ? 'equal' : `${m.bodyLength} bytes, differ`, 'equal');
        check(o, 'tags', m.tags, s.tags);
        check(o, 'keys', m.keys, s.keys);
        check(o, 'user properties', userProperties(m.properties), userProperties(s.properties));
        for (const [k, v] of Object.entries(o.userProperties)) check(o, `property ${k}`, m.properties[k], v);
        check(o, 'flag', m.flag, s.flag);
        check(o, 'bornTimestamp', m.bornTimestamp, s.bornTimestamp);
        check(o, 'msgId', m.msgId, s.msgId);
        check(o, 'UNIQ_KEY', m.uniqKey, s.uniqKey);
        const provenance: Record<string, string> = {
          [ORIGIN.cluster]: source,
          [ORIGIN.msgId]: s.uniqKey!,
          [ORIGIN.topic]: s.topic,
          [ORIGIN.broker]: s.brokerName,
          [ORIGIN.queue]: String(s.queueId),
          [ORIGIN.offset]: String(s.queueOffset),
          [ORIGIN.bornTimestamp]: String(s.bornTimestamp),
          [ORIGIN.storeTimestamp]: String(s.storeTimestamp),
          [ORIGIN.path]: `${source},${target}`,
          [HOP.cluster]: source,
          [HOP.broker]: s.brokerName,
          [HOP.queue]: String(s.queueId),
          [HOP.offset]: String(s.queueOffset),
          [HOP.generation]: '0',
        };
        for (const [k, v] of Object.entries(provenance)) check(o, k, m.properties[k], v);
      }
      const byField = new Map<string, number>();
      for (const x of mismatches) {
        const field = x.split(' ').slice(2).join(' ').split(':')[0]!;
        byField.set(field, (byField.get(field) ?? 0) + 1);
      }
      assert.equal(
        mismatches.length,
        0,
        `${mismatches.length} field mismatches (${[...byField].map(([f, n]) => `${f}: ${n}`).join(', ')}):\n` +
          `${mismatches.slice(0, 60).join('\n')}`,
      );

      await api('POST', `/v1/tasks/${created.body.id}/stop`);
    });
  });
}
