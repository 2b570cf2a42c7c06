// The parked-message retry job: re-sends messages whose retry was asked for through the API, to
// the target queue the replicator would have used (queue index within the source topic's readable
// queues, mod the target's writable ones), with flag, born time and properties as parked. What
// still fails stays parked until the next request.
import type { ClusterConnection } from '../clusters/connect.ts';
import type { Logger } from '../log.ts';
import type { ParkedMessage, ParkedStore } from '../store/store.ts';
import { TargetRoutes, fromParked } from './delivery.ts';
import type { FlowMetrics } from './flow-metrics.ts';
import { readableQueues } from './queues.ts';

const BATCH = 256;

export async function retryParked(
  taskId: string,
  flow: string,
  ctx: { store: ParkedStore; source: ClusterConnection; target: ClusterConnection; metrics: FlowMetrics; log: Logger; deadline: number },
): Promise<void> {
  const routes = new TargetRoutes(ctx.target);
  const sourceIndex = new Map<string, Map<string, number>>();
  /** The queue's index among the source topic's readable queues; its queue id when the source no longer lists it. */
  const indexOf = async (p: ParkedMessage): Promise<number> => {
    let byQueue = sourceIndex.get(p.topic);
    if (!byQueue) {
      byQueue = new Map();
      try {
        readableQueues(p.topic, await ctx.source.nameServers.topicRoute(p.topic)).forEach((q, i) => {
          byQueue!.set(`${q.brokerName}/${q.queueId}`, i);
        });
      } catch (err) {
        ctx.log.warn({ err, topic: p.topic }, 'source route unknown; parked messages keep their queue id');
      }
      sourceIndex.set(p.topic, byQueue);
    }
    return byQueue.get(`${p.broker}/${p.queueId}`) ?? p.queueId;
  };
  while (Date.now() < ctx.deadline) {
    const batch = await ctx.store.takeRetryBatch(taskId, flow, BATCH);
    if (batch.length === 0) return;
    const resolved: number[] = [];
    for (const p of batch) {
      try {
        const t = await routes.queueFor(p.topic, await indexOf(p), true);
        await ctx.target.broker.send(t.address, p.topic, t.queueId, fromParked(p));
        resolved.push(p.id);
        ctx.metrics.replicated++;
      } catch (err) {
        ctx.log.warn({ err, parkedId: p.id }, 'parked message still cannot be delivered');
      }
    }
    await ctx.store.resolveParked(resolved);
    ctx.log.info({ taken: batch.length, delivered: resolved.length }, 'parked messages retried');
  }
}
