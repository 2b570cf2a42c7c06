// The source queues a flow replicates and where each one lands on the target.
import type { ClusterConnection } from '../clusters/connect.ts';
import { RemotingResponseError, UnsupportedOperationError } from '../rocketmq/remoting/errors.ts';
import { PERM_READ, PERM_WRITE, masterAddress, type TopicRoute } from '../rocketmq/remoting/namesrv.ts';

export interface SourceQueue {
  topic: string;
  brokerName: string;
  address: string;
  queueId: number;
}

/**
 * The order in which a topic's queues are numbered for the mapping: queue id first, then broker name
 * (character code order) — queue 0 of every broker, then queue 1 of every broker, and so on — so
 * the first positions of a topic on several brokers take turns between its brokers.
 */
const byQueueThenBroker = (a: { brokerName: string; queueId: number }, b: { brokerName: string; queueId: number }) =>
  a.queueId - b.queueId || (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0);

export const queueKey = (q: Pick<SourceQueue, 'topic' | 'brokerName' | 'queueId'>): string => `${q.topic}/${q.brokerName}/${q.queueId}`;

/** Readable queues of a route, in mapping order (byQueueThenBroker). */
export function readableQueues(topic: string, route: TopicRoute): SourceQueue[] {
  const out: SourceQueue[] = [];
  for (const qd of route.queueDatas) {
    if ((qd.perm & PERM_READ) === 0) continue;
    const b = route.brokerDatas.find((x) => x.brokerName === qd.brokerName);
    const address = b && masterAddress(b);
    if (!address) continue;
    for (let q = 0; q < qd.readQueueNums; q++) out.push({ topic, brokerName: qd.brokerName, address, queueId: q });
  }
  return out.sort(byQueueThenBroker);
}

export interface TargetQueue {
  brokerName: string;
  address: string;
  queueId: number;
}

/** Writable queues of the target topic in mapping order (byQueueThenBroker); empty when the topic is not writable. */
export function writableQueues(route: TopicRoute): TargetQueue[] {
  const out: TargetQueue[] = [];
  for (const qd of route.queueDatas) {
    if ((qd.perm & PERM_WRITE) === 0) continue;
    const b = route.brokerDatas.find((x) => x.brokerName === qd.brokerName);
    const address = b && masterAddress(b);
    if (!address) continue;
    for (let q = 0; q < qd.writeQueueNums; q++) out.push({ brokerName: qd.brokerName, address, queueId: q });
  }
  return out.sort(byQueueThenBroker);
}

/**
 * Source queue i (its position in readableQueues order) goes to target queue i mod n (writableQueues
 * order). Each source queue has one target queue, so its order holds there; with equal layouts (as
 * many brokers, the same counts) queue q of the k-th broker lands on queue q of the k-th target broker;
 * target queues get ⌊m/n⌋ or ⌈m/n⌉ of the m source queues, and fewer source queues than target
 * ones take the first positions, which alternate between the target's brokers.
 */
export function targetFor(sourceIndex: number, targets: readonly TargetQueue[]): TargetQueue | undefined {
  return targets.length ? targets[sourceIndex % targets.length] : undefined;
}

/**
 * Every queue of every `wanted` topic (replicated-topics.ts) on the source side of a flow. One topic-config read per
 * master broker serves thousands of topics; where a cluster refuses that (an account without the
 * right, a managed endpoint) the routes are asked topic by topic.
 */
export async function listSourceQueues(
  source: ClusterConnection,
  wanted: (topic: string) => boolean,
): Promise<{ topic: string; queues: SourceQueue[] }[]> {
  try {
    return await queuesFromBrokers(source, wanted);
  } catch (err) {
    if (!(err instanceof RemotingResponseError || err instanceof UnsupportedOperationError)) throw err;
  }
  return queuesFromRoutes(source, wanted);
}

async function queuesFromBrokers(
  source: ClusterConnection,
  wanted: (t: string) => boolean,
): Promise<{ topic: string; queues: SourceQueue[] }[]> {
  const info = await source.nameServers.clusterInfo();
  const byTopic = new Map<string, SourceQueue[]>();
  const masters = Object.values(info.brokerAddrTable).flatMap((b) => {
    const address = masterAddress(b);
    return address ? [{ brokerName: b.brokerName, address }] : [];
  });
  const tables = await Promise.all(masters.map(async (m) => ({ ...m, configs: await source.admin.getAllTopicConfigs(m.address) })));
  for (const { brokerName, address, configs } of tables) {
    for (const [topic, cfg] of configs) {
      if ((cfg.perm & PERM_READ) === 0 || !wanted(topic)) continue;
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      for (let q = 0; q < cfg.readQueueNums; q++) list.push({ topic, brokerName, address, queueId: q });
    }
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, queues: byTopic.get(topic)!.sort(byQueueThenBroker) }));
}

async function queuesFromRoutes(
  source: ClusterConnection,
  wanted: (t: string) => boolean,
): Promise<{ topic: string; queues: SourceQueue[] }[]> {
  const names = (await source.nameServers.topicList()).filter(wanted).sort();
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
