// `npm run bench -- client [count] [--version 5.3.3]`: send and pull throughput (1 KiB bodies) of
// our remoting client and of Apache's Java client (FerryPeer: DefaultMQProducer batch sends,
// DefaultLitePullConsumer), against the same broker in the same run.
import { RocketMQCluster } from '../testbed/cluster.ts';
import { javaPeer } from '../testbed/java-peer.ts';
import type { OutgoingMessage } from '../../shared/rocketmq/message.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import type { Bench } from './run.ts';

const QUEUES = 8;
const BATCH = 32;
const SENDERS = 4; // Java: 4 producer threads
const BODY = 1024;

const bench: Bench = async (args) => {
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
  const vi = args.indexOf('--version');
  const version = vi >= 0 ? args[vi + 1]! : '5.3.3';
  console.log(
    `client bench: ${count} messages of ${BODY} B, ${QUEUES} queues, batches of ${BATCH}, ${SENDERS} senders, RocketMQ ${version}`,
  );
  const cluster = await RocketMQCluster.start({ version, name: 'bench-client' });
  const remoting = new RemotingClient();
  try {
    const ns = new NameServerClient(remoting, cluster.info.nameServer);
    const admin = new RemotingAdmin(remoting, ns);
    const broker = new BrokerClient(remoting);
    const addr = cluster.info.brokers[0]!.address;
    for (const t of ['BenchJava', 'BenchFerry']) {
      await admin.createOrUpdateTopicInCluster(cluster.info.name, { topicName: t, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    }
    const peer = (sub: string, topic: string) =>
      javaPeer(
        cluster.info.version,
        [
          sub,
          '--namesrv',
          cluster.info.nameServer,
          '--topic',
          topic,
          '--count',
          String(count),
          ...(sub === 'bench-send'
            ? ['--body-size', String(BODY), '--batch', String(BATCH), '--threads', String(SENDERS)]
            : ['--pull-batch', '32']),
        ],
        { timeoutMs: 600_000 },
      );
    const rate = (r: Awaited<ReturnType<typeof peer>>) => {
      const line = r.lines.at(-1) as { msgsPerSec?: number } | undefined;
      if (r.exitCode !== 0 || !line?.msgsPerSec) throw new Error(`Java peer failed: ${r.stderr.slice(-2000)}`);
      return line.msgsPerSec;
    };

    const javaSend = rate(await peer('bench-send', 'BenchJava'));
    console.log(`  Java  send ${javaSend.toFixed(0).padStart(8)} msgs/s`);

    // Ours: the same warm-up as the peer (1000 messages), then `count` in batches, one sender per queue slot.
    const body = Buffer.alloc(BODY, 'm');
    const batchOf = (n: number): OutgoingMessage[] => Array.from({ length: n }, () => ({ body }));
    for (let i = 0; i < 1000 / BATCH; i++) await broker.sendBatch(addr, 'BenchFerry', i % QUEUES, batchOf(BATCH));
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: SENDERS }, async (_, s) => {
        let q = s;
        for (;;) {
          const start = next;
          if (start >= count) return;
          next += BATCH;
          await broker.sendBatch(addr, 'BenchFerry', q, batchOf(Math.min(BATCH, count - start)));
          q = (q + SENDERS) % QUEUES;
        }
      }),
    );
    const ferrySend = count / ((performance.now() - t0) / 1000);
    console.log(`  Ferry send ${ferrySend.toFixed(0).padStart(8)} msgs/s`);

    const javaPull = rate(await peer('bench-pull', 'BenchFerry'));
    console.log(`  Java  pull ${javaPull.toFixed(0).padStart(8)} msgs/s`);

    // Ours: every queue pulled concurrently from its min offset, 32 per request, until `count`.
    let pulled = 0;
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: QUEUES }, async (_, q) => {
        let offset = await broker.minOffset(addr, 'BenchFerry', q);
        while (pulled < count) {
          const r = await broker.pull(addr, { topic: 'BenchFerry', queueId: q, offset, maxMessages: 32 });
          if (r.messages.length === 0) return;
          pulled += r.messages.length;
          offset = r.nextBeginOffset;
        }
      }),
    );
    const ferryPull = Math.min(pulled, count) / ((performance.now() - t1) / 1000);
    console.log(`  Ferry pull ${ferryPull.toFixed(0).padStart(8)} msgs/s (${pulled} pulled)`);
    const round = (x: number) => Math.round(x);
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    console.log(
      `  send ratio ${ratio(ferrySend, javaSend)}x, pull ratio ${ratio(ferryPull, javaPull)}x; Node RSS ` +
        `${Math.round(process.memoryUsage().rss / 1048576)} MiB`,
    );
    return {
      sendMsgsPerSec: round(ferrySend),
      javaSendMsgsPerSec: round(javaSend),
      sendRatio: ratio(ferrySend, javaSend),
      pullMsgsPerSec: round(ferryPull),
      javaPullMsgsPerSec: round(javaPull),
      pullRatio: ratio(ferryPull, javaPull),
    };
  } finally {
    remoting.close();
    await cluster.stop();
  }
};
export default bench;
