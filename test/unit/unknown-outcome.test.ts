// The unknown-outcome rule when the target broker crashes: a send that was stored but never
// answered must not be sent again, even while the name server has dropped the dead broker's
// route (the topic then looks missing) — the tail is read where that send went, once the broker
// is back. A resume with no route to read from waits instead of guessing "nothing there".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterConnection } from '../../shared/clusters/connect.ts';
import { FerryError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/log.ts';
import { Delivery, RetryPolicy, type DeliveryContext, type Replica, type TargetRoutes } from '../../shared/replication/delivery.ts';
import { FlowMetrics } from '../../shared/replication/flow-metrics.ts';
import { taskSigner, toReplica } from '../../shared/replication/origin.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import type { SourceQueue, TargetQueue } from '../../shared/replication/queues.ts';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { RemotingConnectError, RemotingConnectionClosedError } from '../../shared/rocketmq/remoting/errors.ts';

const TOPIC = 'orders';
const signer = taskSigner(aesGcmCipher(Buffer.alloc(32, 1)), 'tenant', 't');
const src: SourceQueue = { topic: TOPIC, brokerName: 'src-b0', address: '127.0.0.1:1', queueId: 0 };
const TARGET: TargetQueue = { brokerName: 'dst-b0', address: '127.0.0.1:2', queueId: 0 };

function sourceMessage(offset: number): StoredMessage {
  return {
    topic: TOPIC,
    queueId: 0,
    queueOffset: offset,
    commitLogOffset: offset * 100,
    msgId: `M${offset}`,
    uniqKey: `U${offset}`,
    body: Buffer.from(`m${offset}`),
    bodyCRC: 0,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 1000,
    bornHost: '127.0.0.1:9',
    storeTimestamp: Date.now(),
    storeHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    tags: undefined,
    keys: [],
    properties: { UNIQ_KEY: `U${offset}` },
  };
}

const replicas = (from: number, n: number): Replica[] =>
  Array.from({ length: n }, (_, i) => {
    const m = sourceMessage(from + i);
    return { m, out: toReplica(m, { clusterId: 'A', brokerName: src.brokerName, generation: 0 }, 'B', signer, false) };
  });

/**
 * One target broker with one queue. `crashAfterStoring` makes the next send store its batch and
 * then lose the connection (a broker killed before it answered). While down — for the next
 * `downFor` requests of any kind — the broker refuses connections and the name server has no
 * route for the topic.
 */
class CrashingTarget {
  stored: OutgoingMessage[] = [];
  crashAfterStoring = false;
  downFor = 0;
  metadataSyncs = 0;

  private get down(): boolean {
    if (this.downFor <= 0) return false;
    this.downFor--;
    return true;
  }

  private reachable(address: string) {
    if (this.down) throw new RemotingConnectError(address, 'connect ECONNREFUSED');
  }

  connection(): ClusterConnection {
    const broker = {
      send: (address: string, topic: string, queueId: number, m: OutgoingMessage) => broker.sendBatch(address, topic, queueId, [m]),
      sendBatch: async (address: string, _topic: string, _queueId: number, batch: OutgoingMessage[]) => {
        this.reachable(address);
        if (this.crashAfterStoring) {
          this.crashAfterStoring = false;
          this.stored.push(...batch);
          this.downFor = 8;
          throw new RemotingConnectionClosedError(address);
        }
        this.stored.push(...batch);
        return { msgIds: batch.map((_, i) => `T${this.stored.length - batch.length + i}`) };
      },
      minOffset: async (address: string) => {
        this.reachable(address);
        return 0;
      },
      maxOffset: async (address: string) => {
        this.reachable(address);
        return this.stored.length;
      },
      pull: async (address: string, r: { offset: number; maxMessages?: number }) => {
        this.reachable(address);
        const end = Math.min(this.stored.length, r.offset + (r.maxMessages ?? 32));
        const messages = this.stored
          .slice(r.offset, end)
          .map((o, i) => ({ topic: TOPIC, queueOffset: r.offset + i, properties: o.properties ?? {} }));
        return { status: 'FOUND', nextBeginOffset: end, minOffset: 0, maxOffset: this.stored.length, messages };
      },
    };
    return { clusterId: 'B', broker } as unknown as ClusterConnection;
  }

  /** The route as TargetRoutes gives it: none while the broker is down (the topic then looks missing). */
  routes(): TargetRoutes {
    return {
      queueFor: async (topic: string) => {
        if (this.down) throw new FerryError('NOT_FOUND', `topic ${topic} does not exist on the target cluster B`);
        return TARGET;
      },
    } as unknown as TargetRoutes;
  }
}

function delivery(target: CrashingTarget): Delivery {
  const ctx: DeliveryContext = {
    target: target.connection(),
    routes: target.routes(),
    sourceClusterId: 'A',
    generation: 0,
    idempotentResume: true,
    signer,
    policy: new RetryPolicy(5, 1, 5),
    metrics: new FlowMetrics('t', 'forward'),
    limiter: undefined,
    log: createLogger('silent'),
    stopped: () => false,
    park: async () => assert.fail('nothing is parked'),
    requestMetadataSync: () => {
      target.metadataSyncs++;
    },
  };
  return new Delivery(ctx);
}

const sourceOffsets = (t: CrashingTarget) => t.stored.map((o) => Number(o.properties!.FERRY_SRC_OFFSET));

describe('unknown send outcome on a target broker crash', () => {
  it('a batch stored before the crash is not sent again while the route is gone, nor after the broker is back', async () => {
    const target = new CrashingTarget();
    const d = delivery(target);
    assert.equal(await d.deliver(src, 0, replicas(0, 5)), true);
    // Stored, unanswered; then for a while neither the broker nor a route for the topic, then both back.
    target.crashAfterStoring = true;
    assert.equal(await d.deliver(src, 0, replicas(5, 5)), true);
    assert.equal(await d.deliver(src, 0, replicas(10, 5)), true);
    assert.equal(target.stored.length, 15, `each replica stored once: ${sourceOffsets(target).join(',')}`);
  });

  it('a resume with no route to the target reads nothing into it: "no-route", and metadata sync is asked', async () => {
    const target = new CrashingTarget();
    const d = delivery(target);
    await d.deliver(src, 0, replicas(0, 3));
    target.downFor = 1;
    assert.equal(await d.replicatedUpTo(src, 0), 'no-route');
    assert.equal(target.metadataSyncs, 1);
    assert.equal(await d.replicatedUpTo(src, 0), 2, 'once routed again, the newest replica of the source queue');
  });
});
