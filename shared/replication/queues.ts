// The source queues a flow replicates and where each one lands on the target.
import { createHash } from 'node:crypto';
import type { ClusterConnection } from '../clusters/connect.ts';
import type { TopicMatcher } from '../filter/topic-match.ts';
import { PERM_READ, PERM_WRITE, masterAddress, type TopicRoute } from '../rocketmq/remoting/namesrv.ts';

export interface SourceQueue {
  topic: string;
  brokerName: string;
  address: string;
  queueId: number;
}

export const queueKey = (q: Pick<SourceQueue, 'topic' | 'brokerName' | 'queueId'>): string => `${q.topic}/${q.brokerName}/${q.queueId}`;

/** Stable shard of a queue: the same queue always belongs to the same shard of a flow. */
export function shardOf(q: Pick<SourceQueue, 'topic' | 'brokerName' | 'queueId'>, shardCount: number): number {
  return createHash('sha1').update(queueKey(q)).digest().readUInt32BE(0) % shardCount;
}

/** Readable queues of a route, ordered by broker then queue id. */
export function readableQueues(topic: string, route: TopicRoute): SourceQueue[] {
  const out: SourceQueue[] = [];
  for (const qd of route.queueDatas) {
    if ((qd.perm & PERM_READ) === 0) continue;
    const b = route.brokerDatas.find((x) => x.brokerName === qd.brokerName);
    const address = b && masterAddress(b);
    if (!address) continue;
    for (let q = 0; q < qd.readQueueNums; q++) out.push({ topic, brokerName: qd.brokerName, address, queueId: q });
  }
  return out.sort((a, b) => a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId);
}

export interface TargetQueue {
  brokerName: string;
  address: string;
  queueId: number;
}

/** Writable queues of the target topic in a stable order; empty when the topic is not writable. */
export function writableQueues(route: TopicRoute): TargetQueue[] {
  const out: TargetQueue[] = [];
  for (const qd of route.queueDatas) {
    if ((qd.perm & PERM_WRITE) === 0) continue;
    const b = route.brokerDatas.find((x) => x.brokerName === qd.brokerName);
    const address = b && masterAddress(b);
    if (!address) continue;
    for (let q = 0; q < qd.writeQueueNums; q++) out.push({ brokerName: qd.brokerName, address, queueId: q });
  }
  return out.sort((a, b) => a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId);
}

/**
 * Source queue i (in readableQueues order) goes to target queue i mod n: with equal queue counts,
 * which metadata sync keeps, queue q maps to queue q and order within a queue is kept.
 */
export function targetFor(sourceIndex: number, targets: readonly TargetQueue[]): TargetQueue | undefined {
  return targets.length ? targets[sourceIndex % targets.length] : undefined;
}

/** Every queue of every replicated topic on the source side of a flow. */
export async function listSourceQueues(source: ClusterConnection, topics: TopicMatcher, isSystemTopic: (t: string) => boolean): Promise<{ topic: string; queues: SourceQueue[] }[]> {
  const names = (await source.nameServers.topicList()).filter((t) => !isSystemTopic(t) && topics(t)).sort();
  const out: { topic: string; queues: SourceQueue[] }[] = [];
  for (const topic of names) {
    try {
      out.push({ topic, queues: readableQueues(topic, await source.nameServers.topicRoute(topic)) });
    } catch {
      // Deleted between the list and the route query: it has no queues to replicate.
    }
  }
  return out;
}
