// Queue mapping on real clusters, as the README states it ("How replication works"): a topic's
// queues are numbered by queue id, then broker name, on both sides, and the source queue at position
// i goes to the target queue at position i mod n (n writable target queues). Two 5.3.3 clusters of
// this file's own with two brokers each, S and T, and one task S → T on the local runtime.
//   - unequal counts: a source topic of 8 queues onto 4, onto 16, and onto 8 + 8 on two brokers;
//   - two brokers on both sides: 4 + 4 queues onto 4 + 4, 8 + 8 and 2 + 2;
//   - a parked message (read-only target topic), retried once the topic is writable, comes back with
//     every field of the original and on the queue the replicator would have chosen.
// Each message must arrive once, on the target queue of the rule, and the replicas of one source
// queue must stand in its order on that queue. The target is read queue by queue with a plain pull
// from the min offset to the max: FerryPeer's consume (a lite pull consumer) was seen to leave
// messages of some queues of these 2-broker topics unread — often all but a queue's first 32 —
// with Ferry not involved. The parked test, a few messages a queue, is written and read by Apache's
// Java client, a short read being read again (javaRead).
// Metadata sync would give every target topic its source's per-broker counts (and perm), so the
// runtime's sync timer is set past the end of the file and every topic is made after the task's
// start sync, its target side first, so that no replicator finds a target topic missing and asks
// for a sync. The target routes are checked again at the end of each test.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { HOP, ORIGIN } from '../../shared/replication/origin.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { SYSTEM_PROPERTY_KEYS } from '../../shared/rocketmq/remoting/message-codec.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, waitForStatus } from '../support/sides.ts';
import { RocketMQCluster, type ClusterInfo } from '../testbed/cluster.ts';
import { javaPeer, type JavaPeerResult } from '../testbed/java-peer.ts';

const stamp = `${Date.now().toString(36)}${process.pid}`;
const PER_QUEUE = 40;
const ROUNDS = 4;

/** Queue counts of a topic per broker index (0 = the cluster's first broker); 0 leaves a broker out. */
type Layout = number[];

interface Consumed {
  topic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  msgId: string;
  uniqKey: string | null;
  bodyBase64: string;
  tags: string | null;
  keys: string | null;
  properties: Record<string, string>;
  bornTimestamp: number;
  storeTimestamp: number;
  flag: number;
}

function sideOf(c: ClusterInfo) {
  const remoting = new RemotingClient({ requestTimeoutMs: 10_000, connectTimeoutMs: 3000 });
  const nameServers = new NameServerClient(remoting, c.nameServer);
  return { c, remoting, nameServers, broker: new BrokerClient(remoting), admin: new RemotingAdmin(remoting, nameServers) };
}
type Side = ReturnType<typeof sideOf>;

const where = (brokerName: string, queueId: number) => `${brokerName}/${queueId}`;

/** The README's order of a topic's queues: queue id first, then broker name (character codes). */
function positions(side: Side, layout: Layout): string[] {
  const queues: { brokerName: string; queueId: number }[] = [];
  layout.forEach((n, b) => {
    for (let q = 0; q < n; q++) queues.push({ brokerName: side.c.brokers[b]!.name, queueId: q });
  });
  queues.sort((x, y) => x.queueId - y.queueId || (x.brokerName < y.brokerName ? -1 : x.brokerName > y.brokerName ? 1 : 0));
  return queues.map((q) => where(q.brokerName, q.queueId));
}

/** The README's mapping: source queue → target queue, both as `broker/queue`. */
function mapping(s: Side, from: Layout, t: Side, to: Layout): Map<string, string> {
  const src = positions(s, from);
  const dst = positions(t, to);
  return new Map(src.map((k, i) => [k, dst[i % dst.length]!]));
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 500));
    v = await fn();
  }
  return v;
}

/** A topic's queue data in the name server's route, per broker name: `count/perm`. */
async function routeOf(side: Side, topic: string): Promise<Record<string, string>> {
  try {
    const r = await side.nameServers.topicRoute(topic);
    return Object.fromEntries(r.queueDatas.map((q) => [q.brokerName, `${q.writeQueueNums}/${q.perm}`]));
  } catch {
    return {};
  }
}

const wantRoute = (side: Side, layout: Layout, perm: number) =>
  Object.fromEntries(layout.flatMap((n, b) => (n > 0 ? [[side.c.brokers[b]!.name, `${n}/${perm}`]] : [])));

/** Creates (or changes) the topic on each broker the layout names and waits for the route to say so. */
async function makeTopic(side: Side, topic: string, layout: Layout, perm = 6): Promise<void> {
  for (const [b, n] of layout.entries()) {
    if (n > 0)
      await side.admin.createOrUpdateTopic(side.c.brokers[b]!.address, { topicName: topic, readQueueNums: n, writeQueueNums: n, perm });
  }
  const want = wantRoute(side, layout, perm);
  await until(
    `route of ${topic} on ${side.c.name}`,
    () => routeOf(side, topic),
    (r) => isDeepStrictEqual(r, want),
    60_000,
  );
}

/** Messages stored on a topic's queues of the layout (max − min offset, summed). */
async function stored(side: Side, topic: string, layout: Layout): Promise<number> {
  let n = 0;
  for (const [b, count] of layout.entries()) {
    const addr = side.c.brokers[b]!.address;
    for (let q = 0; q < count; q++) n += (await side.broker.maxOffset(addr, topic, q)) - (await side.broker.minOffset(addr, topic, q));
  }
  return n;
}

/**
 * PER_QUEUE messages to every source queue of the layout, in ROUNDS rounds of batch sends over all
 * queues; returns each queue's producer ids (UNIQ_KEY) in the order they were stored.
 */
async function sendToEveryQueue(s: Side, topic: string, layout: Layout): Promise<Map<string, string[]>> {
  const sent = new Map<string, string[]>();
  const per = PER_QUEUE / ROUNDS;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [b, count] of layout.entries()) {
      const { name, address } = s.c.brokers[b]!;
      for (let q = 0; q < count; q++) {
        const k = where(name, q);
        const msgs = Array.from({ length: per }, (_, i) => ({
          body: Buffer.from(`${topic}|${k}|${round * per + i}`),
          tags: 'qm',
          keys: [`${topic}-${b}-${q}-${round * per + i}`],
        }));
        const r = await s.broker.sendBatch(address, topic, q, msgs);
        sent.set(k, [...(sent.get(k) ?? []), ...r.msgIds]);
      }
    }
  }
  return sent;
}

function ok(r: JavaPeerResult, what: string): void {
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}):\n${r.stderr.slice(-3000)}`);
}

/**
 * Java's consumer on every queue of the topic until it has `expect` and nothing new came for 3 s.
 * FerryPeer's consume was seen to miss a queue now and then on these 2-broker clusters (a Java read
 * of the source alone, Ferry not involved), so a short read is read again by a new consumer, up to
 * three times, and what the reads saw is put together by position (broker, queue, offset).
 */
async function javaRead(c: ClusterInfo, topic: string, expect: number): Promise<Consumed[]> {
  const seen = new Map<string, Consumed>();
  let last: JavaPeerResult | undefined;
  for (let attempt = 1; attempt <= 3 && seen.size < expect; attempt++) {
    last = await javaPeer(
      c.version,
      ['consume', '--namesrv', c.nameServer, '--topic', topic, '--expect', String(expect), '--timeout-ms', '45000', '--quiet-ms', '3000'],
      { timeoutMs: 120_000 },
    );
    for (const m of last.lines as Consumed[]) seen.set(`${where(m.brokerName, m.queueId)}@${m.queueOffset}`, m);
    if (seen.size < expect) console.log(`# Java read ${attempt} of ${topic} on ${c.name}: ${seen.size} of ${expect} so far`);
  }
  if (seen.size < expect) ok(last!, `consume ${topic} on ${c.name}`);
  return [...seen.values()];
}

/** Where a message is stored and who it is. */
type Placed = Pick<Consumed, 'brokerName' | 'queueId' | 'queueOffset' | 'msgId' | 'properties'>;

/** Everything stored on the topic's queues of the layout, read queue by queue from the min offset to the max. */
async function readAll(side: Side, topic: string, layout: Layout): Promise<Placed[]> {
  const out: Placed[] = [];
  for (const [b, count] of layout.entries()) {
    const { name, address } = side.c.brokers[b]!;
    for (let q = 0; q < count; q++) {
      const max = await side.broker.maxOffset(address, topic, q);
      for (let offset = await side.broker.minOffset(address, topic, q); offset < max; ) {
        const r = await side.broker.pull(address, { topic, queueId: q, offset, maxMessages: 32 });
        for (const m of r.messages) {
          out.push({ brokerName: name, queueId: q, queueOffset: m.queueOffset, msgId: m.uniqKey ?? '?', properties: m.properties });
        }
        if (r.nextBeginOffset <= offset) throw new Error(`${topic} ${name}/${q}: no progress at ${offset} (${r.status})`);
        offset = r.nextBeginOffset;
      }
    }
  }
  return out;
}

/**
 * Every sent message once on the target, on the target queue `map` gives its source queue, and the
 * replicas of each source queue in its order on that queue. Returns where each source queue landed.
 */
function checkPlacement(topic: string, sent: Map<string, string[]>, replicas: Placed[], map: Map<string, string>): Map<string, string> {
  const byId = new Map<string, Placed[]>();
  for (const m of replicas) byId.set(m.msgId, [...(byId.get(m.msgId) ?? []), m]);
  const problems: string[] = [];
  const landed = new Map<string, string>();
  for (const [src, ids] of sent) {
    const want = map.get(src)!;
    const got: Placed[] = [];
    const misplaced = new Map<string, number>();
    for (const id of ids) {
      const copies = byId.get(id) ?? [];
      byId.delete(id);
      if (copies.length !== 1) problems.push(`${src} ${id}: ${copies.length} replicas`);
      for (const m of copies) {
        const at = where(m.brokerName, m.queueId);
        if (at !== want) misplaced.set(at, (misplaced.get(at) ?? 0) + 1);
        const from = where(m.properties[HOP.broker] ?? '?', Number(m.properties[HOP.queue]));
        if (from !== src) problems.push(`${src} ${id}: provenance says ${from}`);
        landed.set(src, at);
        got.push(m);
      }
    }
    for (const [at, n] of misplaced) problems.push(`${src}: ${n} of ${ids.length} on ${at}, the rule says ${want}`);
    const order = got.sort((x, y) => x.queueOffset - y.queueOffset).map((m) => m.msgId);
    if (got.length === ids.length && !isDeepStrictEqual(order, ids)) problems.push(`${src}: replicas out of order on ${want}`);
  }
  for (const [id, ms] of byId) problems.push(`${id}: ${ms.length} replicas of no message sent to ${topic}`);
  assert.deepEqual(problems.slice(0, 40), [], `${topic}: ${problems.length} problems`);
  return landed;
}

/** How many source queues each target queue took. */
const loadOf = (landed: Map<string, string>): number[] => {
  const n = new Map<string, number>();
  for (const t of landed.values()) n.set(t, (n.get(t) ?? 0) + 1);
  return [...n.values()].sort();
};

describe('queue mapping on two 5.3.3 clusters with two brokers each', () => {
  let clusterS: RocketMQCluster;
  let clusterT: RocketMQCluster;
  let S: Side;
  let T: Side;
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  let taskId: string;
  const topic = (name: string) => `qm_${name}_${stamp}`;
  const TOPICS = ['to4', 'to16', 'to8x2', 'same', 'wider', 'narrower', 'parked'].map(topic);

  before(async () => {
    // Both starts are waited for, so after() stops whichever came up when the other did not.
    const started = await Promise.allSettled([
      RocketMQCluster.start({ version: '5.3.3', name: `qm-s-${process.pid}`, brokers: 2, startTimeoutMs: 180_000 }).then(
        (c) => (clusterS = c),
      ),
      RocketMQCluster.start({ version: '5.3.3', name: `qm-t-${process.pid}`, brokers: 2, startTimeoutMs: 180_000 }).then(
        (c) => (clusterT = c),
      ),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    S = sideOf(clusterS.info);
    T = sideOf(clusterT.info);
    rt = await startRuntime({
      store: 'embedded',
      env: {
        FERRY_RECONCILE_INTERVAL_MS: '500',
        FERRY_REPLICATOR_BUDGET_MS: '15000',
        FERRY_LEASE_TTL_MS: '4000',
        FERRY_METADATA_SYNC_INTERVAL_MS: '3600000',
        LOG_LEVEL: 'info',
      },
    });
    api = client(rt);
    const created = await api('POST', '/v1/tasks', {
      name: `queue-mapping-${stamp}`,
      direction: 'one-way',
      source: endpointOf(S.c),
      target: endpointOf(T.c),
      // The topics by name: literal names need no backtracking analysis, which a busy machine can time out.
      filter: { topics: { include: TOPICS, exclude: [] } },
      // The Java reader's group makes a retry topic on S; carried (the default), its missing target
      // would ask for a sync, which gives the read-only parked topic its source's perm again.
      offsetSync: { nothingLeftBehind: false },
    });
    assert.equal(created.status, 201, created.text);
    taskId = created.body.id;
    await waitForStatus(api, taskId, 'running', 120_000);
  });

  after(async () => {
    if (taskId) await api('POST', `/v1/tasks/${taskId}/stop`).catch(() => undefined);
    await rt?.stop();
    S?.remoting.close();
    T?.remoting.close();
    await Promise.all([clusterS?.stop(), clusterT?.stop()]);
  });

  /** Makes the topics (target first), sends to every source queue, reads every target back with Java and checks it. */
  async function replicateAndCheck(cases: { name: string; from: Layout; to: Layout }[]) {
    for (const c of cases) await makeTopic(T, topic(c.name), c.to);
    for (const c of cases) await makeTopic(S, topic(c.name), c.from);
    const sent = new Map<string, Map<string, string[]>>();
    for (const c of cases) sent.set(c.name, await sendToEveryQueue(S, topic(c.name), c.from));
    const landed = await Promise.all(
      cases.map(async (c) => {
        const total = [...sent.get(c.name)!.values()].reduce((n, ids) => n + ids.length, 0);
        await until(
          `${total} replicas on ${topic(c.name)}`,
          () => stored(T, topic(c.name), c.to),
          (n) => n >= total,
          180_000,
        );
        const replicas = await readAll(T, topic(c.name), c.to);
        const placed = checkPlacement(topic(c.name), sent.get(c.name)!, replicas, mapping(S, c.from, T, c.to));
        console.log(
          `# ${c.name}: ${replicas.length} replicas of ${total}; source queues per used target queue ${loadOf(placed).join(',')}`,
        );
        return placed;
      }),
    );
    for (const c of cases) {
      // The layouts held: nothing (metadata sync) changed the target's counts while the test ran.
      assert.deepEqual(await routeOf(T, topic(c.name)), wantRoute(T, c.to, 6), `${c.name}: target layout unchanged`);
    }
    return landed;
  }

  it('unequal counts: 8 source queues onto 4, 16 and 8 + 8 on two brokers, each once, in order, where the rule says', async () => {
    const [to4, to16, to8x2] = await replicateAndCheck([
      { name: 'to4', from: [8, 0], to: [4, 0] },
      { name: 'to16', from: [8, 0], to: [16, 0] },
      { name: 'to8x2', from: [8, 0], to: [8, 8] },
    ]);
    const [s0, t0, t1] = [S.c.brokers[0]!.name, T.c.brokers[0]!.name, T.c.brokers[1]!.name];
    // 8 onto 4: queues q and q + 4 share target queue q.
    for (let q = 0; q < 8; q++) assert.equal(to4!.get(where(s0, q)), where(t0, q % 4));
    assert.deepEqual(loadOf(to4!), [2, 2, 2, 2]);
    // 8 onto 16 on one broker: queue q on queue q; queues 8–15 take none.
    for (let q = 0; q < 8; q++) assert.equal(to16!.get(where(s0, q)), where(t0, q));
    // One source broker onto two target brokers: queues alternate between them, half on each.
    for (let q = 0; q < 8; q++) assert.equal(to8x2!.get(where(s0, q)), where(q % 2 ? t1 : t0, Math.floor(q / 2)));
  });

  it('two brokers each side: 4 + 4 onto 4 + 4, 8 + 8 and 2 + 2, each once, in order, where the rule says', async () => {
    const [same, wider, narrower] = await replicateAndCheck([
      { name: 'same', from: [4, 4], to: [4, 4] },
      { name: 'wider', from: [4, 4], to: [8, 8] },
      { name: 'narrower', from: [4, 4], to: [2, 2] },
    ]);
    // Same layout, and a wider one: queue q of the k-th source broker on queue q of the k-th target broker.
    for (const landed of [same!, wider!]) {
      for (const [src, dst] of landed) assert.equal(dst.replace(T.c.name, '*'), src.replace(S.c.name, '*'));
      assert.equal(landed.size, 8);
    }
    // 8 onto 4 over two brokers: queue q of either source broker on queue q mod 2 of the same-ranked target broker.
    for (const [src, dst] of narrower!) {
      const [b, q] = src.replace(S.c.name, '*').split('/');
      assert.equal(dst.replace(T.c.name, '*'), `${b}/${Number(q) % 2}`);
    }
    assert.deepEqual(loadOf(narrower!), [2, 2, 2, 2]);
  });

  it('a parked message retried once the target is writable keeps every field and lands where the replicator would send it', async () => {
    const name = topic('parked');
    const from: Layout = [4, 4];
    const to: Layout = [2, 2];
    // Read-only target (brokers do not check perm on a send; Ferry reads it from the route).
    await makeTopic(T, name, to, 4);
    await makeTopic(S, name, from);
    const COUNT = 16;
    const produced = await javaPeer(
      S.c.version,
      [
        'produce',
        ...['--namesrv', S.c.nameServer, '--topic', name, '--count', String(COUNT), '--interval-ms', '3'],
        ...['--tags', 'parked-tag-{i}', '--keys', 'pk-{i} order-{i}', '--prop', 'seq={i}', '--prop', 'kind=parked'],
        ...['--flag', '6', '--flag-every', '2'],
      ],
      { timeoutMs: 180_000 },
    );
    ok(produced, `produce to ${name}`);
    const originals = await javaRead(S.c, name, COUNT);
    assert.equal(originals.length, COUNT, 'the source holds what Java wrote');
    const brokersUsed = new Set(originals.map((o) => o.brokerName));
    assert.equal(brokersUsed.size, 2, `Java's producer wrote to both source brokers: ${[...brokersUsed]}`);
    assert.ok(originals.some((o) => o.flag === 6) && originals.some((o) => o.flag === 0), 'some originals carry a flag');

    const parked = await until(
      `${COUNT} parked messages`,
      async () => (await api('GET', `/v1/tasks/${taskId}/failures`)).body.items as { topic: string; reason: string }[],
      (items) => items.filter((p) => p.topic === name).length >= COUNT,
      180_000,
    );
    assert.equal(parked.length, COUNT, 'only the read-only topic parks');
    assert.match(parked[0]!.reason, /not writable/);
    assert.equal(await stored(T, name, to), 0, 'nothing reached the read-only topic');

    // The cause fixed: the topic writable on both target brokers, and the route says so before the retry.
    await makeTopic(T, name, to, 6);
    const asked = await api('POST', `/v1/tasks/${taskId}/failures/retry`);
    assert.ok(asked.status < 300, asked.text);
    await until(
      `${COUNT} retried replicas`,
      () => stored(T, name, to),
      (n) => n >= COUNT,
      180_000,
    );
    const replicas = await javaRead(T.c, name, COUNT);
    // Resolved once sent: they leave the list.
    await until(
      'an empty failures list',
      async () => (await api('GET', `/v1/tasks/${taskId}/failures`)).body.items as unknown[],
      (items) => items.length === 0,
      60_000,
    );

    const map = mapping(S, from, T, to);
    const mismatches: string[] = [];
    const seen = new Set<string>();
    for (const m of replicas) {
      const o = originals.find((x) => x.msgId === m.msgId);
      if (!o) {
        mismatches.push(`${m.msgId}: no such original`);
        continue;
      }
      if (seen.has(o.msgId)) mismatches.push(`${o.msgId}: a second replica`);
      seen.add(o.msgId);
      const check = (field: string, got: unknown, want: unknown) => {
        if (!isDeepStrictEqual(got, want))
          mismatches.push(`${o.msgId} ${field}: replica ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      };
      check(`queue of ${where(o.brokerName, o.queueId)}`, where(m.brokerName, m.queueId), map.get(where(o.brokerName, o.queueId)));
      check('body', m.bodyBase64, o.bodyBase64);
      check('tags', m.tags, o.tags);
      check('keys', m.keys, o.keys);
      check('flag', m.flag, o.flag);
      check('bornTimestamp', m.bornTimestamp, o.bornTimestamp);
      check('UNIQ_KEY', m.uniqKey, o.uniqKey);
      check('user properties', userProperties(m.properties), userProperties(o.properties));
      const provenance: Record<string, string> = {
        [ORIGIN.cluster]: S.c.name,
        [ORIGIN.msgId]: o.uniqKey!,
        [ORIGIN.topic]: name,
        [ORIGIN.broker]: o.brokerName,
        [ORIGIN.queue]: String(o.queueId),
        [ORIGIN.offset]: String(o.queueOffset),
        [ORIGIN.bornTimestamp]: String(o.bornTimestamp),
        [ORIGIN.storeTimestamp]: String(o.storeTimestamp),
        [ORIGIN.path]: `${S.c.name},${T.c.name}`,
        [HOP.cluster]: S.c.name,
        [HOP.broker]: o.brokerName,
        [HOP.queue]: String(o.queueId),
        [HOP.offset]: String(o.queueOffset),
        [HOP.generation]: '0',
      };
      for (const [k, v] of Object.entries(provenance)) check(k, m.properties[k], v);
    }
    assert.deepEqual(mismatches, [], `${mismatches.length} mismatches`);
    assert.equal(seen.size, COUNT, 'every original has its replica');
    // Retried in the order they were parked: each source queue's replicas in its order on the target.
    for (const src of new Set(originals.map((o) => where(o.brokerName, o.queueId)))) {
      const ids = (ms: Consumed[], at: (m: Consumed) => string) =>
        ms
          .filter((m) => at(m) === src)
          .sort((x, y) => x.queueOffset - y.queueOffset)
          .map((m) => m.msgId);
      const inSource = ids(originals, (o) => where(o.brokerName, o.queueId));
      const onTarget = ids(replicas, (m) => where(m.properties[HOP.broker] ?? '?', Number(m.properties[HOP.queue])));
      assert.deepEqual(onTarget, inSource, `${src}: order on ${map.get(src)}`);
    }
    assert.deepEqual(await routeOf(T, name), wantRoute(T, to, 6), 'target layout unchanged');
  });
});

/** Properties a producer set itself: neither RocketMQ's system keys nor Ferry's provenance. */
function userProperties(props: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) {
    if (!SYSTEM_PROPERTY_KEYS.has(k) && !k.startsWith('FERRY_')) out[k] = v;
  }
  return out;
}
