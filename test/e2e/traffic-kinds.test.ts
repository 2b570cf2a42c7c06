// Kinds of traffic end to end, written and read by Apache's own Java client (FerryPeer) through tasks
// on the local runtime, on 5.3.3 (v5 → v5acl) and 4.9.7 (v4 → v4acl) side by side:
// - compressed bodies (ZLIB; LZ4 and ZSTD too on 5.3.3) arrive as the original bytes, once each;
// - transactional messages: only committed ones are replicated, each once, a late commit only after
//   it happened; half/op messages (system topics) never are, and a replica is a plain message;
// - ordered traffic (a 5.x FIFO topic with message groups, a 4.x ordered topic with keys): per key the
//   target holds exactly the source order, and the target topic made by metadata sync keeps its type;
// - size limits: a body of exactly the source's maxMessageSize (4 MiB) arrives intact; a message whose
//   replica Ferry's provenance pushes over RocketMQ's 32,767-byte property limit is parked with that
//   reason, tried at most twice (once in its batch, once alone), and the queue carries on past it.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StoredMessage } from '../../shared/rocketmq/message.ts';
import { ORIGIN } from '../../shared/replication/origin.ts';
import { encodeProperties } from '../../shared/rocketmq/remoting/message-codec.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { javaConsume, javaPeer, type JavaPeerResult } from '../testbed/java-peer.ts';
import { mqadmin } from '../testbed/mqadmin.ts';
import { isV5 } from '../testbed/versions.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster, type TestbedKey } from '../support/testbed.ts';

interface Produced {
  msgId: string;
  offsetMsgId: string | null;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  sendStatus: string;
  bodyBase64: string;
  bodyLength: number;
  orderKey?: string;
  index?: number;
  localState?: string;
}

interface Consumed {
  topic: string;
  queueId: number;
  queueOffset: number;
  msgId: string;
  bodyBase64: string;
  bodyLength: number;
  properties: Record<string, string>;
  storeTimestamp: number;
  sysFlag: number;
  compression: string | null;
}

const MAX_MESSAGE_SIZE = 4 * 1024 * 1024;
const MAX_PROPERTIES = 32_767;
/** A property value that leaves the source message just under MAX_PROPERTIES and its replica over it. */
const PAD = 32_500;
const NO_COMPRESSION = String(2 ** 31 - 1);
const TXN_HALF = 'RMQ_SYS_TRANS_HALF_TOPIC';
const TXN_OP = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';
/** MessageSysFlag transaction bits: 0 a plain message, 0x8 a committed one. */
const TRANSACTION_BITS = 0xc;
const TRANSACTION_COMMIT = 0x8;
/** Properties of a transaction's bookkeeping, none of which a replica may carry. */
const TRANSACTION_PROPERTIES = [
  'TRAN_MSG',
  'PGROUP',
  'REAL_TOPIC',
  'REAL_QID',
  'TRAN_PREPARED_QUEUE_OFFSET',
  '__transactionId__',
  'TRANSACTION_CHECK_TIMES',
];

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const creds = (c: ClusterInfo): string[] => (c.acl ? ['--ak', c.acl.accessKey, '--sk', c.acl.secretKey] : []);

function ok(r: JavaPeerResult, what: string): void {
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}):\n${r.stderr.slice(-3000)}`);
}

async function until<T>(what: string, fn: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!done(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 500));
    v = await fn();
  }
  return v;
}

async function produce(c: ClusterInfo, topic: string, args: string[], what: string): Promise<Produced[]> {
  const base = ['produce', '--namesrv', c.nameServer, '--topic', topic, ...creds(c)];
  const r = await javaPeer(c.version, [...base, ...args], { timeoutMs: 180_000 });
  ok(r, what);
  const lines = r.lines as Produced[];
  for (const p of lines) assert.equal(p.sendStatus, 'SEND_OK', `${what}: ${JSON.stringify(p).slice(0, 300)}`);
  return lines;
}

/** Java's consumer on every queue of the topic until it has `expect` and nothing new came for 3 s. */
async function javaRead(c: ClusterInfo, topic: string, expect: number): Promise<Consumed[]> {
  const args = ['--namesrv', c.nameServer, '--topic', topic, '--expect', String(expect), '--timeout-ms', '60000'];
  const r = await javaConsume(c.version, [...args, '--quiet-ms', '3000', ...creds(c)], expect, { timeoutMs: 120_000 });
  ok(r, `Java consumer on ${c.name}/${topic}`);
  return r.lines as Consumed[];
}

/** Every message of the topic's queues, read with Ferry's remoting client (for preconditions and waits). */
async function pullAll(s: Side, topic: string, queues: number): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  for (let queueId = 0; queueId < queues; queueId++) {
    for (let offset = await s.broker.minOffset(s.addr, topic, queueId); ; ) {
      const r = await s.broker.pull(s.addr, { topic, queueId, offset, maxMessages: 32 });
      if (r.messages.length === 0) break;
      out.push(...r.messages);
      offset = r.nextBeginOffset;
    }
  }
  return out;
}

/** Compression as the stored sysFlag records it (bits 8–10 the type, bit 0 alone legacy ZLIB). */
function compressionOf(sysFlag: number): string | null {
  if ((sysFlag & 0x1) === 0) return null;
  return ({ 1: 'LZ4', 2: 'ZSTD', 3: 'ZLIB' } as Record<number, string>)[(sysFlag >> 8) & 0x7] ?? 'ZLIB';
}

const seqOf = (m: { properties: Record<string, string> }): number => Number(m.properties.seq);
const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((s, x) => s + f(x), 0);

describe('traffic kinds on real clusters', { concurrency: 2 }, () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;

  before(async () => {
    rt = await startRuntime({
      store: 'embedded',
      env: { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '10000', FERRY_METADATA_SYNC_INTERVAL_MS: '3000' },
    });
    api = client(rt);
  });
  after(async () => {
    await rt?.stop();
  });

  const startTask = async (name: string, a: Side, b: Side, topics: string[]): Promise<string> => {
    const r = await api('POST', '/v1/tasks', {
      name,
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      startOffset: { type: 'earliest' },
      filter: { topics: { include: topics, exclude: [] } },
      // Only the named topics: the test bed's consumer groups' retry topics (carried by default) would
      // blur the count of copied queues that shows no system topic is copied.
      offsetSync: { nothingLeftBehind: false },
    });
    assert.equal(r.status, 201, r.text);
    await waitForStatus(api, r.body.id, 'running', 120_000);
    return r.body.id as string;
  };
  /** The runtime's JSON log lines with this message. */
  const logged = <T>(msg: string): T[] =>
    rt
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes(`"msg":"${msg}"`))
      .map((l) => JSON.parse(l) as T);
  const totals = async (id: string) => {
    const points = (await api('GET', `/v1/tasks/${id}/metrics`)).body.points as { consumed: number; replicated: number; failed: number }[];
    return { consumed: sum(points, (p) => p.consumed), replicated: sum(points, (p) => p.replicated), failed: sum(points, (p) => p.failed) };
  };

  for (const [from, to] of [
    ['v5', 'v5acl'],
    ['v4', 'v4acl'],
  ] as [TestbedKey, TestbedKey][]) {
    describe(`${from} → ${to}`, { concurrency: 1 }, () => {
      let a: Side;
      let b: Side;
      let v5: boolean;
      const topicFor = (kind: string) => `tk_${kind}_${from}_${run}`;
      const createTopic = (s: Side, topic: string, queues: number, extra: Record<string, unknown> = {}) => {
        const cfg = { topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6, ...extra };
        return s.admin.createOrUpdateTopicInCluster(s.c.name, cfg);
      };

      before(async () => {
        a = side(await testCluster(from));
        b = side(await testCluster(to));
        v5 = isV5(a.c.version);
      });
      after(() => {
        a?.remoting.close();
        b?.remoting.close();
      });

      it('compressed bodies arrive as the original bytes, uncompressed, once each', async () => {
        const topic = topicFor('zip');
        await Promise.all([createTopic(a, topic, 4), createTopic(b, topic, 4)]);
        const id = await startTask(`zip-${from}`, a, b, [topic]);
        // Per compression type 8 messages: text bodies of 5,000 bytes (repeating, so they shrink), and
        // overrides: small ones under the 1,024-byte threshold (sent as they are), random ones (which
        // compress to more than they were) and a 2 MiB one.
        const sizes = ['0=100', '2=50000:random', '3=2097152', '4=65536', '5=2000:random', '7=300'];
        const produced = new Map<string, { type: string; p: Produced }>();
        for (const [k, type] of (v5 ? ['ZLIB', 'LZ4', 'ZSTD'] : ['ZLIB']).entries()) {
          const base = k * 100;
          const lines = await produce(
            a.c,
            topic,
            [
              ...['--count', '8', '--index-from', String(base), '--body-size', '5000', '--prop', 'seq={i}'],
              ...['--compress-over', '1024', '--compress-type', type],
              ...sizes.flatMap((s) => ['--body-size-at', `${base + Number(s.split('=')[0])}=${s.split('=')[1]}`]),
            ],
            `produce ${type}`,
          );
          for (const p of lines) produced.set(p.msgId, { type, p });
        }

        // Precondition: the source stored bodies over the threshold compressed with the producer's type.
        const stored = await pullAll(a, topic, 4);
        assert.equal(stored.length, produced.size, 'the source holds what Java wrote');
        for (const m of stored) {
          const o = produced.get(m.uniqKey!);
          assert.ok(o, `source message ${m.uniqKey} was written by the test`);
          assert.equal(compressionOf(m.sysFlag), o.p.bodyLength > 1024 ? o.type : null, `${o.type} #${seqOf(m)} stored compression`);
        }

        const replicas = await javaRead(b.c, topic, produced.size);
        const seen = new Set<string>();
        for (const m of replicas) {
          const o = produced.get(m.msgId);
          assert.ok(o, `replica ${m.msgId} at ${m.queueId}/${m.queueOffset} has an original`);
          assert.ok(!seen.has(m.msgId), `${m.msgId} replicated once`);
          seen.add(m.msgId);
          const what = `${o.type} #${seqOf(m)} (${o.p.bodyLength} bytes)`;
          assert.equal(m.bodyLength, o.p.bodyLength, `${what}: size`);
          assert.ok(m.bodyBase64 === o.p.bodyBase64, `${what}: body byte for byte`);
          assert.equal(m.compression, null, `${what}: stored uncompressed on the target`);
        }
        assert.equal(seen.size, produced.size, 'every original replicated');
        await api('POST', `/v1/tasks/${id}/stop`);
      });

      it('replicates committed transactional messages only, each once, a late commit only after it', async () => {
        const topic = topicFor('txn');
        // The target topic is left to metadata sync (on 5.x with the TRANSACTION type).
        await createTopic(a, topic, 2, v5 ? { attributes: { 'message.type': 'TRANSACTION' } } : {});
        // The system topics of transactions are named in the task: Ferry must still leave them alone.
        const id = await startTask(`txn-${from}`, a, b, [topic, TXN_HALF, TXN_OP]);
        const signal = join(tmpdir(), `ferry-late-commit-${topic}`);
        // Indexes 0..9: even ones committed at once, odd ones rolled back, #3 left open and committed late.
        const producing = javaPeer(
          a.c.version,
          [
            ...['produce-txn', '--namesrv', a.c.nameServer, '--topic', topic, ...creds(a.c), '--count', '10'],
            ...['--body-text', 'txn {i} ✓', '--prop', 'seq={i}', '--late-index', '3', '--late-commit-file', signal],
          ],
          { timeoutMs: 300_000 },
        );
        let ended: JavaPeerResult | undefined;
        void producing.then((r) => (ended = r));
        const onTarget = async () => (await pullAll(b, topic, 2).catch(() => [])).map(seqOf).sort((x, y) => x - y);
        const early = await until('the replicas committed at once', onTarget, (s) => s.length >= 5 || !!ended, 180_000);
        if (ended) ok(ended, 'produce-txn (ended before the late commit)');

        // While #3 is open: its half message is on the source (so Ferry could have read it), it is in
        // neither the source topic nor the target, and the target has exactly the five committed ones.
        const halves = await pullAll(a, TXN_HALF, 1);
        assert.ok(
          halves.some((m) => m.properties.REAL_TOPIC === topic && m.properties.seq === '3'),
          'the open transaction is a half message on the source',
        );
        assert.deepEqual((await pullAll(a, topic, 2)).map(seqOf).sort(), [0, 2, 4, 6, 8], 'source topic before the late commit');
        assert.deepEqual(early, [0, 2, 4, 6, 8], 'target before the late commit: the committed ones only');

        writeFileSync(signal, 'commit');
        const r = await producing;
        rmSync(signal, { force: true });
        ok(r, 'produce-txn');
        const lines = r.lines as (Produced & { lateCommit?: number; committedAt?: number })[];
        const sends = lines.filter((l) => l.lateCommit === undefined);
        const lateCommit = lines.find((l) => l.lateCommit === 3);
        assert.ok(lateCommit?.committedAt, 'the peer committed #3 late');
        assert.deepEqual(
          sends.map((p) => `${p.index}:${p.localState}`),
          [...Array(10).keys()].map((i) => `${i}:${i === 3 ? 'UNKNOW' : i % 2 === 0 ? 'COMMIT_MESSAGE' : 'ROLLBACK_MESSAGE'}`),
        );
        const byIndex = new Map(sends.map((p) => [p.index!, p]));

        // The source holds the six committed messages as committed transactional ones.
        const source = await until(
          'the late commit on the source',
          () => pullAll(a, topic, 2),
          (ms) => ms.length >= 6,
        );
        assert.deepEqual(source.map(seqOf).sort(), [0, 2, 3, 4, 6, 8]);
        for (const m of source) {
          assert.equal(m.sysFlag & TRANSACTION_BITS, TRANSACTION_COMMIT, `source #${seqOf(m)} is a committed transactional message`);
          assert.equal(m.properties.TRAN_MSG, 'true');
        }

        const replicas = await javaRead(b.c, topic, 6);
        assert.deepEqual(replicas.map(seqOf).sort(), [0, 2, 3, 4, 6, 8], 'committed ones only, each once');
        for (const m of replicas) {
          const p = byIndex.get(seqOf(m))!;
          assert.equal(m.msgId, p.msgId, `#${seqOf(m)}: producer's message id`);
          assert.equal(m.bodyBase64, p.bodyBase64, `#${seqOf(m)}: body`);
          assert.equal(m.sysFlag & TRANSACTION_BITS, 0, `#${seqOf(m)}: a plain message on the target`);
          for (const k of TRANSACTION_PROPERTIES) assert.equal(m.properties[k], undefined, `#${seqOf(m)}: no ${k} on the replica`);
        }
        const late = replicas.find((m) => seqOf(m) === 3)!;
        assert.ok(late.storeTimestamp >= lateCommit.committedAt!, `#3 stored on the target after its commit`);

        // Ferry copied the topic's two queues and nothing of the system topics (every invocation's
        // shard lists 2 queues); nothing of theirs reached the target's transaction topics.
        const copying = logged<{ taskId: string; queues: number }>('shard copying').filter((l) => l.taskId === id);
        assert.ok(copying.length > 0);
        assert.deepEqual(new Set(copying.map((l) => l.queues)), new Set([2]), "only the topic's queues are copied");
        const t = await until(
          'metrics of the six',
          () => totals(id),
          (x) => x.replicated >= 6,
        );
        assert.deepEqual({ replicated: t.replicated, failed: t.failed }, { replicated: 6, failed: 0 });
        assert.ok(t.consumed >= 6);
        const targetTopics = await b.admin.getAllTopicConfigs(b.addr);
        for (const sys of [TXN_HALF, TXN_OP]) {
          const cfg = targetTopics.get(sys);
          if (!cfg) continue;
          const copied = (await pullAll(b, sys, cfg.readQueueNums)).filter((m) => m.properties[ORIGIN.cluster] !== undefined);
          assert.deepEqual(copied, [], `no replica in the target's ${sys}`);
        }
        await api('POST', `/v1/tasks/${id}/stop`);
      });

      it('keeps the order per key (message group) and the ordered/FIFO topic type', async () => {
        const topic = topicFor('fifo');
        const queues = 4;
        const groups = 6;
        const count = 60;
        // The target topic is made by metadata sync. A 4.x ordered topic is made the 4.x way, with
        // Apache's mqadmin (the name servers' ORDER_TOPIC_CONFIG, which the broker takes at its next
        // registration).
        if (v5) await createTopic(a, topic, queues, { attributes: { 'message.type': 'FIFO' } });
        else {
          const args = ['updateTopic', '-n', a.c.nameServer, '-c', a.c.name, '-t', topic, '-r', String(queues), '-w', String(queues)];
          const made = await mqadmin(a.c.version, [...args, '-o', 'true'], { credentials: a.c.acl });
          assert.match(made.stdout, /isOrder=true/, made.stdout + made.stderr);
        }
        const id = await startTask(`fifo-${from}`, a, b, [topic]);
        const sent = await produce(
          a.c,
          topic,
          [
            ...['--count', String(count), '--body-text', 'fifo {i} 顺序', '--prop', 'seq={i}'],
            ...['--order-key', `grp-{i%${groups}}`, ...(v5 ? ['--message-group'] : [])],
          ],
          'ordered produce',
        );
        // Precondition: each key's messages went to one source queue, in send order.
        const sourceQueue = new Map<string, number>();
        for (const [i, p] of sent.entries()) {
          assert.equal(p.orderKey, `grp-${i % groups}`);
          assert.equal(sourceQueue.get(p.orderKey) ?? p.queueId, p.queueId, `${p.orderKey}: one source queue`);
          sourceQueue.set(p.orderKey, p.queueId);
        }
        assert.ok(new Set(sourceQueue.values()).size > 1, 'the keys spread over several queues');

        // The Java consumer starts once metadata sync has made the target topic and the replicas are in.
        const stored = async () =>
          sum(await Promise.all([...Array(queues).keys()].map((q) => b.broker.maxOffset(b.addr, topic, q))), (n) => n);
        await until(
          'the replicas on the target',
          () => stored().catch(() => 0),
          (n) => n >= count,
        );
        const replicas = await javaRead(b.c, topic, count);
        assert.equal(replicas.length, count, 'nothing lost or duplicated');
        assert.deepEqual(
          replicas.map(seqOf).sort((x, y) => x - y),
          [...Array(count).keys()],
        );
        const byKey = new Map<string, Consumed[]>();
        for (const m of replicas) {
          const key = `grp-${seqOf(m) % groups}`;
          if (v5) assert.equal(m.properties.__SHARDINGKEY, key, `#${seqOf(m)}: message group kept`);
          byKey.set(key, [...(byKey.get(key) ?? []), m]);
        }
        for (const [key, ms] of byKey) {
          assert.deepEqual(new Set(ms.map((m) => m.queueId)), new Set([sourceQueue.get(key)]), `${key}: the same queue on the target`);
          const order = ms.sort((x, y) => x.queueOffset - y.queueOffset).map(seqOf);
          const want = sent.map((_, i) => i).filter((i) => `grp-${i % groups}` === key);
          assert.deepEqual(order, want, `${key}: target order is the source order`);
        }
        // 4.x: the target broker takes the order flag Ferry wrote to its name servers at its next
        // registration (every 30 s), after the source broker did the same with mqadmin's.
        const cfg = await until(
          'the target topic with its type',
          async () => (await b.admin.getAllTopicConfigs(b.addr)).get(topic),
          (c) => c !== undefined && (v5 || c.order),
        );
        assert.ok(cfg, 'metadata sync made the target topic');
        assert.equal(cfg.readQueueNums, queues);
        if (v5) assert.equal(cfg.attributes['message.type'], 'FIFO', 'the target topic is a FIFO topic');
        else assert.equal(cfg.order, true, 'the target topic is an ordered topic');
        await api('POST', `/v1/tasks/${id}/stop`);
      });

      it('carries a 4 MiB body intact and parks a replica over the property limit once, moving on', async () => {
        const topic = topicFor('limit');
        await Promise.all([createTopic(a, topic, 2), createTopic(b, topic, 2)]);
        const id = await startTask(`limit-${from}`, a, b, [topic]);
        const common = ['--queue', '0', '--body-text', 'limit {i}', '--prop', 'seq={i}', '--compress-over', NO_COMPRESSION];
        // #0–#8 in Java batches of three (a batch shares one born time, so Ferry sends it as one batch);
        // #4, in the middle, carries a property that leaves no room for Ferry's provenance.
        const first = await produce(a.c, topic, [...common, '--count', '9', '--batch', '3', '--pad-prop-at', `4=pad:${PAD}`], 'batches');
        const stored = await pullAll(a, topic, 1);
        const padded = stored.find((m) => seqOf(m) === 4)!;
        assert.equal(padded.properties.pad?.length, PAD, 'the source stored #4 with its property');
        assert.ok(Buffer.byteLength(encodeProperties(padded.properties)) <= MAX_PROPERTIES, 'within the limit on the source');
        assert.equal(padded.queueOffset, first[4]!.queueOffset);

        const failures = () => api('GET', `/v1/tasks/${id}/failures`).then((r) => r.body.items as Record<string, unknown>[]);
        const parked = await until('the parked replica', failures, (items) => items.length > 0);
        const attempts = () =>
          logged<{ queue: string; from: number; to: number; failure: string }>('send failed').filter(
            (l) => l.queue === `${topic}/${a.c.brokers[0]!.name}/0` && l.from <= padded.queueOffset && padded.queueOffset <= l.to,
          );
        const triedBefore = attempts();

        // #9 (a body of exactly the source's maxMessageSize, random so it does not compress) and #10,
        // #11 after it on the same queue.
        const second = await produce(
          a.c,
          topic,
          [...common, '--index-from', '9', '--count', '3', '--body-size-at', `9=${MAX_MESSAGE_SIZE}:random`],
          'singles',
        );
        assert.equal(second[0]!.bodyLength, MAX_MESSAGE_SIZE);
        const replicas = await javaRead(b.c, topic, 11);
        const want = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11];
        assert.deepEqual(replicas.sort((x, y) => x.queueOffset - y.queueOffset).map(seqOf), want, 'everything else, once, in source order');
        const all = [...first, ...second];
        for (const m of replicas) {
          assert.equal(m.queueId, 0);
          assert.equal(m.bodyLength, all[seqOf(m)]!.bodyLength, `#${seqOf(m)}: size`);
          assert.ok(m.bodyBase64 === all[seqOf(m)]!.bodyBase64, `#${seqOf(m)}: body byte for byte`);
        }

        assert.equal(parked.length, 1, 'one message parked');
        assert.equal(parked[0]!.queueOffset, padded.queueOffset);
        assert.equal(parked[0]!.queueId, 0);
        assert.match(String(parked[0]!.reason), new RegExp(`properties take \\d+ bytes, over RocketMQ's limit of ${MAX_PROPERTIES}`));
        assert.deepEqual(await failures(), parked, 'still the one parked message');
        const tried = attempts();
        assert.ok(tried.length >= 1 && tried.length <= 2, `#4 tried in its batch and alone at most: ${JSON.stringify(tried)}`);
        assert.deepEqual(tried, triedBefore, 'no send of #4 after it was parked');
        const t = await until(
          'metrics',
          () => totals(id),
          (x) => x.replicated >= want.length && x.failed >= 1,
        );
        assert.deepEqual({ replicated: t.replicated, failed: t.failed }, { replicated: want.length, failed: 1 });
        await api('POST', `/v1/tasks/${id}/stop`);
      });
    });
  }
});
