// Our remoting data-plane client against real brokers: every field survives a round trip.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mqadmin } from '../testbed/mqadmin.ts';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { BrokerClient, type SendResult } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { RemotingResponseError } from '../../shared/rocketmq/remoting/errors.ts';
import { InvalidPropertyError } from '../../shared/rocketmq/remoting/message-codec.ts';
import { NameServerClient, masterAddress } from '../../shared/rocketmq/remoting/namesrv.ts';
import { testCluster, type TestbedKey } from '../support/testbed.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

async function createTopic(c: ClusterInfo, topic: string, queues = 4): Promise<void> {
  const r = await mqadmin(
    c.version,
    ['updateTopic', '-n', c.nameServer, '-c', c.name, '-t', topic, '-r', String(queues), '-w', String(queues)],
    { credentials: c.acl },
  );
  assert.match(r.stdout, /success/, r.stdout + r.stderr);
}

async function pullAll(
  client: BrokerClient,
  addr: string,
  topic: string,
  queueId: number,
  from: number,
  count: number,
): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let offset = from;
  const deadline = Date.now() + 15_000;
  while (out.length < count && Date.now() < deadline) {
    const r = await client.pull(addr, { topic, queueId, offset, maxMessages: 32, suspendMs: 1000 });
    out.push(...r.messages);
    offset = r.nextBeginOffset;
  }
  return out;
}

function assertSameMessage(got: StoredMessage, sent: OutgoingMessage, topic: string, queueId: number): void {
  assert.equal(got.topic, topic);
  assert.equal(got.queueId, queueId);
  assert.deepEqual(got.body, sent.body);
  assert.equal(got.tags, sent.tags);
  assert.deepEqual(got.keys, sent.keys ?? []);
  assert.equal(got.flag, sent.flag ?? 0);
  if (sent.bornTimestamp !== undefined) assert.equal(got.bornTimestamp, sent.bornTimestamp);
  for (const [k, v] of Object.entries(sent.properties ?? {})) assert.equal(got.properties[k], v, `property ${k}`);
}

for (const key of ['v4', 'v5', 'v4acl', 'v5acl'] as TestbedKey[]) {
  describe(`broker client on ${key}`, () => {
    let c: ClusterInfo;
    let remoting: RemotingClient;
    let ns: NameServerClient;
    let broker: BrokerClient;
    let addr: string;
    const topic = `rt_${key}_${Date.now()}`;

    before(async () => {
      c = await testCluster(key);
      remoting = new RemotingClient({ credentials: c.acl });
      ns = new NameServerClient(remoting, c.nameServer);
      broker = new BrokerClient(remoting);
      await createTopic(c, topic);
      const route = await ns.topicRoute(topic);
      addr = masterAddress(route.brokerDatas[0]!)!;
      assert.equal(route.queueDatas[0]!.writeQueueNums, 4);
    });
    after(() => remoting.close());

    it('sends single messages to a chosen queue and pulls them back with every field equal', async () => {
      const sent: OutgoingMessage[] = [
        {
          body: Buffer.from([0, 1, 2, 255, 254, 10, 13]),
          tags: 'TagA',
          keys: ['order-1', 'user-7'],
          properties: { region: 'ap-guangzhou', 说明: '跨集群复制 ✓', emoji: '🚀', spaced: ' a b ' },
          flag: 3,
          bornTimestamp: 1_700_000_000_123,
        },
        { body: Buffer.from('plain body'), tags: 'TagB' },
        { body: Buffer.alloc(64 * 1024, 'x'), keys: ['big'] },
      ];
      const results: SendResult[] = [];
      for (const m of sent) results.push(await broker.send(addr, topic, 2, m));
      for (const r of results) {
        assert.equal(r.status, 'SEND_OK');
        assert.equal(r.queueId, 2);
        assert.equal(r.msgIds.length, 1);
      }
      assert.deepEqual(
        results.map((r) => r.queueOffset),
        [results[0]!.queueOffset, results[0]!.queueOffset + 1, results[0]!.queueOffset + 2],
      );
      const got = await pullAll(broker, addr, topic, 2, results[0]!.queueOffset, 3);
      assert.equal(got.length, 3);
      got.forEach((g, i) => {
        assertSameMessage(g, sent[i]!, topic, 2);
        assert.equal(g.queueOffset, results[i]!.queueOffset);
        assert.equal(g.uniqKey, results[i]!.msgIds[0]);
      });
      // RocketMQ readers drop empty values, so the client refuses them up front, naming the property.
      await assert.rejects(
        broker.send(addr, topic, 2, { body: Buffer.from('x'), properties: { blank: '' } }),
        (e: unknown) => e instanceof InvalidPropertyError && e.property === 'blank',
      );
    });

    it('sends a batch of 100 atomically and contiguously, and pulls all of it back', async () => {
      const msgs: OutgoingMessage[] = Array.from({ length: 100 }, (_, i) => ({
        body: Buffer.from(`batch message ${i} ✓`),
        tags: i % 2 ? 'odd' : 'even',
        keys: [`k${i}`],
        properties: { seq: String(i), 名字: `值${i}` },
      }));
      msgs[0]!.bornTimestamp = 1_700_000_000_000;
      const r = await broker.sendBatch(addr, topic, 1, msgs);
      assert.equal(r.status, 'SEND_OK');
      assert.equal(r.msgIds.length, 100);
      assert.equal(new Set(r.msgIds).size, 100, 'every message has its own id');
      const got = await pullAll(broker, addr, topic, 1, r.queueOffset, 100);
      assert.equal(got.length, 100);
      got.forEach((g, i) => {
        assertSameMessage(g, msgs[i]!, topic, 1);
        // The batch format has one born time, the first message's, for all.
        assert.equal(g.bornTimestamp, 1_700_000_000_000);
        assert.equal(g.queueOffset, r.queueOffset + i);
        assert.equal(g.uniqKey, r.msgIds[i]);
      });
    });

    it('reports min/max offsets and finds the first message at or after a time', async () => {
      const q = 3;
      const stamps: number[] = [];
      for (let g = 0; g < 3; g++) {
        await broker.sendBatch(
          addr,
          topic,
          q,
          Array.from({ length: 5 }, (_, i) => ({ body: Buffer.from(`g${g}-${i}`) })),
        );
        await new Promise((res) => setTimeout(res, 60));
      }
      const all = await pullAll(broker, addr, topic, q, 0, 15);
      assert.equal(all.length, 15);
      for (const m of all) stamps.push(m.storeTimestamp);
      assert.equal(await broker.minOffset(addr, topic, q), 0);
      assert.equal(await broker.maxOffset(addr, topic, q), 15);
      const firstAtOrAfter = (t: number) => {
        const i = stamps.findIndex((s) => s >= t);
        return i < 0 ? 15 : i;
      };
      const probes = [
        stamps[0]! - 1000,
        stamps[0]!,
        stamps[5]!,
        stamps[5]! - 1,
        stamps[10]!,
        stamps[14]!,
        stamps[14]! + 1,
        Date.now() + 60_000,
      ];
      for (const t of probes) assert.equal(await broker.offsetAtOrAfter(addr, topic, q, t), firstAtOrAfter(t), `timestamp ${t}`);
    });

    it('commits and queries a consumer group offset', async () => {
      const group = `cg_${key}_${Date.now()}`;
      // 5.x refuses offsets of unknown groups (SUBSCRIPTION_GROUP_NOT_EXIST); create it as an operator would.
      const made = await mqadmin(c.version, ['updateSubGroup', '-n', c.nameServer, '-c', c.name, '-g', group], { credentials: c.acl });
      assert.match(made.stdout, /success/, made.stdout + made.stderr);
      // A group without a commit: brokers answer "nothing" or 0 (start of a queue still in memory).
      assert.ok([undefined, 0].includes(await broker.queryConsumerOffset(addr, group, topic, 0)));
      await broker.updateConsumerOffset(addr, group, topic, 0, 0);
      await broker.sendBatch(addr, topic, 0, [{ body: Buffer.from('a') }, { body: Buffer.from('b') }]);
      await broker.updateConsumerOffset(addr, group, topic, 0, 2);
      assert.equal(await broker.queryConsumerOffset(addr, group, topic, 0), 2);
    });

    it('answers a pull past the end with no messages, and a missing topic with TOPIC_NOT_EXIST', async () => {
      const r = await broker.pull(addr, { topic, queueId: 0, offset: 10_000, maxMessages: 1 });
      assert.equal(r.messages.length, 0);
      assert.notEqual(r.status, 'FOUND');
      await assert.rejects(
        ns.topicRoute(`missing_${Date.now()}`),
        (e: unknown) => e instanceof RemotingResponseError && e.responseCode === 17,
      );
    });

    if (hasAcl(key)) {
      it('is refused with a wrong secret', async () => {
        const bad = new RemotingClient({ credentials: { accessKey: c.acl!.accessKey, secretKey: 'wrong-secret' } });
        try {
          await assert.rejects(
            new BrokerClient(bad).send(addr, topic, 0, { body: Buffer.from('nope') }),
            (e: unknown) => e instanceof RemotingResponseError && [1, 16, 17].includes(e.responseCode),
          );
        } finally {
          bad.close();
        }
      });
    }
  });
}

function hasAcl(key: TestbedKey): boolean {
  return key.endsWith('acl');
}

describe('no stray failures', () => {
  it('left no unhandled promise rejections behind', () => {
    assert.deepEqual(unhandled, []);
  });
});
