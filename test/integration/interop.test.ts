// Interop both ways with Apache's Java client (FerryPeer): what Java writes — compressed bodies
// included — our client reads exactly; what our client writes, Java reads exactly.
import assert from 'node:assert/strict';
import { before, after, describe, it } from 'node:test';
import { javaConsume, javaPeer } from '../testbed/java-peer.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { NameServerClient, masterAddress } from '../../shared/rocketmq/remoting/namesrv.ts';
import { testCluster, type TestbedKey } from '../support/testbed.ts';

interface JavaProduced {
  msgId: string;
  offsetMsgId: string;
  queueId: number;
  queueOffset: number;
  bodyBase64: string;
}
interface JavaConsumed {
  queueId: number;
  queueOffset: number;
  uniqKey: string | null;
  offsetMsgId: string;
  bodyBase64: string;
  tags: string | null;
  keys: string | null;
  properties: Record<string, string>;
  bornTimestamp: number;
  flag: number;
}

const UNICODE = '跨集群 réplication 🚀';

for (const key of ['v4', 'v5', 'v5acl'] as TestbedKey[]) {
  describe(`interop with the Java client on ${key}`, () => {
    let c: ClusterInfo;
    let remoting: RemotingClient;
    let broker: BrokerClient;
    let ns: NameServerClient;
    let admin: RemotingAdmin;
    const creds = () => (c.acl ? ['--ak', c.acl.accessKey, '--sk', c.acl.secretKey] : []);

    before(async () => {
      c = await testCluster(key);
      remoting = new RemotingClient({ credentials: c.acl });
      ns = new NameServerClient(remoting, c.nameServer);
      broker = new BrokerClient(remoting);
      admin = new RemotingAdmin(remoting, ns);
    });
    after(() => remoting.close());

    const newTopic = async (prefix: string) => {
      const topic = `${prefix}_${key}_${Date.now()}`;
      await admin.createOrUpdateTopicInCluster(c.name, { topicName: topic, readQueueNums: 4, writeQueueNums: 4, perm: 6 });
      const route = await ns.topicRoute(topic);
      return { topic, addr: masterAddress(route.brokerDatas[0]!)! };
    };

    const pullAt = async (addr: string, topic: string, queueId: number, offset: number): Promise<StoredMessage> => {
      const r = await broker.pull(addr, { topic, queueId, offset, maxMessages: 1, suspendMs: 2000 });
      assert.equal(r.messages.length, 1, `message at ${topic}/${queueId}/${offset}`);
      return r.messages[0]!;
    };

    for (const compress of ['ZLIB', 'LZ4', 'ZSTD']) {
      it(`reads what Java wrote, including ${compress}-compressed bodies`, async () => {
        const { topic, addr } = await newTopic(`j2f_${compress.toLowerCase()}`);
        const produced: JavaProduced[] = [];
        for (const size of ['64', '20000']) {
          const r = await javaPeer(c.version, [
            'produce',
            '--namesrv',
            c.nameServer,
            '--topic',
            topic,
            '--count',
            '3',
            '--body-size',
            size,
            '--tags',
            'TagJ',
            '--keys',
            'key-{i} other-{i}',
            '--prop',
            `uni=${UNICODE}`,
            '--prop',
            'seq={i}',
            '--flag',
            '5',
            '--compress-over',
            '4096',
            '--compress-type',
            compress,
            ...creds(),
          ]);
          assert.equal(r.exitCode, 0, r.stderr.slice(-2000));
          produced.push(...(r.lines as JavaProduced[]));
        }
        for (const p of produced) {
          const m = await pullAt(addr, topic, p.queueId, p.queueOffset);
          assert.deepEqual(m.body, Buffer.from(p.bodyBase64, 'base64'), 'body bytes (decompressed)');
          assert.equal(m.uniqKey, p.msgId);
          assert.equal(m.msgId, p.offsetMsgId, 'offset message id computed like the Java client');
          assert.equal(m.tags, 'TagJ');
          assert.equal(m.keys.length, 2);
          assert.equal(m.properties.uni, UNICODE);
          assert.equal(m.flag, 5);
          if (m.body.length > 4096) assert.equal(m.sysFlag & 1, 1, 'the large body was stored compressed');
        }
      });
    }

    it('writes what Java reads exactly (single sends and a batch)', async () => {
      const { topic, addr } = await newTopic('f2j');
      const sent: { msg: OutgoingMessage; queueId: number; queueOffset: number; uniqKey: string }[] = [];
      const single: OutgoingMessage = {
        body: Buffer.alloc(12_000, 'é'),
        tags: 'TagF',
        keys: ['f-1', 'f-2'],
        properties: { uni: UNICODE, n: '1' },
        flag: 9,
        bornTimestamp: 1_700_000_000_999,
      };
      const r1 = await broker.send(addr, topic, 1, single);
      sent.push({ msg: single, queueId: 1, queueOffset: r1.queueOffset, uniqKey: r1.msgIds[0]! });
      const batch: OutgoingMessage[] = Array.from({ length: 10 }, (_, i) => ({
        body: Buffer.from(`batch ${i} ${UNICODE}`),
        tags: `T${i % 3}`,
        keys: [`b-${i}`],
        properties: { i: String(i) },
      }));
      const r2 = await broker.sendBatch(addr, topic, 3, batch);
      batch.forEach((msg, i) => {
        sent.push({ msg, queueId: 3, queueOffset: r2.queueOffset + i, uniqKey: r2.msgIds[i]! });
      });

      const r = await javaConsume(
        c.version,
        [
          '--namesrv',
          c.nameServer,
          '--topic',
          topic,
          '--expect',
          String(sent.length),
          '--timeout-ms',
          '30000',
          '--linger-ms',
          '500',
          ...creds(),
        ],
        sent.length,
      );
      assert.equal(r.exitCode, 0, r.stderr.slice(-2000));
      const got = r.lines as JavaConsumed[];
      assert.equal(got.length, sent.length, 'exactly what we sent, nothing more');
      for (const s of sent) {
        const j = got.find((g) => g.queueId === s.queueId && g.queueOffset === s.queueOffset);
        assert.ok(j, `Java saw ${s.queueId}/${s.queueOffset}`);
        assert.deepEqual(Buffer.from(j.bodyBase64, 'base64'), s.msg.body);
        assert.equal(j.uniqKey, s.uniqKey);
        assert.equal(j.tags, s.msg.tags);
        assert.equal(j.keys, s.msg.keys!.join(' '));
        for (const [k, v] of Object.entries(s.msg.properties ?? {})) assert.equal(j.properties[k], v);
        assert.equal(j.flag, s.msg.flag ?? 0);
        if (s.msg.bornTimestamp) assert.equal(j.bornTimestamp, s.msg.bornTimestamp);
      }
    });
  });
}
