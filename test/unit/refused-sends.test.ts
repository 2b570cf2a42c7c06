// A run that stops while the target keeps refusing a batch (a revoked key, say): when every send
// of it was refused outright, nothing of it is stored, so delivery names the offset where the
// batch begins and the queue's stop there is clean (its successor needs no tail read); after a
// send with an unknown outcome it cannot, and says so. Refused to the end of the budget: parked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterConnection } from '../../shared/clusters/connect.ts';
import { createLogger } from '../../shared/log.ts';
import { Delivery, RetryPolicy, type Replica, type TargetRoutes } from '../../shared/replication/delivery.ts';
import { FlowMetrics } from '../../shared/replication/flow-metrics.ts';
import { taskSigner, toReplica } from '../../shared/replication/origin.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import type { SourceQueue } from '../../shared/replication/queues.ts';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { RemotingTimeoutError, ResponseCode, responseError } from '../../shared/rocketmq/remoting/errors.ts';
import type { NewParkedMessage } from '../../shared/store/store.ts';

const signer = taskSigner(aesGcmCipher(Buffer.alloc(32, 1)), 'tenant', 't');
const src: SourceQueue = { topic: 'orders', brokerName: 'src-b0', address: '127.0.0.1:1', queueId: 0 };

/** Messages at these offsets, each born in its own millisecond: one send per message. */
const replicas = (...offsets: number[]): Replica[] =>
  offsets.map((o) => {
    const m = { queueOffset: o, bornTimestamp: 1000 + o, storeTimestamp: Date.now(), properties: {}, keys: [], body: Buffer.from(`m${o}`) };
    return {
      m: m as unknown as StoredMessage,
      out: toReplica(m as unknown as StoredMessage, { clusterId: 'A', brokerName: 'src-b0', generation: 0 }, 'B', signer, false),
    };
  });

/** A target that answers each send with the next scripted outcome ('ok', 'refused', 'timeout'), then 'refused'. */
function harness(script: ('ok' | 'refused' | 'timeout')[], stopAfterSends: number) {
  const stored: OutgoingMessage[] = [];
  const parked: Omit<NewParkedMessage, 'taskId' | 'flow'>[] = [];
  let sends = 0;
  const sendBatch = async (address: string, batch: OutgoingMessage[]) => {
    sends++;
    const outcome = script.shift() ?? 'refused';
    if (outcome === 'timeout') throw new RemotingTimeoutError(address, 3000, 320);
    if (outcome === 'refused') throw responseError(ResponseCode.NO_PERMISSION, 'User:task is disabled.', address, 320);
    stored.push(...batch);
    return { msgIds: batch.map(() => 'id') };
  };
  // A batch of one may go out as a plain send.
  const broker = {
    send: (address: string, _t: string, _q: number, m: OutgoingMessage) => sendBatch(address, [m]),
    sendBatch: (address: string, _t: string, _q: number, batch: OutgoingMessage[]) => sendBatch(address, batch),
  };
  const d = new Delivery({
    target: { clusterId: 'B', broker } as unknown as ClusterConnection,
    routes: { queueFor: async () => ({ brokerName: 'dst-b0', address: '127.0.0.1:2', queueId: 0 }) } as unknown as TargetRoutes,
    sourceClusterId: 'A',
    generation: 0,
    idempotentResume: true,
    signer,
    policy: new RetryPolicy(5, 1, 2),
    metrics: new FlowMetrics('t', 'forward'),
    limiter: undefined,
    log: createLogger('silent'),
    stopped: () => sends >= stopAfterSends,
    park: async (m) => {
      parked.push(m);
    },
    requestMetadataSync: undefined,
  });
  return { d, stored, parked };
}

describe('a stop while the target refuses sends', () => {
  it('after outright refusals only: the offset where the undelivered batch begins, nothing of it stored', async () => {
    const h = harness(['ok', 'refused', 'refused'], 3);
    assert.equal(await h.d.deliver(src, 0, replicas(10, 11, 12)), 11);
    assert.deepEqual(
      h.stored.map((o) => o.body.toString()),
      ['m10'],
    );
    assert.deepEqual(h.parked, []);
  });

  it('after a send whose outcome is unknown: no clean position (false)', async () => {
    // Stopped before the target's tail could be read to settle it.
    const h = harness(['ok', 'timeout'], 2);
    assert.equal(await h.d.deliver(src, 0, replicas(10, 11, 12)), false);
  });

  it('refused through the retry budget: parked with the reason, the run goes on', async () => {
    const h = harness([], 100);
    assert.equal(await h.d.deliver(src, 0, replicas(20)), true);
    assert.equal(h.parked.length, 1);
    assert.match(h.parked[0]!.reason, /NO_PERMISSION \(16\).*User:task is disabled/);
  });
});
