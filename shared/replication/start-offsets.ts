// Start offsets are fixed ONCE, when a task first starts (or when a reset asks for a new time):
// written as checkpoints, so nothing produced between two replicator invocations is skipped.
import pLimit from 'p-limit';
import type { ClusterConnection } from '../clusters/connect.ts';
import type { CheckpointEntry } from '../store/store.ts';
import type { SourceQueue } from './queues.ts';

export type StartPosition = { type: 'latest' } | { type: 'earliest' } | { type: 'timestamp'; timestamp: number };

async function startOffsetOf(source: ClusterConnection, q: SourceQueue, at: StartPosition): Promise<number> {
  switch (at.type) {
    case 'latest':
      return source.broker.maxOffset(q.address, q.topic, q.queueId);
    case 'earliest':
      return source.broker.minOffset(q.address, q.topic, q.queueId);
    case 'timestamp':
      return source.broker.offsetAtOrAfter(q.address, q.topic, q.queueId, at.timestamp);
  }
}

/**
 * One checkpoint per queue, marked exact: nothing of this start (or replay generation) has been
 * sent yet, so the first replicator needs no look at the target's tail. Each also carries the
 * queue's end now: the backlog this start has to catch up on (shown as catch-up progress).
 */
export async function startCheckpoints(
  source: ClusterConnection,
  queues: readonly SourceQueue[],
  at: StartPosition,
): Promise<CheckpointEntry[]> {
  const limit = pLimit(16);
  return Promise.all(
    queues.map((q) =>
      limit(async () => {
        const end = await source.broker.maxOffset(q.address, q.topic, q.queueId);
        const nextOffset = at.type === 'latest' ? end : await startOffsetOf(source, q, at);
        return {
          topic: q.topic,
          broker: q.brokerName,
          queueId: q.queueId,
          nextOffset,
          exact: true,
          baselineEnd: Math.max(end, nextOffset),
        };
      }),
    ),
  );
}
