// A gRPC source (a RocketMQ 5 proxy): one SimpleConsumer of a Ferry-owned consumer group per task
// and flow, subscribed to the filter's topics. Receive → filter and loop check → deliver to the
// target → ack only after the target confirmed. Nothing is checkpointed: the group's own progress
// on the broker is the position, and what was received but not acked (a stop, a crash, a failed
// delivery) is received again after the invisible duration — at-least-once, never skipped.
import type { GrpcConnection } from '../clusters/grpc-connect.ts';
import type { Logger } from '../log.ts';
import type { ReceivedMessage } from '../rocketmq/grpc/consumer.ts';
import type { StoredMessage } from '../rocketmq/message.ts';
import type { Replica } from './delivery.ts';
import type { FlowMetrics } from './flow-metrics.ts';
import { isTrusted, toReplica, wouldLoop } from './origin.ts';
import { queueKey, type SourceQueue } from './queues.ts';
import type { PropertySigner } from './signature.ts';

/** Messages one receive takes. */
const RECEIVE_BATCH = 32;
/** How long received messages stay hidden from the group: a batch's delivery fits well within it. */
const INVISIBLE_MS = 30_000;
/** A receive's longest wait (the consumer's long poll) plus its request time: none starts closer to the deadline. */
const RECEIVE_SPAN_MS = 5000 + 5000;

export interface GrpcSourceContext {
  source: GrpcConnection;
  /** The Ferry-owned consumer group (see grpcConsumerGroup). */
  group: string;
  topics: readonly string[];
  targetClusterId: string;
  delivery: { deliver(q: SourceQueue, index: number, replicas: readonly Replica[]): Promise<true | number | false> };
  metrics: FlowMetrics;
  filter: (m: StoredMessage) => boolean;
  onward: (m: StoredMessage, trusted: boolean) => boolean;
  signer: PropertySigner;
  generation: number;
  deadline: number;
  log: Logger;
}

/** The consumer group a task's flow reads a gRPC source with: Ferry's own, never synchronised. */
export const grpcConsumerGroup = (taskId: string, flow: string) => `FERRY_${taskId}_${flow}`.replace(/[^A-Za-z0-9_%|-]/g, '_');

export class GrpcSourceCopier {
  /** Unused (the proxy picks queues); kept so shard runs treat every copier alike. */
  index = 0;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly ctx: GrpcSourceContext) {}

  /** Ends at once: a receive in flight is abandoned (what it brings stays unacked and comes back). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Receives and copies until stopped or past the deadline; there is no checkpoint to return. */
  async run(): Promise<undefined> {
    const { ctx } = this;
    const consumer = await ctx.source.consumer(
      ctx.group,
      ctx.topics.map((topic) => ({ topic, expression: '*', type: 'TAG' as const })),
    );
    let failures = 0;
    // Messages received too close to the deadline would be held unacked until their invisibility ends.
    while (!this.stopped && ctx.deadline - Date.now() > RECEIVE_SPAN_MS) {
      let received: ReceivedMessage[] | undefined;
      try {
        // A stop signal per receive: racing every receive against one run-long promise left a reaction
        // on it per receive, each holding its batch (bodies included) until the run ended.
        const stopping = new Promise<undefined>((r) => (this.wake = () => r(undefined)));
        received = await Promise.race([consumer.receive(RECEIVE_BATCH, INVISIBLE_MS), stopping]);
        this.wake = undefined;
        if (!received) break;
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 20 === 0) ctx.log.warn({ err, failures }, 'gRPC source receive failed; receiving again');
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** Math.min(failures, 5))));
        continue;
      }
      if (received.length === 0) continue;
      // Received too late to send within this run: left unacked, they come back to the successor.
      if (this.stopped || Date.now() >= ctx.deadline) break;
      await this.copy(received);
    }
    return undefined;
  }

  /** One received batch, queue by queue in arrival order; each queue's messages are acked once delivered. */
  private async copy(received: readonly ReceivedMessage[]): Promise<void> {
    const { ctx } = this;
    const byQueue = new Map<string, { q: SourceQueue; items: ReceivedMessage[] }>();
    for (const r of received) {
      const q: SourceQueue = { topic: r.m.topic, brokerName: r.brokerName, address: ctx.source.nameServer, queueId: r.m.queueId };
      const k = queueKey(q);
      const entry = byQueue.get(k) ?? { q, items: [] };
      entry.items.push(r);
      byQueue.set(k, entry);
    }
    for (const { q, items } of byQueue.values()) {
      ctx.metrics.consumed += items.length;
      ctx.metrics.countTopic(q.topic, 'consumed', items.length);
      const replicas: Replica[] = [];
      for (const { m } of items) {
        if (!ctx.filter(m)) {
          ctx.metrics.filtered++;
          continue;
        }
        const trusted = isTrusted(m, ctx.signer);
        if (wouldLoop(m, ctx.source.clusterId, ctx.targetClusterId, trusted) || !ctx.onward(m, trusted)) {
          ctx.metrics.loopSkipped++;
          continue;
        }
        const out = toReplica(
          m,
          { clusterId: ctx.source.clusterId, brokerName: q.brokerName, generation: ctx.generation },
          ctx.targetClusterId,
          ctx.signer,
          trusted,
        );
        replicas.push({ m, out });
      }
      // The queue id is the position: a remoting target maps it to its queue id mod n.
      const sent = replicas.length ? await ctx.delivery.deliver(q, q.queueId, replicas) : true;
      // Stopped in the middle: nothing of this queue is acked (some may be sent: at-least-once).
      if (sent !== true) return;
      await Promise.all(
        items.map((r) =>
          r.ack().catch((err: unknown) => {
            // An ack lost (an expired receipt) means the message comes again: a duplicate, never a loss.
            ctx.log.warn({ err, queue: queueKey(q), msgId: r.m.msgId }, 'ack failed: the message will be received again');
          }),
        ),
      );
    }
  }
}
