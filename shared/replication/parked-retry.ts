// The parked-message retry job: re-sends messages whose retry was asked for through the API, in the
// order they were parked, to the target queue the replicator would have used (the queue's position
// among the source topic's readable queues, mod the target's writable ones: see queues.ts), with
// flag, born time, tags, keys, producer id and properties as parked. What still fails stays parked
// until the next request.
import type { ClusterConnection } from '../clusters/connect.ts';
import type { Logger } from '../log.ts';
import { TopicNotFoundError } from '../rocketmq/remoting/errors.ts';
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
  /** Per topic, asked once per job: each source queue's index, or why the source could not say. */
  const sourceIndex = new Map<string, Promise<Map<string, number>>>();
  /**
   * The queue's index among the source topic's readable queues; its queue id when the source no
   * longer has the topic or the queue. A source that does not answer leaves the message parked
   * (thrown) rather than guessed onto another queue.
   */
  const indexOf = async (p: ParkedMessage): Promise<number> => {
    let byQueue = sourceIndex.get(p.topic);
    if (!byQueue) {
      byQueue = ctx.source.nameServers.topicRoute(p.topic).then(
        (route) => new Map(readableQueues(p.topic, route).map((q, i): [string, number] => [`${q.brokerName}/${q.queueId}`, i])),
        (err: unknown) => {
          if (!(err instanceof TopicNotFoundError)) throw err;
          ctx.log.warn({ topic: p.topic }, 'topic gone from the source; its parked messages go by their queue id');
          return new Map<string, number>();
        },
      );
      sourceIndex.set(p.topic, byQueue);
    }
    return (await byQueue).get(`${p.broker}/${p.queueId}`) ?? p.queueId;
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
        ctx.metrics.countTopic(p.topic, 'replicated');
      } catch (err) {
        ctx.log.warn({ err, parkedId: p.id }, 'parked message still cannot be delivered');
      }
    }
    await ctx.store.resolveParked(resolved);
    ctx.log.info({ taken: batch.length, delivered: resolved.length }, 'parked messages retried');
  }
}
