// RocketMQ 5 gRPC endpoints (the 5.3.3 proxy's gRPC port) on either side of a task, end to end on
// REAL clusters: remoting → gRPC target, gRPC source → remoting, gRPC → gRPC, 5,000 messages each,
// every field compared on the target (read back over remoting), nothing lost, no duplicates; and a
// gRPC source whose runtime is killed mid-stream, with the duplicates that brings counted.
// The proxy picks the target queue for a gRPC send, so messages are compared as a set by producer id.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ORIGIN } from '../../shared/replication/origin.ts';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, readUntilQuiet, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 4;
const COUNT = 5000;

const grpcEndpointOf = (c: ClusterInfo) => ({ ...endpointOf(c), protocol: 'grpc', nameServer: c.grpcEndpoint! });
const remotingEndpointOf = (c: ClusterInfo) => ({ ...endpointOf(c), protocol: 'remoting' });

type Kind = 'remoting' | 'grpc';

// FERRY_GRPC_E2E=remoting-grpc (a comma list) runs only those directions.
const only = process.env.FERRY_GRPC_E2E?.split(',');
for (const [fromKind, toKind] of (
  [
    ['remoting', 'grpc'],
    ['grpc', 'remoting'],
    ['grpc', 'grpc'],
  ] as [Kind, Kind][]
).filter(([f, t]) => !only || only.includes(`${f}-${t}`))) {
  describe(`replication ${fromKind} → ${toKind} on 5.3.3`, () => {
    let rt: Runtime;
    let a: Side;
    let b: Side;
    const prefix = `e2egrpc_${fromKind[0]}${toKind[0]}_${Date.now()}`;
    const topic = `${prefix}_t`;

    before(async () => {
      a = side(await testCluster('v5'));
      b = side(await testCluster('v5acl'));
      for (const s of [a, b])
        await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
      rt = await startRuntime({
        store: 'embedded',
        env: { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '30000', LOG_LEVEL: 'info' },
      });
    });
    after(async () => {
      await rt?.stop();
      a?.remoting.close();
      b?.remoting.close();
    });

    it(`copies ${COUNT} messages with every field, none lost, none twice`, async () => {
      const api = client(rt);
      const created = await api('POST', '/v1/tasks', {
        name: `e2e-grpc-${fromKind}-${toKind}`,
        direction: 'one-way',
        source: fromKind === 'grpc' ? grpcEndpointOf(a.c) : remotingEndpointOf(a.c),
        target: toKind === 'grpc' ? grpcEndpointOf(b.c) : remotingEndpointOf(b.c),
        startOffset: { type: 'latest' },
        filter: { topics: { include: fromKind === 'grpc' ? [topic] : [`${prefix}_.*`], exclude: [] } },
      });
      assert.equal(created.status, 201, created.text);
      // Defaults a gRPC side cannot serve are off, not silently ignored at run time.
      assert.equal(created.body.idempotentResume, toKind !== 'grpc');
      await waitForStatus(api, created.body.id, 'running');
      // The gRPC consumer group is made by the first receive: give the replicator a moment.
      if (fromKind === 'grpc') await new Promise((r) => setTimeout(r, 3000));

      const sent = new Map<string, OutgoingMessage>();
      const born = Date.now() - 3_600_000;
      for (let n = 0; n < COUNT; ) {
        const batch: OutgoingMessage[] = Array.from({ length: Math.min(50, COUNT - n) }, (_, i) => ({
          body: Buffer.from(`grpc ${n + i} ✓ ${'x'.repeat((n + i) % 300)}`),
          tags: `tag${(n + i) % 5}`,
          keys: [`k${n + i}`, `order-${(n + i) % 97}`],
          properties: { seq: String(n + i), 区域: 'ap-广州' },
          bornTimestamp: born + n,
        }));
        const r = await a.broker.sendBatch(a.addr, topic, Math.floor(n / 50) % QUEUES, batch);
        batch.forEach((m, i) => {
          sent.set(r.msgIds[i]!, m);
        });
        n += batch.length;
      }

      const stored: StoredMessage[] = (await readUntilQuiet(b, topic, QUEUES, { expect: COUNT, timeoutMs: 240_000, quietMs: 8000 })).flat();
      const byId = new Map<string, number>();
      for (const m of stored) byId.set(m.uniqKey!, (byId.get(m.uniqKey!) ?? 0) + 1);
      const missing = [...sent.keys()].filter((id) => !byId.has(id)).length;
      const duplicates = [...byId.values()].reduce((d, c) => d + c - 1, 0);
      console.log(`${fromKind} → ${toKind}: ${stored.length} stored, ${missing} missing, ${duplicates} duplicates`);
      if (duplicates > 0)
        console.log(
          rt
            .output()
            .split('\n')
            .filter((l) => /"level":(40|50)/.test(l))
            .slice(-40)
            .join('\n'),
        );
      assert.equal(missing, 0, 'nothing lost');
      assert.equal(duplicates, 0, 'no duplicates in a clean run');
      assert.equal(stored.length, COUNT);
      for (const m of stored) {
        const s = sent.get(m.uniqKey!)!;
        assert.ok(s, `unexpected message ${m.uniqKey}`);
        assert.deepEqual(m.body, s.body);
        assert.equal(m.tags, s.tags);
        assert.deepEqual(m.keys, s.keys);
        assert.equal(m.bornTimestamp, s.bornTimestamp, 'born time kept');
        assert.equal(m.properties.seq, s.properties!.seq);
        assert.equal(m.properties.区域, 'ap-广州');
        assert.equal(m.properties[ORIGIN.cluster], a.c.name);
        assert.equal(m.properties[ORIGIN.path], `${a.c.name},${b.c.name}`);
        assert.ok(m.properties.FERRY_SIG, 'the replica is signed');
      }
      // The gRPC client's own warnings and errors go to the log under client "rocketmq-grpc": none in a clean run.
      const clientProblems = rt
        .output()
        .split('\n')
        .filter((l) => l.includes('"client":"rocketmq-grpc"') && /"level":(40|50)/.test(l));
      assert.deepEqual(clientProblems, [], 'no client warnings or errors');
    });
  });
}

// Two-way with one gRPC side: replicas crossing the gRPC hop keep Ferry's path (and signature), so
// the other flow recognises them and nothing comes back.
describe('two-way replication remoting ↔ gRPC on 5.3.3: no loops', { skip: only !== undefined && !only.includes('two-way') }, () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  const topic = `e2egrpc_2way_${Date.now()}`;
  const N = 300;

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v5acl'));
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    rt = await startRuntime({
      store: 'embedded',
      env: { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '30000', LOG_LEVEL: 'info' },
    });
  });
  after(async () => {
    await rt?.stop();
    a?.remoting.close();
    b?.remoting.close();
  });

  it("each side holds its own messages and the other side's once, nothing more", async () => {
    const api = client(rt);
    const created = await api('POST', '/v1/tasks', {
      name: 'e2e-grpc-two-way',
      direction: 'two-way',
      source: remotingEndpointOf(a.c),
      target: grpcEndpointOf(b.c),
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    await waitForStatus(api, created.body.id, 'running');
    await new Promise((r) => setTimeout(r, 3000));
    const ids = { a: new Set<string>(), b: new Set<string>() };
    for (const [name, s] of [
      ['a', a],
      ['b', b],
    ] as const) {
      for (let n = 0; n < N; n += 50) {
        const batch = Array.from({ length: 50 }, (_, i) => ({ body: Buffer.from(`${name} ${n + i}`), properties: { from: name } }));
        const r = await s.broker.sendBatch(s.addr, topic, (n / 50) % QUEUES, batch);
        for (const id of r.msgIds) ids[name].add(id);
      }
    }
    for (const [name, s] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const got = (await readUntilQuiet(s, topic, QUEUES, { expect: 2 * N, timeoutMs: 180_000, quietMs: 10_000 })).flat();
      const counts = new Map<string, number>();
      for (const m of got) counts.set(m.uniqKey!, (counts.get(m.uniqKey!) ?? 0) + 1);
      console.log(`two-way side ${name}: ${got.length} stored (expected ${2 * N})`);
      assert.equal(got.length, 2 * N, `side ${name}: own ${N} + the other's ${N}, no loop copies`);
      for (const id of [...ids.a, ...ids.b]) assert.equal(counts.get(id), 1, `side ${name}: ${id} once`);
    }
  });
});

// A FIFO message group crosses a gRPC target as the message group: the proxy keeps a group on one
// queue, in order, and stores it as the sharding key a gRPC consumer reads the group from.
describe('FIFO message groups to a gRPC target on 5.3.3', { skip: only !== undefined && !only.includes('fifo') }, () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  const topic = `e2egrpc_fifo_${Date.now()}`;
  const N = 200;

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v5acl'));
    await a.admin.createOrUpdateTopicInCluster(a.c.name, { topicName: topic, readQueueNums: 1, writeQueueNums: 1, perm: 6 });
    await b.admin.createOrUpdateTopicInCluster(b.c.name, {
      topicName: topic,
      readQueueNums: QUEUES,
      writeQueueNums: QUEUES,
      perm: 6,
      attributes: { 'message.type': 'FIFO' },
    });
    rt = await startRuntime({
      store: 'embedded',
      env: { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '30000', LOG_LEVEL: 'info' },
    });
  });
  after(async () => {
    await rt?.stop();
    a?.remoting.close();
    b?.remoting.close();
  });

  it('each group lands on one target queue, in order, with its group', async () => {
    const api = client(rt);
    const created = await api('POST', '/v1/tasks', {
      name: 'e2e-grpc-fifo',
      direction: 'one-way',
      source: remotingEndpointOf(a.c),
      target: grpcEndpointOf(b.c),
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    await waitForStatus(api, created.body.id, 'running');
    for (let i = 0; i < N; i++) {
      // What a 5.x producer's group looks like on the wire (the proxy sets it for gRPC producers).
      await a.broker.send(a.addr, topic, 0, { body: Buffer.from(`fifo ${i}`), properties: { seq: String(i), __SHARDINGKEY: `g${i % 5}` } });
    }
    const got = await readUntilQuiet(b, topic, QUEUES, { expect: N, timeoutMs: 120_000 });
    assert.equal(got.flat().length, N);
    const queueOf = new Map<string, number>();
    got.forEach((msgs, q) => {
      const last = new Map<string, number>();
      for (const m of msgs) {
        const g = m.properties.__SHARDINGKEY!;
        assert.equal(g, `g${Number(m.properties.seq) % 5}`, 'the group is kept');
        assert.equal(queueOf.get(g) ?? q, q, `group ${g} on one queue`);
        queueOf.set(g, q);
        assert.ok(Number(m.properties.seq) > (last.get(g) ?? -1), `group ${g} in order`);
        last.set(g, Number(m.properties.seq));
      }
    });
    assert.equal(queueOf.size, 5);
  });
});

// At-least-once across a crash (the README's capability table): the runtime hosting a gRPC source's
// replicator is SIGKILLed mid-stream and a second runtime on the same PostgreSQL store takes the task
// over. What the first had received but not acked comes again once its invisible duration ends: no
// message is lost, and the duplicates are counted and reported — at most one receive batch (32) of
// the single shard, as only the batch being copied at the kill is sent and not yet acked.
describe('a gRPC source whose runtime is SIGKILLed mid-stream', { skip: only !== undefined && !only.includes('kill') }, () => {
  const runtimes: Runtime[] = [];
  let db: Throwaway<string> | undefined;
  let a: Side;
  let b: Side;
  const topic = `e2egrpc_kill_${Date.now()}`;
  const N = 3000;
  const RECEIVE_BATCH = 32;

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v5acl'));
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    db = await throwawayPostgres();
  });
  after(async () => {
    for (const rt of runtimes) await rt.stop().catch(() => undefined);
    await db?.drop();
    a?.remoting.close();
    b?.remoting.close();
  });

  it('loses nothing; the messages received but not acked at the kill come again, and their count is reported', async () => {
    const env = {
      FERRY_SECRET_KEY: randomBytes(32).toString('base64'),
      FERRY_INVOKER: 'local',
      FERRY_LEASE_TTL_MS: '4000',
      FERRY_RECONCILE_INTERVAL_MS: '500',
      FERRY_REPLICATOR_BUDGET_MS: '30000',
      LOG_LEVEL: 'info',
    };
    runtimes.push(await startRuntime({ store: 'postgres', databaseUrl: db!.value, env }));
    const api = client(runtimes[0]!);
    const created = await api('POST', '/v1/tasks', {
      name: 'e2e-grpc-kill',
      direction: 'one-way',
      source: grpcEndpointOf(a.c),
      target: remotingEndpointOf(b.c),
      startOffset: { type: 'latest' },
      filter: { topics: { include: [topic], exclude: [] } },
      shards: 1,
    });
    assert.equal(created.status, 201, created.text);
    await waitForStatus(api, created.body.id, 'running');
    await new Promise((r) => setTimeout(r, 3000));

    const sent = new Set<string>();
    const targetCount = async () => {
      let n = 0;
      for (let q = 0; q < QUEUES; q++) n += await b.broker.maxOffset(b.addr, topic, q);
      return n;
    };
    // Produced in the background, 50 every 100 ms (about 6 s), so the kill lands while messages move.
    const producing = (async () => {
      for (let n = 0; n < N; n += 50) {
        const batch = Array.from({ length: 50 }, (_, i) => ({ body: Buffer.from(`kill ${n + i}`), properties: { seq: String(n + i) } }));
        const r = await a.broker.sendBatch(a.addr, topic, (n / 50) % QUEUES, batch);
        for (const id of r.msgIds) sent.add(id);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const killDeadline = Date.now() + 120_000;
    while ((await targetCount()) < N / 4) {
      assert.ok(Date.now() < killDeadline, 'copying started before the kill');
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(runtimes[0]!.pid!, 'SIGKILL');
    const atKill = await targetCount();
    runtimes.push(await startRuntime({ store: 'postgres', databaseUrl: db!.value, env }));
    await producing;
    assert.ok(atKill < N, `the kill landed mid-stream (${atKill} of ${N} copied)`);

    // Quiet for longer than the invisible duration (30 s), so redeliveries have come.
    const stored = (await readUntilQuiet(b, topic, QUEUES, { expect: N, timeoutMs: 240_000, quietMs: 35_000 })).flat();
    const byId = new Map<string, number>();
    for (const m of stored) byId.set(m.uniqKey!, (byId.get(m.uniqKey!) ?? 0) + 1);
    const missing = [...sent].filter((id) => !byId.has(id)).length;
    const duplicates = [...byId.values()].reduce((d, c) => d + c - 1, 0);
    console.log(`gRPC source killed after ${atKill} of ${N} copied: ${stored.length} stored, ${missing} missing, ${duplicates} duplicates`);
    assert.equal(missing, 0, 'nothing lost');
    assert.ok(duplicates <= RECEIVE_BATCH, `duplicates within one receive batch: ${duplicates}`);
    assert.ok(
      [...byId.keys()].every((id) => sent.has(id)),
      'only what was produced',
    );
  });
});
