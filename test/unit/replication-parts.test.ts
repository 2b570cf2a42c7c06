// The replicator's pure parts: shard assignment and auto sizing, queue mapping, the loop rule and
// provenance, topology-aware forwarding (mesh, ring, chain), batches that keep born time exact, send-failure classes, the retry policy, the
// rate limiter, the shared byte budget, start offsets (against a fake broker port) and the
// checkpoint writer (against a fake of the store's checkpoint port).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterConnection } from '../../shared/clusters/connect.ts';
import { FerryError } from '../../shared/errors.ts';
import { autoShardCount, isOwnQueue, QUEUES_PER_SHARD, shardCountFor, shardOf } from '../../shared/replication/assignment.ts';
import { CheckpointWriter } from '../../shared/replication/checkpoint-writer.ts';
import { batchesOf, classifySendFailure, fromParked, parkedProperties, RetryPolicy } from '../../shared/replication/delivery.ts';
import { hopOffset, isTrusted, ORIGIN, taskSigner, toReplica, wouldLoop } from '../../shared/replication/origin.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { readableQueues, targetFor, writableQueues, type SourceQueue } from '../../shared/replication/queues.ts';
import { RateLimiter } from '../../shared/replication/rate-limiter.ts';
import { ByteBudget } from '../../shared/replication/read-ahead.ts';
import { startCheckpoints } from '../../shared/replication/start-offsets.ts';
import { Topology, type Route } from '../../shared/replication/topology.ts';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import type { CheckpointEntry, CheckpointStore } from '../../shared/store/store.ts';
import {
  BrokerBusyError,
  MessageRejectedError,
  RemotingConnectError,
  RemotingConnectionClosedError,
  RemotingTimeoutError,
  responseError,
  ResponseCode,
  TopicNotFoundError,
} from '../../shared/rocketmq/remoting/errors.ts';
import { InvalidPropertyError, MessageEncodeError } from '../../shared/rocketmq/remoting/message-codec.ts';

const queue = (topic: string, queueId: number, brokerName = 'broker-a'): SourceQueue => ({
  topic,
  brokerName,
  address: '127.0.0.1:1',
  queueId,
});

describe('shard assignment', () => {
  it('puts every queue in exactly one shard, the same one every time, spread over all shards', () => {
    const queues = Array.from({ length: 4000 }, (_, i) => queue(`t${i % 500}`, i % 8));
    const counts = new Array(8).fill(0);
    for (const q of queues) {
      const s = shardOf(q, 8);
      assert.equal(shardOf(q, 8), s);
      counts[s]++;
      assert.equal([...Array(8).keys()].filter((shard) => isOwnQueue(q, { shard, shards: 8 })).length, 1);
    }
    for (const c of counts) assert.ok(c > 350 && c < 650, `shards are balanced: ${counts.join(',')}`);
    assert.ok(isOwnQueue(queues[0]!, { shard: 0 }), 'no shard count: one shard owns everything');
  });

  it('sizes auto shards from queue count, grows with a backlog, shrinks once caught up, and waits between changes', () => {
    const idle = { lag: 0, rate: 0 };
    assert.equal(autoShardCount({ queues: 8, ...idle }, 1, Infinity), 1);
    assert.equal(autoShardCount({ queues: QUEUES_PER_SHARD * 3, ...idle }, 1, 0), 3, 'more queues than one shard keeps: grow at once');
    assert.equal(autoShardCount({ queues: 64, lag: null, rate: null }, 4, Infinity), 4, 'nothing reported: keep');
    // 1,000,000 behind at 5,000/s is 200 s: more than a minute, so grow (at most doubling).
    assert.equal(autoShardCount({ queues: 64, lag: 1_000_000, rate: 5000 }, 1, Infinity), 2);
    assert.equal(autoShardCount({ queues: 64, lag: 1_000_000, rate: 5000 }, 4, Infinity), 8);
    assert.equal(autoShardCount({ queues: 64, lag: 1_000_000, rate: 5000 }, 4, 10_000), 4, 'too soon after the last change');
    assert.equal(autoShardCount({ queues: 4, lag: 1_000_000, rate: 100 }, 4, Infinity), 4, 'never more shards than queues');
    assert.equal(autoShardCount({ queues: 64, lag: 100_000, rate: 5000 }, 4, Infinity), 4, 'behind by 20 s: hold');
    assert.equal(autoShardCount({ queues: 64, lag: 1000, rate: 5000 }, 4, 60_000), 4, 'caught up, but shrinking waits longer');
    assert.equal(autoShardCount({ queues: 64, lag: 1000, rate: 5000 }, 4, 200_000), 1, 'caught up: back to the base');
    assert.equal(shardCountFor(5, { queues: 64, lag: 0, rate: 0 }, 1, 0), 5, 'pinned');
    assert.equal(shardCountFor(5, { queues: 2, lag: 0, rate: 0 }, 1, 0), 2, 'pinned, but not above the queue count');
    assert.equal(shardCountFor('auto', { queues: 0, lag: null, rate: null }, undefined, 0), 1, 'a first plan');
  });
});

describe('queue mapping', () => {
  const route = {
    brokerDatas: [
      { cluster: 'c', brokerName: 'broker-b', brokerAddrs: { '0': '127.0.0.1:20' } },
      { cluster: 'c', brokerName: 'broker-a', brokerAddrs: { '0': '127.0.0.1:10' } },
    ],
    queueDatas: [
      { brokerName: 'broker-b', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
      { brokerName: 'broker-a', readQueueNums: 3, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
    ],
  };

  it('orders queues by id then broker and maps source index i to target queue i mod n', () => {
    const src = readableQueues('t', route);
    assert.deepEqual(
      src.map((q) => `${q.brokerName}/${q.queueId}`),
      ['broker-a/0', 'broker-b/0', 'broker-a/1', 'broker-b/1', 'broker-a/2'],
    );
    const dst = writableQueues(route);
    assert.deepEqual(
      dst.map((q) => `${q.brokerName}/${q.queueId}`),
      ['broker-a/0', 'broker-b/0', 'broker-b/1'],
    );
    assert.deepEqual(
      src.map((_, i) => `${targetFor(i, dst)!.brokerName}/${targetFor(i, dst)!.queueId}`),
      ['broker-a/0', 'broker-b/0', 'broker-b/1', 'broker-a/0', 'broker-b/0'],
    );
    assert.equal(targetFor(3, [])?.queueId, undefined);
  });

  /** A route of one topic: per broker name, its queue count. */
  const layout = (counts: Record<string, number>) => ({
    brokerDatas: Object.keys(counts).map((b, i) => ({ cluster: 'c', brokerName: b, brokerAddrs: { '0': `127.0.0.1:${10 + i}` } })),
    queueDatas: Object.entries(counts).map(([b, n]) => ({ brokerName: b, readQueueNums: n, writeQueueNums: n, perm: 6, topicSysFlag: 0 })),
  });
  /** Where each source queue lands, as `broker/queue`, and how many source queues each target queue takes. */
  const mapping = (from: Record<string, number>, to: Record<string, number>) => {
    const dst = writableQueues(layout(to));
    const lands = new Map<string, string>();
    const load = new Map(dst.map((t) => [`${t.brokerName}/${t.queueId}`, 0]));
    readableQueues('t', layout(from)).forEach((q, i) => {
      const t = targetFor(i, dst)!;
      lands.set(`${q.brokerName}/${q.queueId}`, `${t.brokerName}/${t.queueId}`);
      load.set(`${t.brokerName}/${t.queueId}`, load.get(`${t.brokerName}/${t.queueId}`)! + 1);
    });
    return { lands, load: [...load.values()] };
  };

  it('equal layouts map queue q of the k-th broker to queue q of the k-th target broker', () => {
    const { lands } = mapping({ s1: 4, s0: 4 }, { t0: 4, t1: 4 });
    for (const [b, t] of [
      ['s0', 't0'],
      ['s1', 't1'],
    ])
      for (let q = 0; q < 4; q++) assert.equal(lands.get(`${b}/${q}`), `${t}/${q}`);
    const uneven = mapping({ s0: 6, s1: 2 }, { t0: 6, t1: 2 }).lands;
    assert.deepEqual(
      [...uneven.values()],
      [...uneven.keys()].map((k) => k.replace('s', 't')),
    );
  });

  it('spreads fewer source queues over every target broker and more over every target queue evenly', () => {
    // One source broker onto two target brokers with the same count each: half on each broker.
    const wider = mapping({ s0: 8 }, { t0: 8, t1: 8 });
    assert.deepEqual([...wider.lands.values()], ['t0/0', 't1/0', 't0/1', 't1/1', 't0/2', 't1/2', 't0/3', 't1/3']);
    // Two source brokers onto wider target topics: still queue for queue, broker for broker.
    assert.deepEqual(
      [...mapping({ s0: 4, s1: 4 }, { t0: 8, t1: 8 }).lands.values()],
      [...mapping({ s0: 4, s1: 4 }, { t0: 4, t1: 4 }).lands.values()],
    );
    // More source queues than target queues: every target queue takes ⌊m/n⌋ or ⌈m/n⌉ of them.
    assert.deepEqual(mapping({ s0: 8 }, { t0: 4 }).load, [2, 2, 2, 2]);
    assert.deepEqual(mapping({ s0: 4, s1: 4 }, { t0: 2, t1: 1 }).load.sort(), [2, 3, 3]);
    assert.deepEqual(mapping({ s0: 8 }, { t0: 16 }).load, [...new Array(8).fill(1), ...new Array(8).fill(0)]);
    assert.equal(mapping({ s0: 8 }, { t0: 4 }).lands.get('s0/5'), 't0/1');
  });

  it('leaves out unreadable and unwritable queues', () => {
    const readOnly = { ...route, queueDatas: route.queueDatas.map((q) => ({ ...q, perm: 4 })) };
    assert.equal(writableQueues(readOnly).length, 0);
    assert.equal(readableQueues('t', readOnly).length, 5);
  });
});

const stored = (over: Partial<StoredMessage> = {}): StoredMessage => ({
  topic: 'orders',
  queueId: 3,
  queueOffset: 42,
  commitLogOffset: 1000,
  msgId: 'OFFSETID',
  uniqKey: 'UNIQ',
  body: Buffer.from('hello'),
  bodyCRC: 0,
  flag: 5,
  sysFlag: 0,
  bornTimestamp: 1_700_000_000_001,
  bornHost: '127.0.0.1:1',
  storeTimestamp: 1_700_000_000_009,
  storeHost: '127.0.0.1:2',
  reconsumeTimes: 0,
  preparedTransactionOffset: 0,
  tags: 'TagA',
  keys: ['k1', 'k2'],
  properties: { TAGS: 'TagA', KEYS: 'k1 k2', UNIQ_KEY: 'UNIQ', color: 'red' },
  ...over,
});

describe('loop rule and provenance', () => {
  const signer = taskSigner(aesGcmCipher(Buffer.alloc(32, 3)), 'tenant', 'task-1');
  it('a first hop records the origin and a path of two; the next hop keeps the origin and grows the path', () => {
    const r1 = toReplica(stored(), { clusterId: 'A', brokerName: 'broker-a', generation: 0 }, 'B', signer, false);
    assert.equal(r1.properties![ORIGIN.path], 'A,B');
    assert.equal(r1.properties![ORIGIN.cluster], 'A');
    assert.equal(r1.properties![ORIGIN.offset], '42');
    assert.deepEqual(
      [r1.flag, r1.bornTimestamp, r1.uniqKey, r1.tags, r1.keys, r1.properties!.color],
      [5, 1_700_000_000_001, 'UNIQ', 'TagA', ['k1', 'k2'], 'red'],
    );
    const onB = stored({ properties: { ...r1.properties!, TAGS: 'TagA' }, queueOffset: 7 });
    assert.equal(isTrusted(onB, signer), true);
    assert.equal(wouldLoop(onB, 'B', 'A', true), true, 'back to where it came from');
    assert.equal(wouldLoop(onB, 'B', 'C', true), false);
    const r2 = toReplica(onB, { clusterId: 'B', brokerName: 'broker-b', generation: 0 }, 'C', signer, true);
    assert.equal(r2.properties![ORIGIN.path], 'A,B,C');
    assert.equal(r2.properties![ORIGIN.cluster], 'A');
    assert.equal(r2.properties![ORIGIN.offset], '42', 'origin offset kept');
    assert.equal(
      hopOffset(stored({ properties: r2.properties! }), { clusterId: 'B', brokerName: 'broker-b', queueId: 3, generation: 0 }, signer),
      7,
    );
    assert.equal(
      hopOffset(stored({ properties: r2.properties! }), { clusterId: 'B', brokerName: 'broker-b', queueId: 3, generation: 1 }, signer),
      undefined,
      'another replay generation',
    );
    assert.equal(wouldLoop(stored(), 'A', 'A', false), true, 'never to the cluster it is on');
  });

  it("a committed transactional message's replica is a plain message: none of the transaction's bookkeeping", () => {
    const bookkeeping = {
      TRAN_MSG: 'true',
      PGROUP: 'producer-group',
      REAL_TOPIC: 'orders',
      REAL_QID: '3',
      TRAN_PREPARED_QUEUE_OFFSET: '17',
      __transactionId__: 'UNIQ',
      TRANSACTION_CHECK_TIMES: '2',
    };
    const m = stored({ sysFlag: 0x8, properties: { ...stored().properties, ...bookkeeping, __SHARDINGKEY: 'g1' } });
    const r = toReplica(m, { clusterId: 'A', brokerName: 'broker-a', generation: 0 }, 'B', signer, false);
    for (const k of Object.keys(bookkeeping)) assert.equal(r.properties![k], undefined, k);
    assert.deepEqual([r.properties!.color, r.properties!.__SHARDINGKEY], ['red', 'g1'], 'user properties and the message group stay');
  });
});

describe('delivery parts', () => {
  const rep = (born: number, bytes = 10) => ({ out: { body: Buffer.alloc(bytes), bornTimestamp: born } as OutgoingMessage });

  it('batches consecutive replicas of one born time, splitting at a new born time and at the byte limit, keeping order', () => {
    const items = [rep(1), rep(1), rep(2), rep(2), rep(2), rep(1), rep(3)];
    assert.deepEqual(
      [...batchesOf(items)].map((b) => b.map((x) => x.out.bornTimestamp)),
      [[1, 1], [2, 2, 2], [1], [3]],
    );
    const big = Array.from({ length: 10 }, () => rep(1, 1000));
    assert.deepEqual(
      [...batchesOf(big, 3100)].map((b) => b.length),
      [2, 2, 2, 2, 2],
    );
    assert.deepEqual([...batchesOf([])], []);
  });

  it('classifies send failures by error class', () => {
    assert.equal(classifySendFailure(new RemotingTimeoutError('a', 1, 320)), 'unknown-outcome');
    assert.equal(classifySendFailure(new RemotingConnectionClosedError('a')), 'unknown-outcome');
    assert.equal(classifySendFailure(new RemotingConnectError('a', 'refused')), 'outage');
    assert.equal(classifySendFailure(responseError(ResponseCode.SYSTEM_BUSY, 'busy', 'a', 320)), 'busy');
    assert.equal(classifySendFailure(new FerryError('NOT_FOUND', 'no topic')), 'missing-topic');
    // The message itself cannot be stored: parked at once, not tried again.
    assert.equal(classifySendFailure(responseError(ResponseCode.MESSAGE_ILLEGAL, 'too big', 'a', 320)), 'refused');
    assert.equal(classifySendFailure(new MessageEncodeError(0, 'properties take 40000 bytes')), 'refused');
    assert.equal(classifySendFailure(new InvalidPropertyError('k', 'empty', 'value is empty')), 'refused');
    assert.equal(classifySendFailure(responseError(ResponseCode.SYSTEM_ERROR, 'store error', 'a', 320)), 'message');
    assert.ok(responseError(ResponseCode.SYSTEM_BUSY, '', 'a', 1) instanceof BrokerBusyError);
    assert.ok(responseError(ResponseCode.TOPIC_NOT_EXIST, '', 'a', 1) instanceof TopicNotFoundError);
    assert.ok(responseError(ResponseCode.MESSAGE_ILLEGAL, '', 'a', 1) instanceof MessageRejectedError);
  });

  it('backs off exponentially up to a cap', () => {
    const p = new RetryPolicy(3, 100, 1000);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 20].map((a) => p.delayMs(a)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(p.attempts, 3);
  });

  it('a parked replica comes back as it was: body, tags, keys, producer id, properties, flag, born time', () => {
    const out: OutgoingMessage = {
      body: Buffer.from('x'),
      tags: 'T',
      keys: ['a', 'b'],
      uniqKey: 'U',
      properties: { p: '1' },
      flag: 9,
      bornTimestamp: 123,
    };
    const back = fromParked({ payload: new Uint8Array(out.body), properties: parkedProperties(out), flag: 9, bornTimestamp: 123 });
    assert.deepEqual(back, out);
  });
});

describe('rate limiter', () => {
  it('holds a rate: 200 permits at 1,000/s take about 200 ms from empty', async () => {
    const limiter = new RateLimiter(1000);
    const t0 = performance.now();
    let waited = 0;
    for (let i = 0; i < 20; i++) waited += await limiter.take(10);
    const took = performance.now() - t0;
    assert.ok(took >= 150, `took ${took} ms`);
    assert.ok(waited > 0, 'throttled time is reported');
  });
});

describe('byte budget', () => {
  it('has room until spent and wakes waiters once released below the limit', async () => {
    const b = new ByteBudget(100);
    assert.equal(b.room(), undefined);
    b.add(150);
    const waiting = b.room();
    assert.ok(waiting);
    let woke = false;
    void waiting.then(() => (woke = true));
    b.release(20);
    await new Promise((r) => setImmediate(r));
    assert.equal(woke, false, 'still over the limit');
    b.release(100);
    await new Promise((r) => setImmediate(r));
    assert.equal(woke, true);
    assert.equal(b.inUse, 30);
  });
});

describe('start offsets', () => {
  // A fake of the broker port: offsets per queue, no broker.
  const fake = {
    broker: {
      maxOffset: async (_a: string, _t: string, q: number) => 100 + q,
      minOffset: async (_a: string, _t: string, q: number) => q,
      offsetAtOrAfter: async (_a: string, _t: string, q: number, ts: number) => ts + q,
    },
  } as unknown as ClusterConnection;

  it('latest, earliest and a timestamp become one checkpoint per queue', async () => {
    const qs = [queue('t', 0), queue('t', 1)];
    assert.deepEqual(
      (await startCheckpoints(fake, qs, { type: 'latest' })).map((c) => c.nextOffset),
      [100, 101],
    );
    assert.deepEqual(
      (await startCheckpoints(fake, qs, { type: 'earliest' })).map((c) => c.nextOffset),
      [0, 1],
    );
    assert.deepEqual(
      (await startCheckpoints(fake, qs, { type: 'timestamp', timestamp: 50 })).map((c) => [c.topic, c.broker, c.queueId, c.nextOffset]),
      [
        ['t', 'broker-a', 0, 50],
        ['t', 'broker-a', 1, 51],
      ],
    );
  });
});

describe('checkpoint writer', () => {
  // A fake of the store's checkpoint port: each write takes 20 ms and is recorded.
  function fakeStore(failAt = Infinity) {
    const writes: CheckpointEntry[][] = [];
    return {
      writes,
      store: {
        saveCheckpoints: async (_h: unknown, entries: readonly CheckpointEntry[]) => {
          await new Promise((r) => setTimeout(r, 20));
          if (writes.length + 1 >= failAt) throw new FerryError('STALE_EPOCH', 'fenced');
          writes.push([...entries]);
        },
      } as unknown as CheckpointStore,
    };
  }
  const holder = { taskId: 't', flow: 'forward', shard: 0, owner: 'o', epoch: 1 };

  it('carries concurrent reports in few writes, and nobody waits for writes after the one carrying its entry', async () => {
    const f = fakeStore();
    const w = new CheckpointWriter(f.store, holder, 1000, () => assert.fail('no failure expected'));
    const started = performance.now();
    // 200 copiers report one after another, 1 ms apart, each waiting for its own write.
    const waits = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i));
        const t0 = performance.now();
        await w.reportNow(queue('t', i), i + 1);
        return performance.now() - t0;
      }),
    );
    assert.ok(f.writes.length < 40, `batched: ${f.writes.length} writes`);
    assert.equal(new Set(f.writes.flat().map((e) => e.queueId)).size, 200, 'every queue written');
    assert.ok(
      Math.max(...waits) < 200,
      `at most two writes' wait each (slowest ${Math.max(...waits).toFixed(0)} ms, all ${(performance.now() - started).toFixed(0)} ms)`,
    );
    await w.close([{ topic: 't', broker: 'broker-a', queueId: 0, nextOffset: 9 }]);
    assert.deepEqual(f.writes.at(-1), [{ topic: 't', broker: 'broker-a', queueId: 0, nextOffset: 9, exact: true }]);
  });

  it('a fenced write is reported once and fails every later flush', async () => {
    const f = fakeStore(1);
    const failures: unknown[] = [];
    const w = new CheckpointWriter(f.store, holder, 10, (err) => failures.push(err));
    w.report(queue('t', 0), 5);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(failures.length, 1);
    await assert.rejects(w.reportNow(queue('t', 1), 6), (e: unknown) => e instanceof FerryError && e.code === 'STALE_EPOCH');
    assert.equal(failures.length, 1);
  });
});

describe('topology-aware forwarding', () => {
  const all = () => true;
  const twoWay = (a: string, b: string, topics: (t: string) => boolean = all): Route[] => [
    { from: a, to: b, topics },
    { from: b, to: a, topics },
  ];
  const msg = (topic = 'orders', tags?: string) => stored({ topic, tags });

  /**
   * Simulates delivery of one message written on `origin`: every cluster that receives it passes it
   * on along every route out of it that the topology and the path allow. Returns how many copies
   * each cluster ends with.
   */
  function deliver(routes: Route[], origin: string, m = msg()): Record<string, number> {
    const topo = new Topology(routes);
    const copies: Record<string, number> = { [origin]: 1 };
    const queue: { at: string; path: string[] }[] = [{ at: origin, path: [origin] }];
    while (queue.length) {
      const { at, path } = queue.shift()!;
      for (const r of routes.filter((x) => x.from === at && x.topics(m.topic) && (!x.accepts || x.accepts(m)))) {
        if (path.includes(r.to) || !topo.carries(m, origin, at, r.to)) continue;
        copies[r.to] = (copies[r.to] ?? 0) + 1;
        queue.push({ at: r.to, path: [...path, r.to] });
      }
    }
    return copies;
  }

  it('a full mesh of three and of four: every cluster gets each message once, straight from its origin', () => {
    const mesh3 = [...twoWay('A', 'B'), ...twoWay('B', 'C'), ...twoWay('A', 'C')];
    for (const o of ['A', 'B', 'C']) assert.deepEqual(deliver(mesh3, o), { A: 1, B: 1, C: 1 });
    const ids = ['A', 'B', 'C', 'D'];
    const mesh4 = ids.flatMap((a, i) => ids.slice(i + 1).flatMap((b) => twoWay(a, b)));
    for (const o of ids) assert.deepEqual(deliver(mesh4, o), { A: 1, B: 1, C: 1, D: 1 });
  });

  it('a ring and a chain still reach every cluster once', () => {
    const ring = [
      { from: 'A', to: 'B', topics: all },
      { from: 'B', to: 'C', topics: all },
      { from: 'C', to: 'A', topics: all },
    ];
    for (const o of ['A', 'B', 'C']) assert.deepEqual(deliver(ring, o), { A: 1, B: 1, C: 1 });
    const chain = [...twoWay('A', 'B'), ...twoWay('B', 'C'), ...twoWay('C', 'D')];
    for (const o of ['A', 'B', 'C', 'D']) assert.deepEqual(deliver(chain, o), { A: 1, B: 1, C: 1, D: 1 });
    // Two equal routes A→B→D and A→C→D: D is served once, through the smaller id.
    const diamond = [
      { from: 'A', to: 'B', topics: all },
      { from: 'A', to: 'C', topics: all },
      { from: 'B', to: 'D', topics: all },
      { from: 'C', to: 'D', topics: all },
    ];
    assert.deepEqual(deliver(diamond, 'A'), { A: 1, B: 1, C: 1, D: 1 });
    assert.equal(new Topology(diamond).carries(msg(), 'A', 'C', 'D'), false);
  });

  it('a route that does not take the topic or the tag is no route: the message goes the long way', () => {
    const onlyPayments = (t: string) => t === 'payments';
    const routes = [...twoWay('A', 'B'), ...twoWay('B', 'C'), ...twoWay('A', 'C', onlyPayments)];
    assert.deepEqual(deliver(routes, 'A', msg('orders')), { A: 1, B: 1, C: 1 }, 'orders reach C through B');
    assert.deepEqual(deliver(routes, 'A', msg('payments')), { A: 1, B: 1, C: 1 }, 'payments reach C directly');
    const tagged = [
      ...twoWay('A', 'B'),
      ...twoWay('B', 'C'),
      { from: 'A', to: 'C', topics: all, accepts: (m: StoredMessage) => m.tags === 'x' },
    ];
    assert.deepEqual(deliver(tagged, 'A', msg('orders', 'y')), { A: 1, B: 1, C: 1 });
    assert.deepEqual(deliver(tagged, 'A', msg('orders', 'x')), { A: 1, B: 1, C: 1 });
  });

  it('serves a cluster it knows no route to (a view that is not current) rather than lose the message', () => {
    assert.equal(new Topology([]).carries(msg(), 'A', 'B', 'C'), true);
  });
});
