// A consumer group's offsets and connections on one broker: what offset translation reads and writes.
// Request headers follow QueryConsumerOffsetRequestHeader, UpdateConsumerOffsetRequestHeader,
// GetConsumerConnectionListRequestHeader and GetConsumeStatsRequestHeader of rocketmq-all-4.9.7 and 5.3.3.
import type { RemotingClient } from './client.ts';
import { RemotingError, RemotingResponseError, ResponseCode } from './errors.ts';
import { asObject, isObject, num, parseJson, str } from './admin-json.ts';
import { RequestCode } from './request-codes.ts';

type Invoker = Pick<RemotingClient, 'invoke'>;

export interface GroupQueueOffset {
  topic: string;
  brokerName: string;
  queueId: number;
  /** The group's committed offset: the next message it consumes (0 when it has none there). */
  consumerOffset: number;
  /** The queue's max offset. */
  brokerOffset: number;
}

export class ConsumerOffsetClient {
  constructor(
    private readonly remoting: Invoker,
    private readonly timeoutMs = 10_000,
  ) {}

  /**
   * Committed offsets of the group on this broker, for every topic it has committed on (topic empty:
   * the broker's ConsumerOffsetManager.whichTopicByConsumer). Queues without a commit show 0.
   */
  async consumeStats(brokerAddr: string, group: string): Promise<GroupQueueOffset[]> {
    const res = await this.remoting.invoke(brokerAddr, RequestCode.GET_CONSUME_STATS, { consumerGroup: group, topic: '' }, undefined, {
      timeoutMs: this.timeoutMs,
    });
    return parseConsumeStats(res.body?.toString('utf8') ?? '');
  }

  /** The group's committed offset of one queue; -1 when it has none. */
  async queryOffset(brokerAddr: string, group: string, topic: string, queueId: number): Promise<number> {
    const res = await this.remoting.invoke(
      brokerAddr,
      RequestCode.QUERY_CONSUMER_OFFSET,
      { consumerGroup: group, topic, queueId: String(queueId) },
      undefined,
      { timeoutMs: this.timeoutMs, accept: [ResponseCode.QUERY_NOT_FOUND] },
    );
    if (res.code === ResponseCode.QUERY_NOT_FOUND) return -1;
    const offset = num(res.extFields?.offset);
    if (offset === undefined) throw new RemotingError(`QUERY_CONSUMER_OFFSET from ${brokerAddr}: no offset in the answer`);
    return offset;
  }

  /** Commits the group's offset of one queue (the broker keeps whatever it is told: callers guard against moving back). */
  async updateOffset(brokerAddr: string, group: string, topic: string, queueId: number, offset: number): Promise<void> {
    await this.remoting.invoke(
      brokerAddr,
      RequestCode.UPDATE_CONSUMER_OFFSET,
      { consumerGroup: group, topic, queueId: String(queueId), commitOffset: String(offset) },
      undefined,
      { timeoutMs: this.timeoutMs },
    );
  }

  /** How many clients of the group are connected to this broker now (0 when the group is not online). */
  async onlineConsumers(brokerAddr: string, group: string): Promise<number> {
    try {
      const res = await this.remoting.invoke(brokerAddr, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: group }, undefined, {
        timeoutMs: this.timeoutMs,
      });
      const body = asObject(parseJson(res.body?.toString('utf8') ?? '{}', 'ConsumerConnection'), 'ConsumerConnection');
      return Array.isArray(body.connectionSet) ? body.connectionSet.length : 0;
    } catch (err) {
      if (err instanceof RemotingResponseError && err.responseCode === ResponseCode.CONSUMER_NOT_ONLINE) return 0;
      throw err;
    }
  }
}

/**
 * ConsumeStats as fastjson writes it: offsetTable is a map keyed by MessageQueue OBJECTS
 * (`{{"brokerName":"b","queueId":0,"topic":"t"}:{"brokerOffset":9,…}}`), which no JSON parser takes;
 * each key object and its value object hold no nested braces, so they are read pair by pair.
 */
export function parseConsumeStats(text: string): GroupQueueOffset[] {
  const out: GroupQueueOffset[] = [];
  const table = text.indexOf('"offsetTable"');
  if (table < 0) return out;
  const entry = /\{([^{}]*)\}\s*:\s*\{([^{}]*)\}/g;
  entry.lastIndex = table;
  for (let m = entry.exec(text); m; m = entry.exec(text)) {
    const key = parseJson(`{${m[1]}}`, 'ConsumeStats queue');
    const value = parseJson(`{${m[2]}}`, 'ConsumeStats offsets');
    if (!isObject(key) || !isObject(value)) continue;
    const topic = str(key.topic);
    const brokerName = str(key.brokerName);
    const queueId = num(key.queueId);
    if (topic === undefined || brokerName === undefined || queueId === undefined) continue;
    out.push({ topic, brokerName, queueId, consumerOffset: num(value.consumerOffset) ?? 0, brokerOffset: num(value.brokerOffset) ?? 0 });
  }
  return out;
}
