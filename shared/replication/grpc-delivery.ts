// Delivery of replicas to a gRPC target (a RocketMQ 5 proxy's Producer): one message per request,
// in order, with the retry policy and parking of the remoting delivery. What a gRPC target cannot
// give: its queues cannot be read back, so an unknown outcome cannot be settled by a tail read — the
// message is sent again (at-least-once) — and the proxy picks the queue (no same-queue mapping;
// a FIFO message's group keeps its order).
import type { GrpcConnection } from '../clusters/grpc-connect.ts';
import type { Logger } from '../log.ts';
import type { GrpcOutgoing } from '../rocketmq/grpc/producer.ts';
import type { StoredMessage } from '../rocketmq/message.ts';
import type { NewParkedMessage } from '../store/store.ts';
import { parkedProperties, sleep, type Replica, type RetryPolicy, type SendFailure } from './delivery.ts';
import type { FlowMetrics } from './flow-metrics.ts';
import { queueKey, type SourceQueue } from './queues.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface GrpcDeliveryContext {
  target: GrpcConnection;
  policy: RetryPolicy;
  metrics: FlowMetrics;
  limiter: RateLimiter | undefined;
  log: Logger;
  stopped: () => boolean;
  park: (message: Omit<NewParkedMessage, 'taskId' | 'flow'>) => Promise<void>;
}

/** gRPC status codes (grpc-js) and RocketMQ v2 codes (the client's exceptions carry them). */
const GRPC = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 } as const;

/** What a failed gRPC send means, in the remoting delivery's terms. */
export function classifyGrpcSendFailure(err: unknown): SendFailure {
  const code = typeof (err as { code?: unknown })?.code === 'number' ? (err as { code: number }).code : undefined;
  if (code === undefined) return 'message';
  if (code === GRPC.DEADLINE_EXCEEDED || code === GRPC.CANCELLED) return 'unknown-outcome';
  if (code === GRPC.UNAVAILABLE) return 'outage';
  // RocketMQ v2 codes: 4xxxx client side, 5xxxx server side.
  if (code === 42900) return 'busy';
  if (code === 40402 || code === 40400) return 'missing-topic';
  if (code === 40100 || code === 40300) return 'message';
  // Bad request (illegal tag, key, property, message id…), payload or properties too large: the same every time.
  if ((code >= 40000 && code < 41000) || (code >= 41300 && code < 41400) || (code >= 43100 && code < 43200)) return 'refused';
  // Internal error or a proxy/store timeout: the message may be stored.
  if (code >= 50000) return 'unknown-outcome';
  return 'message';
}

/** The replica for a gRPC producer: a FIFO group and a pending delivery time move to their fields. */
export function toGrpcOutgoing(r: Replica): GrpcOutgoing {
  const deliver = Number(r.m.properties.TIMER_DELIVER_MS);
  return { ...r.out, ...(Number.isFinite(deliver) && deliver > 0 ? { deliveryTimestamp: deliver } : {}) };
}

export class GrpcDelivery {
  constructor(private readonly ctx: GrpcDeliveryContext) {}

  /**
   * Sends every replica of q in order or parks what keeps failing: true. When the run stopped first:
   * the offset of the replica in hand — everything before it is confirmed; it may be stored already
   * when its last send's outcome was unknown, and is sent again on resume (at-least-once: a gRPC
   * target cannot be read back to settle it).
   */
  async deliver(q: SourceQueue, _index: number, replicas: readonly Replica[]): Promise<true | number | false> {
    const { ctx } = this;
    const producer = await ctx.target.producer();
    for (const r of replicas) {
      if (ctx.limiter && (await ctx.limiter.take(1)) > 0) ctx.metrics.throttled++;
      let failures = 0;
      for (let attempt = 0; ; attempt++) {
        if (ctx.stopped()) return r.m.queueOffset;
        try {
          await producer.send(q.topic, toGrpcOutgoing(r));
          ctx.metrics.replicated++;
          ctx.metrics.countTopic(q.topic, 'replicated', 1);
          ctx.metrics.recordDelay(Date.now() - r.m.storeTimestamp);
          break;
        } catch (err) {
          const failure = classifyGrpcSendFailure(err);
          ctx.log.debug({ queue: queueKey(q), offset: r.m.queueOffset, attempt, failure, reason: (err as Error).message }, 'send failed');
          if (failure === 'busy') ctx.metrics.throttled++;
          if (failure === 'refused' || (failure === 'message' && ++failures >= ctx.policy.attempts)) {
            await this.park(q, r, err);
            break;
          }
          await sleep(ctx.policy.delayMs(attempt));
        }
      }
    }
    return true;
  }

  /** A gRPC target cannot be read back: nothing is known to be there (resume is at-least-once). */
  async replicatedUpTo(): Promise<undefined> {
    return undefined;
  }

  private async park(q: SourceQueue, { m, out }: { m: StoredMessage; out: Replica['out'] }, err: unknown): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    await this.ctx.park({
      topic: q.topic,
      broker: q.brokerName,
      queueId: q.queueId,
      queueOffset: m.queueOffset,
      reason,
      payload: out.body,
      properties: parkedProperties(out),
      flag: out.flag ?? 0,
      bornTimestamp: out.bornTimestamp ?? null,
    });
    this.ctx.metrics.failed++;
    this.ctx.metrics.countTopic(q.topic, 'failed', 1);
    this.ctx.log.warn({ queue: queueKey(q), offset: m.queueOffset, reason }, 'message parked');
  }
}
