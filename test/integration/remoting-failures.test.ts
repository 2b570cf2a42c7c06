// Failure handling against real processes: dead name servers, silent peers, a broker killed mid-pull.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RocketMQCluster } from '../testbed/cluster.ts';
import { mqadmin } from '../testbed/mqadmin.ts';
import { freePortBlock } from '../testbed/ports.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import {
  RemotingConnectError,
  RemotingConnectionClosedError,
  RemotingError,
  RemotingTimeoutError,
} from '../../shared/rocketmq/remoting/errors.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

const openSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

describe('remoting failures', () => {
  let silent: Server;
  let silentAddr: string;
  const held: Socket[] = [];

  before(async () => {
    // Accepts connections and never answers: what a hung peer looks like.
    silent = createServer((s) => {
      held.push(s);
      s.resume();
      s.on('end', () => s.destroy());
      s.on('error', () => s.destroy());
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const a = silent.address();
    silentAddr = `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  it('an unreachable name server fails with a typed error within the timeout', async () => {
    const dead = `127.0.0.1:${await freePortBlock(1)}`;
    const client = new RemotingClient({ connectTimeoutMs: 1000 });
    const t0 = Date.now();
    await assert.rejects(
      new NameServerClient(client, dead, 1500).topicList(),
      (e: unknown) => e instanceof RemotingConnectError && e.message.includes(dead),
    );
    assert.ok(Date.now() - t0 < 2000);
    client.close();
  });

  it('a silent peer times out with RemotingTimeoutError, and a list fails over past both', async () => {
    const client = new RemotingClient({ connectTimeoutMs: 1000 });
    const t0 = Date.now();
    await assert.rejects(new NameServerClient(client, silentAddr, 800).topicList(), RemotingTimeoutError);
    const took = Date.now() - t0;
    assert.ok(took >= 700 && took < 1800, `took ${took} ms`);
    const dead = `127.0.0.1:${await freePortBlock(1)}`;
    await assert.rejects(
      new NameServerClient(client, `${dead};${silentAddr}`, 500).topicList(),
      (e: unknown) => e instanceof RemotingConnectError && e.message.includes(dead) && e.message.includes(silentAddr),
    );
    client.close();
  });

  describe('broker killed mid-pull', () => {
    let cluster: RocketMQCluster;
    before(async () => {
      cluster = await RocketMQCluster.start({ version: '4.9.7', name: 'kill-test' });
    });
    after(async () => {
      await cluster.stop();
    });

    it('rejects the in-flight pull, then reconnects once the broker is back', async (t) => {
      const info = cluster.info;
      const topic = 'KillMidPull';
      const made = await mqadmin(info.version, ['updateTopic', '-n', info.nameServer, '-c', info.name, '-t', topic, '-r', '2', '-w', '2']);
      assert.match(made.stdout, /success/);
      const client = new RemotingClient();
      t.after(() => client.close());
      const broker = new BrokerClient(client);
      const addr = info.brokers[0]!.address;
      const first = await broker.send(addr, topic, 0, { body: Buffer.from('before') });
      // A long-polling pull waits at the end of the queue; then the broker dies under it.
      const inflight = broker.pull(addr, { topic, queueId: 0, offset: first.queueOffset + 1, suspendMs: 20_000 }).then(
        () => 'answered',
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 300));
      await cluster.killBroker(0);
      assert.ok((await inflight) instanceof RemotingConnectionClosedError, 'the in-flight pull fails with the connection');
      await assert.rejects(broker.pull(addr, { topic, queueId: 0, offset: 0 }), RemotingError);
      await cluster.restartBroker(0);
      const again = await broker.pull(addr, { topic, queueId: 0, offset: 0, maxMessages: 8 });
      assert.equal(again.messages[0]?.body.toString(), 'before');
      const sent = await broker.send(addr, topic, 0, { body: Buffer.from('after') });
      assert.equal(sent.queueOffset, first.queueOffset + 1);
    });
  });

  it('leaves no sockets open and no unhandled rejections', async () => {
    for (const s of held) s.destroy(); // the fake peer's side is not ours to count
    await new Promise((r) => setTimeout(r, 100)); // let closed sockets finish closing
    assert.equal(openSockets(), 0, `open sockets: ${process.getActiveResourcesInfo().join(', ')}`);
    assert.deepEqual(unhandled, []);
  });
});
