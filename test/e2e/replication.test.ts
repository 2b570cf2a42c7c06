// Messages flow through the whole product: a task created over HTTP on the local runtime, the
// reconciler starting it, in-process replicator invocations (handing over every few seconds)
// copying 10,000 messages between REAL clusters; every message arrives exactly once, equal, in order
// (the target is read until nothing new comes for a few seconds, so a late duplicate would show).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { ORIGIN } from '../../shared/replication/origin.ts';
import { isAuthFailure } from '../../shared/replication/start-checks.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, readUntilQuiet, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster, type TestbedKey } from '../support/testbed.ts';

const QUEUES = 4;

for (const [from, to] of [
  ['v5', 'v5acl'],
  ['v4', 'v5'],
] as [TestbedKey, TestbedKey][]) {
  describe(`one-way replication ${from} → ${to}`, () => {
    let rt: Runtime;
    let a: Side;
    let b: Side;
    const prefix = `e2e${from}${to}_${Date.now()}`;
    const topics = [0, 1, 2].map((i) => `${prefix}_t${i}`);

    before(async () => {
      a = side(await testCluster(from));
      b = side(await testCluster(to));
      for (const t of topics) {
        await a.admin.createOrUpdateTopicInCluster(a.c.name, { topicName: t, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
        await b.admin.createOrUpdateTopicInCluster(b.c.name, { topicName: t, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
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

    it('copies 10,000 messages exactly once with every field and the per-queue order', async () => {
      const api = client(rt);
      const created = await api('POST', '/v1/tasks', {
        name: `e2e-${from}-${to}`,
        direction: 'one-way',
        source: endpointOf(a.c),
        target: endpointOf(b.c),
        startOffset: { type: 'latest' },
        filter: { topics: { include: [`${prefix}_.*`], exclude: [] } },
      });
      assert.equal(created.status, 201, created.text);
      await waitForStatus(api, created.body.id, 'running');

      // 10,000 messages: 3 topics × 4 queues, batches of 50, every field set.
      const sent = new Map<string, { topic: string; queueId: number; msg: OutgoingMessage }>();
      const order = new Map<string, string[]>();
      let n = 0;
      while (n < 10_000) {
        const topic = topics[n % 3]!;
        const queueId = Math.floor(n / 3) % QUEUES;
        const batch: OutgoingMessage[] = Array.from({ length: Math.min(50, 10_000 - n) }, (_, i) => ({
          body: Buffer.from(`message ${n + i} ✓ ${'x'.repeat((n + i) % 200)}`),
          tags: `tag${(n + i) % 5}`,
          keys: [`k${n + i}`, `order-${(n + i) % 97}`],
          properties: { seq: String(n + i), 区域: 'ap-广州' },
        }));
        const r = await a.broker.sendBatch(a.addr, topic, queueId, batch);
        batch.forEach((msg, i) => {
          sent.set(r.msgIds[i]!, { topic, queueId, msg });
          const k = `${topic}/${queueId}`;
          order.set(k, [...(order.get(k) ?? []), r.msgIds[i]!]);
        });
        n += batch.length;
      }

      const seen = new Set<string>();
      for (const topic of topics) {
        const perQueue = Array.from({ length: QUEUES }, (_, q) => order.get(`${topic}/${q}`) ?? []);
        const stored = await readUntilQuiet(b, topic, QUEUES, { expect: perQueue.flat().length, timeoutMs: 180_000 });
        for (let q = 0; q < QUEUES; q++) {
          const expected = perQueue[q]!;
          const got = stored[q]!;
          assert.equal(got.length, expected.length, `${topic}/${q}: ${got.length} of ${expected.length} arrived (no loss, no duplicates)`);
          assert.deepEqual(
            got.map((m) => m.uniqKey),
            expected,
            `${topic}/${q}: same messages in the same order`,
          );
          for (const m of got) {
            const s = sent.get(m.uniqKey!)!;
            assert.ok(!seen.has(m.uniqKey!), 'exactly once');
            seen.add(m.uniqKey!);
            assert.deepEqual(m.body, s.msg.body);
            assert.equal(m.tags, s.msg.tags);
            assert.deepEqual(m.keys, s.msg.keys);
            assert.equal(m.properties.seq, s.msg.properties!.seq);
            assert.equal(m.properties.区域, 'ap-广州');
            assert.equal(m.properties[ORIGIN.cluster], a.c.name);
            assert.equal(m.properties[ORIGIN.path], `${a.c.name},${b.c.name}`);
          }
        }
      }
      assert.equal(seen.size, 10_000);

      // Figures the API serves for the task (replicators flush them every few seconds).
      let replicated = 0;
      const deadline = Date.now() + 20_000;
      while (replicated < 10_000 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        const metrics = (await api('GET', `/v1/tasks/${created.body.id}/metrics`)).body;
        replicated = metrics.points.reduce((sum: number, p: { replicated: number }) => sum + p.replicated, 0);
      }
      assert.equal(replicated, 10_000, 'metrics count every replicated message once');
    });
  });
}

// ACL on both sides of one flow: a 4.9.7 source with ACL 1.0 and a 5.3.3 target with ACL 2.0,
// each reached with its own AK/SK through the task's endpoints.
describe('one-way replication v4acl → v5acl, AK/SK on both sides', () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  const prefix = `e2eacl_${Date.now()}`;
  const topics = [`${prefix}_t0`, `${prefix}_t1`];

  before(async () => {
    a = side(await testCluster('v4acl'));
    b = side(await testCluster('v5acl'));
    for (const s of [a, b]) {
      for (const t of topics)
        await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: t, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    }
    rt = await startRuntime({ store: 'embedded', env: { FERRY_RECONCILE_INTERVAL_MS: '500', LOG_LEVEL: 'info' } });
  });
  after(async () => {
    await rt?.stop();
    a?.remoting.close();
    b?.remoting.close();
  });

  it('both clusters refuse a client without credentials', async () => {
    const anonymous = new RemotingClient({ requestTimeoutMs: 3000, connectTimeoutMs: 1000 });
    try {
      const anon = new BrokerClient(anonymous);
      await assert.rejects(
        anon.pull(a.addr, { topic: topics[0]!, queueId: 0, offset: 0, maxMessages: 1 }),
        (err) => isAuthFailure(err),
        'source: ACL 1.0 wants an access key',
      );
      await assert.rejects(
        anon.sendBatch(b.addr, topics[0]!, 0, [{ body: Buffer.from('x') }]),
        (err) => isAuthFailure(err),
        'target: ACL 2.0 wants a user',
      );
    } finally {
      anonymous.close();
    }
  });

  it('copies 400 messages over 2 topics exactly once with body, tags, keys and properties', async () => {
    const api = client(rt);
    const created = await api('POST', '/v1/tasks', {
      name: 'e2e-acl-both-sides',
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      filter: { topics: { include: topics, exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    await waitForStatus(api, created.body.id, 'running');

    const sent = new Map<string, OutgoingMessage>();
    const perQueue = new Map<string, number>();
    for (let n = 0; n < 400; n += 50) {
      const topic = topics[(n / 50) % 2]!;
      const queueId = Math.floor(n / 100) % 2;
      const batch: OutgoingMessage[] = Array.from({ length: 50 }, (_, i) => ({
        body: Buffer.from(`acl message ${n + i}`),
        tags: `tag${(n + i) % 3}`,
        keys: [`acl-k${n + i}`],
        properties: { seq: String(n + i), side: 'acl1' },
      }));
      const r = await a.broker.sendBatch(a.addr, topic, queueId, batch);
      batch.forEach((m, i) => {
        sent.set(r.msgIds[i]!, m);
      });
      perQueue.set(`${topic}/${queueId}`, (perQueue.get(`${topic}/${queueId}`) ?? 0) + 50);
    }

    const seen = new Set<string>();
    const stored = new Map<string, StoredMessage[][]>();
    for (const topic of topics) {
      const expect = [0, 1].reduce((n, q) => n + (perQueue.get(`${topic}/${q}`) ?? 0), 0);
      stored.set(topic, await readUntilQuiet(b, topic, 2, { expect, timeoutMs: 90_000 }));
    }
    for (const [k, expected] of perQueue) {
      const [topic, q] = k.split('/') as [string, string];
      const got = stored.get(topic)![Number(q)]!;
      assert.equal(got.length, expected, `${k}: ${got.length} of ${expected} arrived (no loss, no duplicates)`);
      for (const m of got) {
        const s = sent.get(m.uniqKey!);
        assert.ok(s, `${m.uniqKey} was sent`);
        assert.ok(!seen.has(m.uniqKey!), 'exactly once');
        seen.add(m.uniqKey!);
        assert.deepEqual(m.body, s.body);
        assert.equal(m.tags, s.tags);
        assert.deepEqual(m.keys, s.keys);
        assert.equal(m.properties.seq, s.properties!.seq);
        assert.equal(m.properties.side, 'acl1');
        assert.equal(m.properties[ORIGIN.cluster], a.c.name);
      }
    }
    assert.equal(seen.size, 400);
    await api('POST', `/v1/tasks/${created.body.id}/stop`);
  });
});
